from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import violations
from scenes import flow_parts, flow_violations, rects, texts

from svgattn import Diagram, Head, load_theme
from svgattn.layout.placement import spread

PIECES = ["the", "Ġcat", "▁sat", "##ing", "It", "I", "a", " ", "注意力", "انتباه", "שלום",
          "ध्यान", "🤖", "👩\u200d💻", "e\u0301", "x" * 200, "[CLS]", "</w>", "Ω≈ç√", "0.5"]


@st.composite
def diagrams(draw):
    n = draw(st.integers(1, 60))
    tokens = [draw(st.sampled_from(PIECES)) + draw(st.sampled_from(["", "s", "ed", "ly"]))
              for _ in range(n)]
    binary = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = (rng.random((n, n)) > 0.6).astype(float) if binary else rng.random((n, n))
    heads = []
    for h in range(draw(st.integers(1, 12))):
        links = sorted(set(rng.integers(0, n, size=rng.integers(0, min(n, 8) + 1)).tolist()))
        name = draw(st.sampled_from([f"Head {h}", f"L3H{h}", f"head {h} 注意", f"H{h} induction"]))
        heads.append(Head(f"{name} #{h}", tokens=links))
    theme = draw(st.sampled_from(["light", "dark", "paper", "seed"]))
    width = draw(st.sampled_from([None, "3.25in", "6.75in"]))
    title = draw(st.sampled_from([None, "A title", "Attention in layer 3 of a long model name"]))
    caption = draw(st.sampled_from([None, "Matrix: mean of heads H0, H1 (2) of layer L3"]))
    return Diagram(tokens, weights, heads, theme=theme, width=width, title=title,
                   caption=caption, groups=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.filterwarnings("ignore::svgattn.layout.frame.LayoutWarning")  # long random tokens
@given(diagrams())
def test_layout_invariants_hold_for_random_inputs(diagram):
    scene = diagram.scene()
    assert violations(scene) == [] and flow_violations(scene) == []
    if diagram.width is not None:
        assert scene.width == pytest.approx(diagram.width, abs=1e-6)


@pytest.mark.parametrize("theme", ["light", "dark", "paper", "seed"])
@pytest.mark.parametrize("width", [None, "3.25in", "6.5in", "6.75in"])
@pytest.mark.filterwarnings("ignore::svgattn.layout.frame.LayoutWarning")  # 14pt slides at 3.25in
def test_seed_layout_invariants(seed_path, theme, width):
    scene = Diagram.from_spec(seed_path, theme=theme, width=width).scene()
    assert violations(scene) == [] and flow_violations(scene) == []


def test_seed_geometry(seed_path):
    scene = Diagram.from_spec(seed_path).scene()
    parts = flow_parts(scene)
    heads, nodes = parts["heads"], parts["nodes"]
    assert len(heads) == 3 and len(nodes) == 5 and len(parts["connectors"]) == 8
    # Heads in a column on the left of everything else.
    assert len({h.box.x for h in heads}) == 1
    assert max(h.box.right for h in heads) < min(n.box.x for n in nodes)
    g = parts["grid"]
    assert max(n.box.right for n in nodes) < g.box.x
    # Head 0 sits beside It/I, heads 1 and 2 beside is/am/the, in order.
    centres = [h.box.y + h.box.h / 2 for h in heads]
    assert centres[0] < centres[1] < centres[2]
    row = [g.row_centre(i) for i in range(5)]
    assert row[0] <= centres[0] <= row[1]
    assert row[2] - g.cell_h <= centres[1] < centres[2] <= row[4] + g.cell_h
    # Square cells, binary legend with two swatches to the right of the matrix.
    assert g.box.w == pytest.approx(g.box.h)
    swatches = rects(scene, "swatch")
    assert len(swatches) == 2 and all(s.box.x > g.box.right for s in swatches)
    assert not rects(scene, "colorbar")


def test_continuous_data_gets_a_colourbar_with_ticks():
    rng = np.random.default_rng(0)
    w = rng.random((6, 6))
    w /= w.sum(axis=1, keepdims=True)
    scene = Diagram([f"t{i}" for i in range(6)], w, [Head("H", tokens=[0, 1])]).scene()
    assert rects(scene, "colorbar")
    ticks = texts(scene, "tick-label")
    assert len(ticks) >= 3
    values = [float(t.label.text) for t in ticks]
    assert values == sorted(values) and values[0] == 0 and values[-1] <= w.max()
    bar = rects(scene, "colorbar")[0].box
    zero = next(t for t in ticks if float(t.label.text) == 0)
    assert zero.bbox.y + zero.bbox.h / 2 == pytest.approx(bar.bottom, abs=1.5)
    assert violations(scene) == []


def test_long_column_labels_rotate_and_short_ones_do_not():
    short = Diagram(["a", "b"], np.eye(2)).scene()
    long = Diagram(["a", "internationalisation"], np.eye(2)).scene()
    assert all(t.rotate == 0 for t in texts(short, "col-label"))
    assert all(t.rotate == -90 for t in texts(long, "col-label"))
    assert violations(long) == []


def test_heads_are_ordered_to_avoid_crossings():
    w = np.eye(6)
    # Listed bottom-first: the layout must still put the head of tokens 0-1 on top.
    heads = [Head("low", tokens=[4, 5]), Head("mid", tokens=[2, 3]), Head("top", tokens=[0, 1])]
    parts = flow_parts(Diagram(list("abcdef"), w, heads).scene())
    ys = {parts["head_labels"][i].label.text: parts["heads"][i].box.y for i in range(3)}
    assert ys["top"] < ys["mid"] < ys["low"]


def test_spread_is_minimal_and_keeps_spacing():
    assert spread([0, 0, 0], 10) == [-10, 0, 10]
    assert spread([0, 50, 100], 10) == [0, 50, 100]
    out = spread([0, 1, 2, 40], 10)
    assert all(b - a >= 10 - 1e-9 for a, b in itertools.pairwise(out))
    assert out[-1] == 40


def test_width_is_exact_and_text_never_below_the_theme_size_when_it_fits(seed_path):
    for width in (3.25, 6.5, 6.75):
        scene = Diagram.from_spec(seed_path, theme="paper", width=f"{width}in").scene()
        assert scene.width == pytest.approx(width * 72)
        sizes = {t.label.size for t in texts(scene, "node-label")}
        assert sizes == {load_theme("paper")["font.size"]}


def test_too_many_tokens_for_the_width_thin_labels_not_type():
    """60 tokens in 3.25in: rather than shrinking every label below legibility, the rows
    and columns are labelled every k-th (a round stride, said in the caption), at the
    theme's full size, none touching its neighbour."""
    import warnings

    n = 60
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "too narrow" warning: nothing had to shrink
        scene = Diagram([f"token{i}" for i in range(n)], np.eye(n), width="3.25in",
                        theme="paper", caption="full").scene()
    assert scene.width == pytest.approx(234)
    rows = texts(scene, "row-label")
    assert [int(t.id.rsplit("-", 1)[1]) for t in rows] == list(range(0, n, 5))
    assert {t.label.size for t in rows} == {load_theme("paper")["font.size"]}
    assert all(a.bbox.bottom <= b.bbox.y for a, b in itertools.pairwise(rows))
    assert "12 of 60 rows labelled; 12 of 60 columns labelled" in _caption(scene)
    assert violations(scene) == []


def test_composition_one_matrix_per_head_shares_rows_and_one_legend():
    from models import attention
    from scenes import grids

    d = Diagram.from_attention(attention(), view="flow", matrices="heads", layer=2,
                               heads="0,8,9", hide_special=True)
    scene = d.scene()
    panels = grids(scene)
    assert len(panels) == 3
    assert len({(g.y, g.cell_h) for g in panels}) == 1  # the panels share the token rows
    assert all(a.box.right < b.box.x for a, b in itertools.pairwise(panels))
    assert len(rects(scene, "colorbar")) == 1
    assert len(texts(scene, "row-label")) == 11  # row labels once, left of the first panel
    titles = [t.label.text for t in texts(scene, "panel-title")]
    assert titles == ["L2 H0", "L2 H8", "L2 H9"]
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    assert "One matrix per head: L2 H0, L2 H8, L2 H9" in caption and "mean of" not in caption
    nodes = flow_parts(scene)["nodes"]
    for i, node in enumerate(nodes):
        assert node.box.centre_y == pytest.approx(panels[0].row_centre(i))
    assert violations(scene) == [] and flow_violations(scene) == []


def test_default_heads_are_the_four_most_focused_and_the_caption_says_so():
    from models import attention

    d = Diagram.from_attention(attention(), layer=5)
    assert len(d.data.heads) == 4
    assert any("most focused of 12" in n for n in d.data.notes)
    everything = Diagram.from_attention(attention(), layer=5, heads="all")
    assert len(everything.data.heads) == 12
    assert not any("most focused" in n for n in everything.data.notes)


def test_paper_theme_draws_no_title_unless_asked(seed_path):
    plain = Diagram.from_spec(seed_path, theme="paper").scene()
    assert not texts(plain, "title")
    asked = Diagram.from_spec(seed_path, theme="paper", show_title=True).scene()
    assert texts(asked, "title")
    assert plain.width == pytest.approx(229.5 * 72 / 72.27)  # one article column


def test_a_wide_page_centres_the_figure_on_purpose(seed_path):
    scene = Diagram.from_spec(seed_path, theme="paper", width="6.5in").scene()
    assert scene.width == pytest.approx(468)
    body = [*rects(scene, "head"), *rects(scene, "swatch")]
    left = min(r.box.x for r in body)
    right = max(t.bbox.right for t in texts(scene, "legend-label"))
    assert left - 0 == pytest.approx(scene.width - right, abs=2)  # equal margins


def _caption(scene) -> str:
    return " ".join(t.label.text for t in texts(scene, "caption"))
