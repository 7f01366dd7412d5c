"""Every view writes the numbers it draws (-o FILE.csv, Diagram.to_csv), in its documented
layout, and they agree with the input: matrix-like views wide, lines a row per line drawn,
the grid long form with layer and head, the text view a token and its value; a window or a
pooling is stated in the header, never applied silently."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pytest

from svgattn import Diagram
from svgattn.sources import from_array
from svgattn.views.base import View
from svgattn.views.registry import builtin_names, get

TOKENS = ["The", "cat", "sat", "=on", "the", "mat"]


def _attention(layers: int = 2, heads: int = 3, n: int = len(TOKENS), seed: int = 0,
               causal: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, n, n))
    if causal:
        w *= np.tril(np.ones((n, n)))
    return w / w.sum(axis=-1, keepdims=True)


def _rows(d: Diagram) -> list[list[str]]:
    return list(csv.reader(io.StringIO(d.to_csv().decode("utf-8"))))


def test_every_builtin_view_writes_its_numbers():
    assert all(type(get(n)).numbers is not View.numbers for n in builtin_names())


def test_the_matrix_is_written_wide_as_drawn():
    w = _attention()
    d = Diagram.from_attention(from_array(w, TOKENS), view="matrix", layer=1, heads="0,2")
    rows = _rows(d)
    # a token a spreadsheet would run as a formula is quoted; the number never is
    assert rows[0] == ["query", "The", "cat", "sat", "'=on", "the", "mat"]
    shown = w[1, [0, 2]].mean(axis=0)
    for i, row in enumerate(rows[1:]):
        assert row[0] == ["The", "cat", "sat", "'=on", "the", "mat"][i]
        # float64 weights, averaged here in the same order: equal to the last bits
        np.testing.assert_allclose([float(v) for v in row[1:]], shown[i], rtol=1e-12)


def test_the_flow_matrix_and_its_per_head_panels():
    w = _attention()
    att = from_array(w, TOKENS)
    combined = _rows(Diagram.from_attention(att, view="flow", heads="all"))
    np.testing.assert_allclose([[float(v) for v in r[1:]] for r in combined[1:]],
                               w[-1].mean(axis=0), rtol=1e-12)
    per_head = _rows(Diagram.from_attention(att, view="flow", heads="0,1",
                                            matrices="heads"))
    assert per_head[0][:2] == ["head", "query"] and len(per_head) == 1 + 2 * len(TOKENS)
    for k, row in enumerate(per_head[1:]):
        head, i = divmod(k, len(TOKENS))
        assert row[0] == f"L1 H{head}" and row[1] == per_head[1 + i][1]
        np.testing.assert_allclose([float(v) for v in row[2:]], w[1, head, i], rtol=0)


def test_a_pooled_or_windowed_matrix_says_so_in_its_header():
    w = _attention(1, 1, 32)
    tokens = [f"t{i}" for i in range(32)]
    pooled = _rows(Diagram.from_attention(from_array(w, tokens), view="matrix", pool="max:4"))
    assert pooled[0][0] == "query (max over 4 x 4 token blocks)" and len(pooled) == 1 + 8
    top_left = float(pooled[1][1])
    assert top_left == pytest.approx(w[0, 0, :4, :4].max(), rel=1e-12)
    window = _rows(Diagram.from_attention(from_array(w, tokens), view="matrix",
                                          window="8:16"))
    assert window[0][0] == "query (tokens 8\u201315 of 32)" and window[0][1:] == tokens[8:16]
    np.testing.assert_allclose([float(v) for v in window[1][1:]], w[0, 0, 8, 8:16], rtol=0)


def test_lines_are_a_row_per_line_drawn():
    w = _attention(1, 2)
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", threshold=0.5)
    rows = _rows(d)
    assert rows[0] == ["head (lines of at least 0.5 x the head's strongest)", "query",
                       "query_token", "key", "key_token", "weight"]
    drawn = {(r[0], int(r[1]), int(r[3])) for r in rows[1:]}
    for h in range(2):
        strongest = w[0, h].max()
        expected = {(f"L0 H{h}", int(i), int(j))
                    for i, j in zip(*np.nonzero(w[0, h] >= 0.5 * strongest), strict=True)}
        assert {x for x in drawn if x[0] == f"L0 H{h}"} == expected
    for r in rows[1:]:
        assert float(r[5]) == w[0, int(r[0][-1]), int(r[1]), int(r[3])]
        assert r[2] == ["The", "cat", "sat", "'=on", "the", "mat"][int(r[1])]


def test_the_grid_is_long_form_with_layer_and_head():
    w = _attention(2, 3)
    rows = _rows(Diagram.from_attention(from_array(w, TOKENS), view="grid"))
    assert rows[0] == ["layer", "head", "query", "query_token", "key", "key_token", "weight"]
    assert len(rows) == 1 + 2 * 3 * len(TOKENS) ** 2
    for r in rows[1:]:
        layer, head = int(r[0][1:]), int(r[1][1:])
        assert float(r[6]) == w[layer, head, int(r[2]), int(r[4])]


def test_the_text_view_writes_each_token_and_its_shade():
    w = _attention(1, 2)
    focused = _rows(Diagram.from_attention(from_array(w, TOKENS), view="text", focus="sat"))
    assert focused[0][:2] == ["position", "token"]
    assert focused[0][2].startswith("value (attention from 'sat' to each token")
    np.testing.assert_allclose([float(r[2]) for r in focused[1:]], w[0, :, 2].mean(axis=0),
                               rtol=1e-12)
    total = _rows(Diagram.from_attention(from_array(w, TOKENS), view="text"))
    np.testing.assert_allclose([float(r[2]) for r in total[1:]],
                               w[0].mean(axis=0).mean(axis=0), rtol=1e-12)


def test_the_command_line_writes_csv_and_checks_the_view_first(tmp_path):
    w = _attention()
    path = tmp_path / "a.npz"
    np.savez(path, attentions=w, tokens=np.array(TOKENS))
    for view in ("matrix", "flow", "lines", "grid", "text", "heads"):
        out = tmp_path / f"{view}.csv"
        run = subprocess.run([sys.executable, "-m", "svgattn", "render", str(path), "--view",
                              view, "-o", str(out)], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        assert out.read_text(encoding="utf-8").count("\n") > 1
