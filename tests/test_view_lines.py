"""The lines view (BertViz's head view): one panel per head, each head's strongest line at
its colour's full strength, opacities from the weights, sinks left out, focus, hover."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from conftest import SVG_NS, by_id, local_classes, paint, parse
from invariants import violations
from models import attention
from scenes import paths, rects, texts

from svgattn import Diagram, load_theme
from svgattn.sources import from_array

TOKENS = ["a", "b", "c", "d"]


def _weights() -> np.ndarray:
    rng = np.random.default_rng(4)
    w = rng.random((1, 2, 4, 4)) ** 3
    return w / w.sum(axis=-1, keepdims=True)


def _opacities(d: Diagram) -> dict[tuple[int, int, int], float]:
    """Every line's opacity, read back from the SVG's presentation attributes."""
    root = parse(d.to_svg())
    out = {}
    for key, el in by_id(root).items():
        m = re.fullmatch(r"line-(\d+)-(\d+)-(\d+)", key)
        if m:
            out[tuple(map(int, m.groups()))] = float(paint(el).get("opacity", 1))
    return out


@pytest.mark.parametrize("theme", ["light", "dark", "paper"])
def test_real_attention_lays_out_cleanly_one_panel_per_head(theme):
    d = Diagram.from_attention(attention(), view="lines", theme=theme, layer=2)
    scene = d.scene()
    assert violations(scene) == []
    heads = 4  # the four most focused, by default
    titles = texts(scene, "panel-title")
    assert len({t.id.split("-")[2] for t in titles}) == heads
    assert {t.style.fill for t in titles} == set(load_theme(theme)["colors.heads"][:heads])
    # token columns between the panels: the first lists queries, the others keys
    assert len(texts(scene, "query-label")) == 13
    assert len(texts(scene, "key-label")) == 13 * heads
    for line in paths(scene, "target"):  # each head's lines in its own panel
        h = int(line.id.split("-")[1])
        assert line.style.stroke == load_theme(theme)["colors.heads"][h]
    assert not rects(scene, "head-key")  # the titles name the panels


def test_each_heads_strongest_line_is_its_colour_at_full_strength():
    """Opacity = weight / the head's own strongest weight (sinks aside), times the
    theme's full opacity (1: the legend's colour itself); heads never share the ink."""
    w = _weights()
    found = _opacities(Diagram.from_attention(from_array(w, TOKENS), view="lines",
                                              threshold=0))
    full = load_theme("light")["lines.opacity"]
    assert full == 1.0
    for (h, i, j), opacity in found.items():
        assert opacity == pytest.approx(full * w[0, h, i, j] / w[0, h].max(), abs=1e-3)
    for h in range(2):
        assert max(o for (g, _, _), o in found.items() if g == h) == pytest.approx(1.0)
    assert len(found) == np.count_nonzero(w >= 1e-12)


def test_overlay_draws_every_head_between_one_pair_of_columns():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", overlay=True, threshold=0)
    scene = d.scene()
    assert not texts(scene, "panel-title")
    assert len(texts(scene, "query-label")) == 4 and len(texts(scene, "key-label")) == 4
    assert len(rects(scene, "head-key")) == 2  # a key of head colours instead
    xs = {p.points[0][0] for p in paths(scene, "target")}
    assert len(xs) == 1  # every line starts at the one query column


def test_lines_to_sinks_are_left_out_and_said():
    att = attention()
    d = Diagram.from_attention(att, view="lines", layer=2, heads="0,1")
    sinks = set(d.data.sinks)
    assert sinks
    for line in paths(d.scene(), "target"):
        assert int(line.id.split("-")[3]) not in sinks
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert "Lines to the sink columns ([CLS], [SEP]) are not drawn" in caption
    kept = Diagram.from_attention(att, view="lines", layer=2, heads="0,1", keep_sinks=True)
    assert any(int(p.id.split("-")[3]) in sinks for p in paths(kept.scene(), "target"))


def test_threshold_drops_faint_lines_per_head():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", threshold=0.2)
    lines = paths(d.scene(), "target")
    assert len(lines) == sum(np.count_nonzero(w[0, h] >= 0.2 * w[0, h].max()) for h in range(2))
    for line in lines:
        (x0, _), (x1, _) = line.points
        assert x0 < x1  # queries on the left of a panel, keys on its right


def test_focus_shows_one_query_token_only():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", focus="c", threshold=0)
    scene = d.scene()
    rows = {int(p.id.split("-")[2]) for p in paths(scene, "target")}
    assert rows == {2}
    focus = next(t for t in texts(scene, "query-label") if t.label.text == "c")
    assert focus.style.weight == "bold" and focus.owner == "focus"
    assert violations(scene) == []


def test_width_encoding_and_hover_that_never_raises_a_line():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", encode="width",
                               threshold=0)
    widths = [p.style.stroke_width for p in paths(d.scene(), "target")]
    assert max(widths) > 3 * min(w for w in widths if w > 0)
    root = parse(d.to_svg())
    groups = [el for key, el in by_id(root).items() if "-query-" in key]
    assert len(groups) == 8 and all("item" in local_classes(g, root) for g in groups)
    css = root.find(f"{SVG_NS}style").text
    assert ":not(:hover) { opacity: 0.2; }" in css and "opacity: 1;" not in css
    assert not any(el.tag == f"{SVG_NS}script" for el in root.iter())


def test_top_keeps_each_heads_strongest_lines_and_lists_their_tokens():
    """--top K (any length; automatic above 48 tokens): K lines per head, the strongest
    outside sink columns, and only the tokens they join, each with its position."""
    att = attention()
    d = Diagram.from_attention(att, view="lines", layer=2, heads="0,1", top=2)
    scene = d.scene()
    lines = paths(scene, "target")
    heads = [int(p.id.split("-")[1]) for p in lines]
    assert 1 <= len(lines) <= 4 and heads.count(0) <= 2 and heads.count(1) <= 2
    sinks = set(d.data.sinks)
    for p in lines:
        _, h, i, j = p.id.split("-")
        w = d.data.heads[int(h)].weights
        kept = np.delete(w, list(sinks), axis=1) if sinks else w
        assert w[int(i), int(j)] >= np.sort(kept.ravel())[-2] - 1e-12  # among its top 2
    joined = {int(p.id.split("-")[k]) for p in lines for k in (2, 3)}
    listed = texts(scene, "query-label")
    assert {int(t.id.split("-")[-1]) for t in listed} == joined
    for t in listed:
        assert t.label.text.endswith(f" \u00b7{t.id.split('-')[-1]}")  # with its position
    assert "The 2 strongest lines of each head" in " ".join(
        t.label.text for t in texts(scene, "caption"))


def test_a_long_token_list_closes_up_to_fit_a_page():
    """Many heads' strongest lines list many tokens: the rows close up so the list fits a
    page's height (8.5 in), never closer than a line of type, labels never overlapping."""
    from svgattn.layout.frame import PAGE

    rng = np.random.default_rng(3)
    n = 600
    w = np.tril(rng.random((8, n, n)))
    for h in range(8):  # 16 strong pairs a head, spread over the sequence
        for i in rng.choice(np.arange(50, n), 16, replace=False):
            w[h, i, rng.integers(1, i)] = 4 * w[h, i].sum()
    w /= w.sum(axis=-1, keepdims=True)
    d = Diagram.from_attention(from_array(w, [f"t{i}" for i in range(n)]), view="lines",
                               width="6.5in", theme="paper", heads="all", top=4)
    scene = d.scene()
    labels = sorted(texts(scene, "query-label"), key=lambda t: t.y)
    assert len(labels) > 40  # more than a page at the theme's own row pitch
    assert labels[-1].y - labels[0].y <= PAGE
    assert all(a.bbox.bottom <= b.bbox.y + 1e-6 for a, b in itertools.pairwise(labels))
    assert violations(scene) == []
