"""The matrix view: one labelled heatmap (head, combination, rollout, difference)."""

from __future__ import annotations

import cmap
import numpy as np
import pytest
from conftest import SVG_NS, by_id, paint, parse
from invariants import violations
from models import attention
from scenes import grid, rects, texts

from svgattn import Diagram
from svgattn.analysis.combine import rollout
from svgattn.sources import from_array

THEMES = ["light", "dark", "paper"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", [None, "icml", "neurips"])
def test_real_attention_lays_out_cleanly(theme, width):
    d = Diagram.from_attention(attention(), view="matrix", theme=theme, width=width, layer=2)
    scene = d.scene()
    assert violations(scene) == []
    g = grid(scene)
    assert g.index.shape == (13, 13) and g.cell_w == pytest.approx(g.cell_h)
    assert [t.label.text for t in texts(scene, "row-label")][:3] == ["[CLS]", "the", "cat"]
    if width:
        assert scene.width == pytest.approx({"icml": 234, "neurips": 396}[width])


def test_cross_attention_is_rectangular():
    w = np.random.default_rng(0).random((3, 5))
    d = Diagram(query_tokens=list("abc"), key_tokens=list("VWXYZ"), weights=w, view="matrix")
    g = grid(d.scene())
    assert g.index.shape == (3, 5)
    assert [t.label.text for t in texts(d.scene(), "col-label")] == list("VWXYZ")


def _fills(svg: str) -> dict[tuple[int, int], str]:
    """Each cell's fill, read from the SVG (cells are rects with tooltips up to 64x64)."""
    root = parse(svg)
    cells = [el for el in by_id(root)["matrix"] if el.tag == f"{SVG_NS}rect"]
    xs = sorted({float(el.get("x")) for el in cells})
    ys = sorted({float(el.get("y")) for el in cells})
    return {(ys.index(float(el.get("y"))), xs.index(float(el.get("x")))):
            paint(el)["fill"] for el in cells}


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def test_sink_column_saturates_and_the_rest_uses_the_whole_map():
    """[CLS] takes most attention: the colour scale ignores its column, so the other cells
    span the whole map; the cells read back equal the weights through the named map."""
    rng = np.random.default_rng(1)
    w = rng.random((4, 4)) * 0.1
    w[:, 0] = 0.9
    tokens = ["[CLS]", "a", "b", "c"]
    d = Diagram.from_attention(from_array(w, tokens), view="matrix", colormap="magma")
    fills = _fills(d.to_svg())
    lut = cmap.Colormap("bids:magma").lut(256)
    top = w[:, 1:].max()
    for (r, c), fill in fills.items():
        want = lut[min(255, round(min(w[r, c] / top, 1) * 255))]
        assert np.abs(_rgb(fill) - want[:3]).max() <= 1.5 / 255, (r, c)
    captions = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert "ignores the sink column" in captions


def test_log_norm_spaces_ticks_by_decades():
    w = np.array([[1e-3, 1e-2], [1e-1, 1.0]])
    d = Diagram(["a", "b"], w, view="matrix", norm="log", vmin=1e-3)
    scene = d.scene()
    ticks = [t for t in texts(scene, "tick-label")]
    values = [float(t.label.text) for t in ticks]
    assert values == [0.001, 0.01, 0.1, 1.0]
    ys = [t.bbox.centre_y for t in ticks]
    gaps = np.diff(ys)
    assert np.allclose(gaps, gaps[0], atol=0.5)  # equal steps per decade
    g = grid(scene)
    assert sorted(g.index.ravel().tolist()) == [0, 85, 170, 255]


def test_a_difference_is_diverging_and_centred_on_zero():
    w = np.zeros((2, 3, 3, 3))
    w[1, 0] = np.eye(3) * 0.6 + 0.1
    w[0, 0] = np.full((3, 3), 1 / 3)
    att = from_array(w, ["a", "b", "c"])
    d = Diagram.from_attention(att, view="matrix", layer=1, minus_layer=0, heads="0")
    assert d.data.signed
    np.testing.assert_allclose(d.data.matrix, w[1, 0] - w[0, 0])
    scene = d.scene()
    g = grid(scene)
    zero = np.argwhere(np.isclose(d.data.matrix, 0.0))
    mid = len(g.colours) // 2
    for r, c in zero:
        assert abs(int(g.index[r, c]) - mid) <= 1
    ticks = [float(t.label.text) for t in texts(scene, "tick-label")]
    assert min(ticks) < 0 < max(ticks) and -min(ticks) == pytest.approx(max(ticks))


def test_rollout_is_the_residual_adjusted_product_of_layers():
    att = attention()
    d = Diagram.from_attention(att, view="matrix", combine="rollout")
    w = np.asarray(att.weights, dtype=np.float64)
    expected = np.eye(w.shape[-1])
    for layer in w:
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(w.shape[-1])
        a /= a.sum(axis=-1, keepdims=True)
        expected = a @ expected
    np.testing.assert_allclose(d.data.matrix, expected, atol=1e-9)
    np.testing.assert_allclose(rollout(w), expected, atol=1e-12)
    np.testing.assert_allclose(d.data.matrix.sum(axis=1), 1.0, atol=1e-9)
    assert "rollout" in d.data.matrix_caption and "L0 to L5" in d.data.matrix_caption


def test_every_head_is_the_default_and_a_range_selects():
    att = attention()
    everything = Diagram.from_attention(att, view="matrix", layer=2)
    np.testing.assert_allclose(everything.data.matrix,
                               np.asarray(att.weights[2], dtype=np.float64).mean(axis=0))
    ranged = Diagram.from_attention(att, view="matrix", layer=2, heads="0-3")
    assert [h.name for h in ranged.data.heads] == ["L2 H0", "L2 H1", "L2 H2", "L2 H3"]


def test_tooltips_name_query_key_and_weight():
    d = Diagram(["x", "y"], np.array([[0.25, 0.75], [1.0, 0.0]]), view="matrix")
    root = parse(d.to_svg())
    titles = [el.find(f"{SVG_NS}title").text for el in by_id(root)["matrix"]
              if el.tag == f"{SVG_NS}rect"]
    assert titles == ["x \u2192 x: 0.25", "x \u2192 y: 0.75", "y \u2192 x: 1", "y \u2192 y: 0"]
    assert not rects(d.scene(), "head")  # no heads in the matrix view


def test_fitting_a_long_matrix_never_tries_a_cell_too_wide(monkeypatch):
    """A matrix of n columns is at least n cells wide: fitting it to a width never lays it
    out (every label measured and placed) at a cell that cannot fit."""
    import svgattn.views.matrix as view

    tried: list[float] = []
    real = view.matrix_panel

    def spy(ctx, values, scale, cell_w, spec):
        tried.append(cell_w)
        return real(ctx, values, scale, cell_w, spec)

    monkeypatch.setattr(view, "matrix_panel", spy)
    n = 512
    w = np.random.default_rng(1).random((n, n))
    d = Diagram.from_attention(from_array(w / w.sum(1, keepdims=True),
                                          [f"w{i}" for i in range(n)]),
                               view="matrix", width="6.5in")
    scene = d.scene()
    room = 6.5 * 72 - 2 * d.theme["figure.margin"]
    assert tried and max(tried) <= room / n + 1e-9
    assert scene.width == pytest.approx(6.5 * 72)
    assert grid(scene).cell_w * n < room
