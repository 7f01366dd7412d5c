"""The grid view (BertViz's model view): layers x heads small multiples, one scale."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import violations
from models import attention
from scenes import grids, rects, texts

from svgattn import Diagram
from svgattn.scene import Group
from svgattn.sources import from_array


@pytest.mark.parametrize("theme", ["light", "dark", "paper"])
def test_every_layer_and_head_of_minilm(theme):
    d = Diagram.from_attention(attention(), view="grid", theme=theme)
    scene = d.scene()
    assert violations(scene) == []
    thumbs = grids(scene)
    assert len(thumbs) == 6 * 12
    assert [t.label.text for t in texts(scene, "row-header")] == [f"L{i}" for i in range(6)]
    assert [t.label.text for t in texts(scene, "column-header")] == [f"H{i}" for i in range(12)]
    assert len(rects(scene, "colorbar")) == 1  # one shared colour bar
    # thumbnails line up: one x per column, one y per row
    assert len({g.x for g in thumbs}) == 12 and len({g.y for g in thumbs}) == 6


def test_one_colour_scale_for_every_thumbnail():
    w = np.zeros((2, 2, 3, 3))
    w[0, 0] = np.eye(3) * 0.9
    w[1, 1] = np.eye(3) * 0.3
    scene = Diagram.from_attention(from_array(w, list("abc")), view="grid").scene()
    by_id = {g.id: g for g in grids(scene)}
    strong, weak = by_id["thumb-0-0"], by_id["thumb-1-1"]
    assert strong.colours[int(strong.index[0, 0])] != weak.colours[int(weak.index[0, 0])]
    top = len(strong.colours) - 1 - strong.masked  # a diagonal is causal: masked is last
    assert int(strong.index[0, 0]) == top  # 0.9 is the top
    assert int(weak.index[0, 0]) < top // 2  # 0.3 of 0.9


def test_a_subset_sized_to_a_page():
    d = Diagram.from_attention(attention(), view="grid", layers="1-2", heads="0,5,7",
                               width="neurips")
    scene = d.scene()
    assert scene.width == pytest.approx(396)
    assert len(grids(scene)) == 6
    assert [t.label.text for t in texts(scene, "column-header")] == ["H0", "H5", "H7"]
    assert violations(scene) == []


def test_lines_thumbnails():
    d = Diagram.from_attention(attention(), view="grid", thumbnail="lines", layers="0-1",
                               heads="0-2")
    scene = d.scene()
    assert not grids(scene)
    groups = [n for n in scene.walk() if isinstance(n, Group) and n.role == "thumbnail"]
    assert len(groups) == 6 and all(g.title for g in groups)
    assert violations(scene) == []


def _thumb_positions(scene):
    return {g.id.removeprefix("thumb-"): (g.x, g.y) for g in grids(scene)}


def test_one_layer_of_many_heads_wraps_to_the_page():
    """1 x 12 heads is drawn 3 rows of 4, each thumbnail under its own head name, in
    reading order; the caption says how the heads run."""
    w = np.random.default_rng(0).dirichlet(np.ones(6), size=(1, 12, 6))
    d = Diagram.from_attention(from_array(w, list("abcdef")), view="grid")
    scene = d.scene()
    assert violations(scene) == []
    pos = _thumb_positions(scene)
    xs = sorted({x for x, _ in pos.values()})
    ys = sorted({y for _, y in pos.values()})
    assert len(xs) == 4 and len(ys) == 3
    for h in range(12):  # head h sits at row h // 4, column h % 4
        assert pos[f"0-{h}"] == (xs[h % 4], ys[h // 4])
    heads = texts(scene, "column-header")
    assert [t.label.text for t in heads] == [f"H{i}" for i in range(12)]
    for h, t in enumerate(heads):  # each name centred over its thumbnail, just above it
        x, y = pos[f"0-{h}"]
        side = xs[1] - xs[0]  # thumbnail and gap
        assert t.y < y < t.y + 2 * t.label.size
        assert x < t.x < x + side
    assert "heads H0\u2013H11, 4 a row" in " ".join(t.label.text for t in texts(scene, "caption"))


def test_many_layers_sit_in_blocks_side_by_side():
    """30 layers x 9 heads (SmolLM2) is two blocks of 15 layers: the page is filled
    across, layers run down the first block then the second, every layer named once."""
    w = np.random.default_rng(1).dirichlet(np.ones(5), size=(30, 9, 5))
    scene = Diagram.from_attention(from_array(w, list("abcde")), view="grid").scene()
    assert violations(scene) == []
    pos = _thumb_positions(scene)
    assert len(pos) == 270
    assert len({y for _, y in pos.values()}) == 15 and len({x for x, _ in pos.values()}) == 18
    assert pos["0-0"][1] == pos["15-0"][1] and pos["15-0"][0] > pos["0-8"][0]
    assert pos["14-0"][1] > pos["13-0"][1]
    assert [t.label.text for t in texts(scene, "row-header")] == [f"L{i}" for i in range(30)]
    assert [t.label.text for t in texts(scene, "column-header")] == [f"H{i}" for i in
                                                                       range(9)] * 2
    assert scene.width / scene.height > 1  # wide, like a page, not a 30-row tower
