"""The profile view (a number per head, layer by layer) and inputs averaged position by
position (the matrix and grid views): numbers checked against the weights, positions
against the axes."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from svgattn import Diagram
from svgattn.errors import SpecError
from svgattn.sources.arrays import from_array

SVG = "{http://www.w3.org/2000/svg}"
TOKENS = ["[CLS]", "the", "cat", ",", "sat", ".", "[SEP]"]


def _attention(seed: int, tokens: list[str] = TOKENS) -> object:
    rng = np.random.default_rng(seed)
    n = len(tokens)
    return from_array(rng.dirichlet(np.ones(n), size=(3, 4, n)), tokens)


def _rows(d: Diagram) -> list[list[str]]:
    return list(csv.reader(io.StringIO(d.to_csv().decode())))


def test_token_shares_per_head_and_layer_means() -> None:
    att = _attention(0)
    d = Diagram.from_attention(att, view="profile", to="[SEP] ,")
    rows = _rows(d)[1:]
    w = np.asarray(att.weights)
    for series, key in (('to [SEP]', 6), ('to ","', 3)):
        for r in range(3):
            for h in range(4):
                found = next(float(x[3]) for x in rows
                             if x[:3] == [series, f"L{r}", f"H{h}"])
                assert found == pytest.approx(w[r, h, :, key].mean(), rel=1e-12)
            mean = next(float(x[3]) for x in rows if x[:3] == [series, f"L{r}", "mean"])
            assert mean == pytest.approx(w[r, :, :, key].mean(), rel=1e-12)


def test_dots_and_lines_sit_on_their_values() -> None:
    att = _attention(1)
    svg = Diagram.from_attention(att, view="profile", to=["[CLS]"], layers="0-2").to_svg()
    root = ET.fromstring(svg)
    axis = next(p for p in root.iter(f"{SVG}path") if p.get("id", "").endswith("axis-0"))
    (x0, top), (_, bottom), (right, _) = [tuple(map(float, m)) for m in re.findall(
        r"([\d.]+) ([\d.]+)", axis.get("d"))]
    w = np.asarray(att.weights)
    dots = [r for r in root.iter(f"{SVG}rect") if "head-dot" in r.get("class", "")]
    assert len(dots) == 3 * 4
    for dot in dots:
        layer, head = map(int, re.search(r"L(\d+) H(\d+)", dot.find(f"{SVG}title").text).groups())
        cy = float(dot.get("y")) + float(dot.get("height")) / 2
        expected = bottom - (bottom - top) * w[layer, head, :, 0].mean()  # axis 0..1
        assert cy == pytest.approx(expected, abs=0.02)
        cx = float(dot.get("x")) + float(dot.get("width")) / 2
        assert cx == pytest.approx(x0 + (layer + 0.5) * (right - x0) / 3, abs=0.02)


def test_scores_many_inputs_and_errors() -> None:
    a, b = _attention(2), _attention(3)
    one = _rows(Diagram.from_attention(a, view="profile", score="self"))
    two = _rows(Diagram.from_attention(b, view="profile", score="self"))
    both = _rows(Diagram.from_attention([a, b], view="profile", score="self"))
    for x, y, z in zip(one[1:], two[1:], both[1:], strict=True):
        assert float(z[3]) == pytest.approx((float(x[3]) + float(y[3])) / 2)
    with pytest.raises(SpecError, match="to: 'dog' is not a token"):
        Diagram.from_attention(a, view="profile", to="dog").to_svg()
    with pytest.raises(SpecError, match="profile view reads every layer"):
        Diagram.from_attention(a, view="profile", layer=1)


def test_matrix_and_grid_average_inputs_of_one_length() -> None:
    a, b = _attention(4), _attention(5, ["x"] * 7)
    d = Diagram.from_attention([a, b], view="matrix", layer=2, heads=[1])
    expected = (np.asarray(a.weights)[2, 1] + np.asarray(b.weights)[2, 1]) / 2
    np.testing.assert_allclose(d.data.matrix, expected, rtol=1e-12)
    assert d.data.query_labels == tuple(str(i) for i in range(7))  # tokens differ: positions
    svg = d.to_svg()
    assert "Mean over 2 inputs of 7 tokens, position by position" in svg
    g = Diagram.from_attention([a, a], view="grid", layers="0-1")
    np.testing.assert_allclose(g.data.stack_of(1, 3), np.asarray(a.weights)[1, 3], rtol=1e-12)
    assert g.data.query_labels[1] == "the"  # the same tokens: kept
    with pytest.raises(SpecError, match="different lengths"):
        Diagram.from_attention([a, _attention(6, TOKENS[:5])], view="matrix")
    with pytest.raises(SpecError, match="the text view draws one input"):
        Diagram.from_attention([a, b], view="text")


def test_a_token_some_inputs_lack_is_averaged_over_those_that_have_it() -> None:
    a, b = _attention(7), _attention(8, ["x"] * 7)  # only a has ","
    rows = _rows(Diagram.from_attention([a, b], view="profile", to=",", layers="0"))
    w = np.asarray(a.weights)
    h0 = next(float(r[3]) for r in rows[1:] if r[1:3] == ["L0", "H0"])
    assert h0 == pytest.approx(w[0, 0, :, 3].mean(), rel=1e-12)  # not halved by b
    svg = Diagram.from_attention([a, b], view="profile", to=",", layers="0").to_svg()
    assert "over the 1 input that holds it" in svg
    root = ET.fromstring(svg)  # one layer: its mean still drawn, as a short bar
    assert any("mean" in p.get("class", "") and p.get("d", "").count("L") == 1
               for p in root.iter(f"{SVG}path"))
