"""The lines view (BertViz's head view): opacities from weights, heads overlaid, focus."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import SVG_NS, by_id, local_classes, parse, styles
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


@pytest.mark.parametrize("theme", ["light", "dark", "paper"])
def test_real_attention_lays_out_cleanly(theme):
    d = Diagram.from_attention(attention(), view="lines", theme=theme, layer=2)
    scene = d.scene()
    assert violations(scene) == []
    assert len(texts(scene, "query-label")) == 13 and len(texts(scene, "key-label")) == 13
    # four heads by default (the most focused), each in its own colour, in the key
    assert len(texts(scene, "legend-label")) == 4
    assert len({r.style.fill for r in rects(scene, "head-key")}) == 4


def test_line_opacities_read_back_equal_the_weights():
    """Every line's opacity, read from the SVG's styles, is the weight over the strongest
    (non-sink) weight, times the theme's full opacity, shared by the overlaid heads."""
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", threshold=0)
    root = parse(d.to_svg())
    css = styles(root)
    full = load_theme("light")["lines.opacity"]
    vmax = w.max()
    count = 0
    for key, el in by_id(root).items():
        m = re.fullmatch(r"line-(\d+)-(\d+)-(\d+)", key)
        if not m:
            continue
        h, i, j = map(int, m.groups())
        klass = next(c for c in local_classes(el, root) if c in css)
        opacity = float(css[klass].get("opacity", 1))
        assert opacity == pytest.approx(full * w[0, h, i, j] / vmax / math.sqrt(2), abs=1e-3)
        count += 1
    assert count == np.count_nonzero(w >= 1e-12)


def test_threshold_drops_faint_lines_and_colours_follow_heads():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", threshold=0.2)
    scene = d.scene()
    lines = paths(scene, "target")
    assert len(lines) == np.count_nonzero(w >= 0.2 * w.max())
    palette = load_theme("light")["colors.heads"]
    for line in lines:
        head = int(line.id.split("-")[1])
        assert line.style.stroke == palette[head]
        (x0, _), (x1, _) = line.points
        assert x0 < x1  # query column on the left, keys on the right


def test_focus_shows_one_query_token_only():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", focus="c", threshold=0)
    scene = d.scene()
    rows = {int(p.id.split("-")[2]) for p in paths(scene, "target")}
    assert rows == {2}
    focus = next(t for t in texts(scene, "query-label") if t.label.text == "c")
    assert focus.style.weight == "bold" and focus.owner == "focus"
    assert violations(scene) == []


def test_width_encoding_and_hover_groups():
    w = _weights()
    d = Diagram.from_attention(from_array(w, TOKENS), view="lines", encode="width",
                               threshold=0)
    widths = [p.style.stroke_width for p in paths(d.scene(), "target")]
    assert max(widths) > 3 * min(w for w in widths if w > 0)
    root = parse(d.to_svg())
    groups = [el for key, el in by_id(root).items() if key.startswith("query-group-")]
    assert len(groups) == 4 and all("item" in local_classes(g, root) for g in groups)
    assert not any(el.tag == f"{SVG_NS}script" for el in root.iter())


def test_top_keeps_each_heads_strongest_lines_and_lists_their_tokens():
    """--top K (any length; automatic above 48 tokens): K lines per head, the strongest
    outside sink columns, and only the tokens they join, each with its position."""
    att = attention()
    d = Diagram.from_attention(att, view="lines", layer=2, heads="0,1", top=2)
    scene = d.scene()
    lines = paths(scene, "target")
    assert len(lines) <= 4
    heads = [int(p.id.split("-")[1]) for p in lines]
    assert heads.count(0) <= 2 and heads.count(1) <= 2
    sinks = set(d.data.sinks)
    for p in lines:
        _, h, i, j = p.id.split("-")
        w = d.data.heads[int(h)].weights
        kept = np.delete(w, list(sinks), axis=1) if sinks else w
        assert w[int(i), int(j)] >= np.sort(kept.ravel())[-2] - 1e-12  # among its top 2
    shown = {int(t.id.split("-")[-1]) for t in texts(scene, "query-label")}
    assert shown == {int(p.id.split("-")[2]) for p in lines}
    assert len(texts(scene, "position")) == len(texts(scene, "query-label")) + len(
        texts(scene, "key-label"))
    assert "The 2 strongest lines of each head" in " ".join(
        t.label.text for t in texts(scene, "caption"))
