"""The SVG backend: structure, styling, escaping and the vectorised cell writer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SVG_NS, by_id, local_classes, paint, parse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from svgwrite import validator2

from svgattn import Diagram, Head
from svgattn.render.cells import rectangles

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def test_seed_svg_structure(seed_path):
    svg = Diagram.from_spec(seed_path).to_svg()
    root = parse(svg)
    ids = by_id(root)
    assert root.get("width").endswith("pt") and root.get("height").endswith("pt")
    w, h = float(root.get("width")[:-2]), float(root.get("height")[:-2])
    assert root.get("viewBox") == f"0 0 {root.get('width')[:-2]} {root.get('height')[:-2]}"
    assert w > 0 and h > 0
    assert root.find(f"{SVG_NS}title").text and root.find(f"{SVG_NS}desc").text
    assert len(root.findall(f"{SVG_NS}style")) == 1
    assert [k for k in ids if re.fullmatch(r"head-\d+", k)] == ["head-0", "head-1", "head-2"]
    connectors = sorted(k for k in ids if k.startswith("conn-"))
    assert connectors == ["conn-0-0", "conn-0-1", "conn-1-2", "conn-1-3", "conn-1-4",
                          "conn-2-2", "conn-2-3", "conn-2-4"]
    labels = [ids[f"matrix-row-{i}"].text for i in range(5)]
    assert labels == ["It", "I", "is", "am", "the"]
    assert [ids[f"matrix-col-{i}"].text for i in range(5)] == labels
    assert [ids[f"head-label-{i}"].text for i in range(3)] == ["Head 0", "Head 1", "Head 2"]
    # ids and classes carry one prefix, the CSS is scoped by it
    prefix = root.get("class")
    assert re.fullmatch(r"sa[0-9a-f]{8}", prefix)
    assert all(el.get("id").startswith(prefix + "-") for el in root.iter() if el.get("id"))
    css = root.find(f"{SVG_NS}style").text
    selectors = [line.split("{")[0] for line in css.splitlines() if "{" in line]
    assert selectors and all(sel.strip().startswith(f".{prefix}") for sel in selectors)


def test_binary_block_matrix_costs_two_elements_not_n_squared():
    # 65 tokens: more cells than carry tooltips, so the vectorised writer draws them
    n = 65
    w = np.zeros((n, n))
    w[:30, :30] = 1
    w[30:, 30:] = 1
    root = parse(Diagram([f"t{i}" for i in range(n)], w, theme="light").to_svg())
    matrix = by_id(root)["matrix"]
    children = list(matrix)
    rects = [el for el in children if el.tag == f"{SVG_NS}rect"]
    paths = [el for el in children if el.tag == f"{SVG_NS}path"]
    assert len(rects) == 1  # the low colour is the background rect
    # one path of cells (two blocks) and the grid lines
    assert sum(p.get("d").count("Z") for p in paths) == 2


def test_large_binary_matrix_stays_small():
    """Vector cells (asked for: 160,000 cells would otherwise be an image) merge into
    rectangles, one path per colour."""
    n = 400
    w = np.zeros((n, n))
    w[:200, :200] = 1
    w[200:, 200:] = 1
    svg = Diagram([f"t{i}" for i in range(n)], w, theme="light", cells="vector").to_svg()
    root = parse(svg)
    matrix = by_id(root)["matrix"]
    assert len(list(matrix)) <= 3  # background, one path of two blocks, grid lines
    assert sum(el.get("d", "").count("Z") for el in matrix) == 2


def _cells(root):
    """(x, y, w, h, fill, title) of every cell rectangle of a tooltip-carrying matrix."""
    out = []
    for el in by_id(root)["matrix"]:
        if el.tag != f"{SVG_NS}rect":
            continue
        fill = paint(el)["fill"]
        title = el.find(f"{SVG_NS}title")
        out.append((float(el.get("x")), float(el.get("y")), float(el.get("width")),
                    float(el.get("height")), fill, None if title is None else title.text))
    return out


def test_cell_colours_and_tooltips_read_back_equal_the_input():
    """Every cell's colour, read from the SVG, is the input weight through the colour map
    (computed here from the named map, not by svgattn's cell code), and its tooltip
    carries the weight."""
    import cmap

    rng = np.random.default_rng(3)
    w = rng.random((7, 9))
    d = Diagram(query_tokens=list("abcdefg"), key_tokens=list("ABCDEFGHI"), weights=w,
                view="matrix", colormap="viridis")
    root = parse(d.to_svg())
    cells = sorted(_cells(root), key=lambda c: (c[1], c[0]))
    assert len(cells) == 63
    lut = cmap.Colormap("bids:viridis").lut(256)
    for k, (_, _, _, _, fill, title) in enumerate(cells):
        r, c = divmod(k, 9)
        want = lut[round(w[r, c] / w.max() * 255)]
        got = np.array([int(fill[i:i + 2], 16) for i in (1, 3, 5)]) / 255
        assert np.abs(got - want[:3]).max() <= 1.5 / 255, (r, c, fill)
        assert title == f"{'abcdefg'[r]} \u2192 {'ABCDEFGHI'[c]}: {w[r, c]:.4g}"


def test_more_than_64x64_cells_carry_no_tooltips():
    n = 65
    root = parse(Diagram([f"t{i}" for i in range(n)], np.eye(n), view="matrix").to_svg())
    assert not any(el.tag == f"{SVG_NS}title" for el in by_id(root)["matrix"].iter())


def test_hovering_a_head_highlights_its_connectors_with_css_only(seed_path):
    svg = Diagram.from_spec(seed_path).to_svg()
    root = parse(svg)
    prefix = root.get("class")
    css = root.find(f"{SVG_NS}style").text
    # hovering one group dims the others through the group's opacity, which multiplies
    # each line's own: no rule ever sets a line's opacity (raising a weak one to full)
    assert f".{prefix}-scope:hover .{prefix}-item:not(:hover) {{ opacity: 0.2; }}" in css
    assert "target" not in css
    heads = by_id(root)["heads"]
    assert "scope" in local_classes(heads, root)
    for i in range(3):
        group = by_id(root)[f"head-group-{i}"]
        assert "item" in local_classes(group, root)
        connectors = [el for el in group if el.get("id", "").split("-", 1)[1].startswith("conn")]
        assert connectors and all("target" in local_classes(c, root) for c in connectors)
    assert "<script" not in svg and " on" not in re.sub(r"<text.*?</text>", "", svg)


@settings(max_examples=200, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_merged_rectangles_cover_the_mask_exactly(mask):
    cover = np.zeros(mask.shape, dtype=int)
    for r0, c0, r1, c1 in rectangles(np.asarray(mask, dtype=np.int8)).get(1, []):
        cover[r0:r1, c0:c1] += 1
    np.testing.assert_array_equal(cover, mask.astype(int))  # every cell once, no extras


@settings(max_examples=200, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
              elements=st.integers(0, 3)))
def test_rectangles_cover_each_value_exactly_and_are_maximal_runs(index):
    cover = np.full(index.shape, -1)
    for value, found in rectangles(index).items():
        assert found == sorted(found)
        for r0, c0, r1, c1 in found:
            assert (cover[r0:r1, c0:c1] == -1).all()  # no overlap
            assert (index[r0:r1, c0:c1] == value).all()
            cover[r0:r1, c0:c1] = value
            # horizontal runs are maximal: the cells beside a rectangle differ
            assert c0 == 0 or (index[r0:r1, c0 - 1] != value).all()
            assert c1 == index.shape[1] or (index[r0:r1, c1] != value).all()
    np.testing.assert_array_equal(cover, index)


def test_numbers_have_fixed_precision(seed_path):
    svg = Diagram.from_spec(seed_path, width="6.5in").to_svg()
    decimals = [n.split(".")[1] for n in NUMBER.findall(svg) if "." in n]
    assert decimals and max(len(d) for d in decimals) <= 2


def test_every_attribute_is_quoted_and_paint_is_in_attributes(seed_path):
    svg = Diagram.from_spec(seed_path).to_svg()
    assert not re.search(r"=\s*[^\"'\s>]", re.sub(r"<style.*?</style>", "", svg, flags=re.S))
    assert " style=" not in svg and "var(" not in svg
    style = svg[svg.index("<style"):svg.index("</style>")]
    assert "fill" not in style and "font" not in style  # hover only
    root = parse(svg)
    assert root.get("font-family").startswith("'DejaVu Sans', ")  # measured font first


INJECTIONS = ["<script>alert(1)</script>", "]]><svg onload=alert(1)>", "\" onmouseover=\"x",
              "&amp;&lt;", "{{ 7*7 }}", "</text></svg>", "url(http://evil.example)"]


@pytest.mark.parametrize("token", INJECTIONS)
def test_tokens_titles_and_head_names_cannot_inject_markup(token):
    d = Diagram(["a", token], np.eye(2), [Head(token, tokens=[1])], title=token)
    root = parse(d.to_svg())  # still well-formed
    ids = by_id(root)
    assert ids["matrix-row-1"].text == token
    assert ids["head-label-0"].text == token
    assert "".join(t.text for k, t in ids.items() if k.startswith("title")) .replace(
        " ", "") == token.replace(" ", "")
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)


def test_xml_illegal_characters_become_visible_stand_ins():
    d = Diagram(["nul\x00", "esc\x1b", "lone\ud800", "tab\t"], np.eye(4))
    root = parse(d.to_svg())
    labels = ["".join(by_id(root)[f"matrix-row-{i}"].itertext()) for i in range(4)]
    assert labels == ["nul\u2400", "esc\u241b", "lone\ufffd", "tab\u2409"]


def _validate(svg: str) -> None:
    checker = validator2.get_validator("full")
    root = parse(svg)

    def walk(el):
        name = el.tag.replace(SVG_NS, "")
        assert checker.is_valid_elementname(name), name
        for attr, value in el.attrib.items():
            attr = attr.replace("{http://www.w3.org/1999/xlink}", "xlink:")
            if attr == "class":  # svgwrite's profile types class loosely; check it is a name
                assert re.fullmatch(r"[a-z0-9- ]+", value)
                continue
            checker.check_svg_attribute_value(name, attr, value)
        for child in el:
            child_name = child.tag.replace(SVG_NS, "")
            assert checker.is_valid_children(name, child_name), (name, child_name)
            walk(child)

    walk(root)


def test_gallery_svgs_pass_the_svg11_validator(gallery_svgs):
    for path in gallery_svgs:
        _validate(path.read_text(encoding="utf-8"))


def test_continuous_svg_passes_the_svg11_validator():
    rng = np.random.default_rng(1)
    _validate(Diagram(list("abcd"), rng.random((4, 4)), [Head("h", tokens=[0])]).to_svg())
