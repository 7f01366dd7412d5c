from __future__ import annotations

import numpy as np
import pytest
from conftest import seed_weights

from svgattn import Diagram, SpecError
from svgattn.analysis.combine import combine
from svgattn.analysis.groups import find_groups, group_heads
from svgattn.analysis.tokens import clean, is_special, merge_spans, word_spans
from svgattn.scene import CellGrid, Rect


@pytest.mark.parametrize("raw, hidden, marked", [
    ("Ġcat", "cat", "·cat"), ("▁chat", "chat", "·chat"), ("##ing", "ing", "ing"),
    ("low</w>", "low", "low"), ("[CLS]", "[CLS]", "[CLS]"), ("Ġ", "␣", "␣"), ("ĊĊ", "↵↵", "↵↵"),
])
def test_token_labels(raw, hidden, marked):
    assert clean(raw) == hidden and clean(raw, "mark") == marked


def test_special_tokens():
    assert all(map(is_special, ["[CLS]", "[SEP]", "<s>", "</s>", "<|endoftext|>", "<pad>"]))
    assert not any(map(is_special, ["cls", "<", "the", "[x]"]))


@pytest.mark.parametrize("tokens, words", [
    (["[CLS]", "un", "##believ", "##able", "[SEP]"], [[0], [1, 2, 3], [4]]),
    (["The", "Ġcat", "s", "Ġsat", "."], [[0], [1, 2], [3], [4]]),
    (["▁Le", "▁chat", "on"], [[0], [1, 2]]),
    (["hel", "lo</w>", "world</w>"], [[0, 1], [2]]),
])
def test_word_spans(tokens, words):
    assert word_spans(tokens) == words


def test_merging_keeps_rows_stochastic():
    w = np.random.default_rng(0).random((2, 5, 5))
    w /= w.sum(-1, keepdims=True)
    spans = [[0], [1, 2, 3], [4]]
    merged = merge_spans(w, spans, spans)
    assert merged.shape == (2, 3, 3)
    np.testing.assert_allclose(merged.sum(-1), 1.0)
    np.testing.assert_allclose(merged[0, 1, 0], w[0, 1:4, 0].mean())  # mean over rows
    np.testing.assert_allclose(merged[0, 0, 1], w[0, 0, 1:4].sum())  # sum over columns


def test_seed_groups_are_the_two_cliques_in_their_heads_colours(seed_path):
    assert find_groups(seed_weights()) == [(0, 2), (2, 5)]
    assert group_heads((2, 5), [(0, 1), (2, 3, 4), (2, 3, 4)]) == [1, 2]
    d = Diagram.from_spec(seed_path, theme="light")
    d = Diagram(list(d.data.query_tokens), seed_weights(),
                [{"name": h.name, "tokens": list(h.links)} for h in d.data.heads], groups=True)
    palette = d.theme["colors.heads"]
    assert [(g.start, g.stop, g.heads) for g in d.data.groups] == [(0, 2, (0,)), (2, 5, (1, 2))]
    scene = d.scene()
    outlines = scene.find(Rect, "group")
    assert [o.style.stroke for o in outlines] == [palette[0], palette[1], palette[2]]
    grid = scene.find(CellGrid)[0]
    assert all(o.box.inside(grid.box) for o in outlines)


def test_no_groups_in_uniform_or_causal_attention():
    assert find_groups(np.full((6, 6), 1 / 6)) == []
    assert find_groups(np.tril(np.ones((6, 6)))) == []


def test_combine():
    w = np.arange(8, dtype=float).reshape(2, 2, 2)
    np.testing.assert_array_equal(combine(w, "max"), w[1])
    np.testing.assert_array_equal(combine(w, "sum"), w[0] + w[1])
    with pytest.raises(SpecError, match="combine: 'median'"):
        combine(w, "median")


def test_byte_level_bpe_tokens_decode():
    from svgattn.analysis.tokens import byte_level, clean, merged_label

    toks = ["æ³¨", "æĦı", "åĬĽ", "ĠÐŁ", "ÑĢÐ¸Ð²ÐµÑĤ", "Ġcat"]
    assert byte_level(toks) and not byte_level(["[CLS]", "the", "##s"])
    assert [clean(t, "hide", True) for t in toks] == ["注", "意", "力", "П", "ривет", "cat"]
    assert merged_label(toks, [3, 4], "mark", True) == "·Привет"
    assert clean("æ³", "hide", True) == "\ufffd"  # a partial character is marked, not mojibake


@pytest.mark.parametrize("values, kind", [
    (np.array([[0.0, 1.0], [1.0, 0.0]]), "binary"),  # only 0 and its maximum: two swatches
    (np.array([[0.0, 0.5], [1.0, 0.0]]), "sequential"),
    (np.array([[0.5, 0.5], [0.5, 0.5]]), "binary"),
])
def test_two_valued_data_is_binary_and_three_valued_is_not(values, kind):
    """The colour scale tells data that is only 0 and its maximum from graded data
    without listing every distinct value (a million of them cost 0.6 s at N = 1024)."""
    from svgattn.analysis.norm import _few
    from svgattn.analysis.scale import Settings, scale_for

    assert scale_for(values, Settings()).kind == kind
    many = np.random.default_rng(0).random(1_000_000)
    assert len(_few(many)) == 3 and _few(np.array([2.0, 2.0, 5.0])) == {2.0, 5.0}
    assert _few(np.array([])) == set()


def test_caption_numbers_are_never_in_exponent_form():
    from svgattn.captions import number

    assert [number(v) for v in (1090.4, 1290.24, 53.82, 0.000123, -2500.0)] == \
        ["1,090", "1,290", "53.8", "0.000123", "-2,500"]
