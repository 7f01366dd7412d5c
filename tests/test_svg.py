"""The SVG backend: structure, styling, escaping and the vectorised cell writer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SVG_NS, by_id, parse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from svgwrite import validator2

from svgattn import Diagram, Head
from svgattn.render.cells import merged_rectangles

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
    assert [k for k in ids if k.startswith("head-") and "label" not in k] == [
        "head-0", "head-1", "head-2"]
    connectors = sorted(k for k in ids if k.startswith("conn-"))
    assert connectors == ["conn-0-0", "conn-0-1", "conn-1-2", "conn-1-3", "conn-1-4",
                          "conn-2-2", "conn-2-3", "conn-2-4"]
    labels = [ids[f"row-label-{i}"].text for i in range(5)]
    assert labels == ["It", "I", "is", "am", "the"]
    assert [ids[f"col-label-{i}"].text for i in range(5)] == labels
    assert [ids[f"head-label-{i}"].text for i in range(3)] == ["Head 0", "Head 1", "Head 2"]


def test_binary_block_matrix_costs_two_elements_not_n_squared(seed_path):
    root = parse(Diagram.from_spec(seed_path).to_svg())
    matrix = by_id(root)["matrix"]
    cells = [el for el in matrix if (el.get("id") or "").startswith("cells-")]
    assert len(cells) == 1  # the low colour is the background rect
    rects = cells[0].get("d").count("M")
    assert rects == 2  # the 2x2 and the 3x3 block


def test_large_binary_matrix_stays_small():
    n = 400
    w = np.zeros((n, n))
    w[:200, :200] = 1
    w[200:, 200:] = 1
    svg = Diagram([f"t{i}" for i in range(n)], w, theme="light").to_svg()
    root = parse(svg)
    matrix = by_id(root)["matrix"]
    paths = [el for el in matrix if (el.get("id") or "").startswith("cells-")]
    assert len(paths) == 1 and paths[0].get("d").count("M") == 2


def _colour_of_cell(root, r, c, grid):
    """Read a cell's colour back from the SVG by point-in-rectangle on the cell paths."""
    x, y, cell = grid
    px, py = x + (c + 0.5) * cell, y + (r + 0.5) * cell
    styles = dict(re.findall(r"\.(fill-\d+) \{ fill: (#[0-9a-f]{6}); \}",
                             root.find(f"{SVG_NS}style").text))
    colour = None
    for el in by_id(root)["matrix"]:
        ident = el.get("id") or ""
        if ident == "matrix-background":
            colour = styles[el.get("class")]
        elif ident.startswith("cells-"):
            for m in re.finditer(r"M([\d.]+) ([\d.]+)H([\d.]+)V([\d.]+)H", el.get("d")):
                x0, y0, x1, y1 = map(float, m.groups())
                if x0 <= px <= x1 and y0 <= py <= y1:
                    colour = styles[el.get("class")]
    return colour


def test_cell_colours_read_back_equal_the_input():
    rng = np.random.default_rng(3)
    w = rng.random((7, 9))
    d = Diagram(query_tokens=list("abcdefg"), key_tokens=list("ABCDEFGHI"), weights=w)
    scene = d.scene()
    root = parse(d.to_svg())
    grid = (scene.matrix.x, scene.matrix.y, scene.matrix.cell)
    expected = [[scene.matrix.palette[i] for i in row] for row in scene.matrix.index]
    got = [[_colour_of_cell(root, r, c, grid) for c in range(9)] for r in range(7)]
    assert got == expected
    # and the palette index is the quantised weight
    np.testing.assert_array_equal(scene.matrix.index, np.rint(w / w.max() * 255).astype(int))


@settings(max_examples=200, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_merged_rectangles_cover_the_mask_exactly(mask):
    cover = np.zeros(mask.shape, dtype=int)
    for r0, c0, r1, c1 in merged_rectangles(mask):
        cover[r0:r1, c0:c1] += 1
    np.testing.assert_array_equal(cover, mask.astype(int))  # every cell once, no extras


def test_numbers_have_fixed_precision(seed_path):
    svg = Diagram.from_spec(seed_path, width="6.5in").to_svg()
    decimals = [n.split(".")[1] for n in NUMBER.findall(svg) if "." in n]
    assert decimals and max(len(d) for d in decimals) <= 2


def test_every_attribute_is_quoted_and_styles_are_classes(seed_path):
    svg = Diagram.from_spec(seed_path).to_svg()
    assert not re.search(r"=\s*[^\"'\s>]", re.sub(r"<style.*?</style>", "", svg, flags=re.S))
    assert " style=" not in svg and "var(" not in svg
    style = svg[svg.index("<style"):svg.index("</style>")]
    assert 'font-family: "DejaVu Sans"' in style


INJECTIONS = ["<script>alert(1)</script>", "]]><svg onload=alert(1)>", "\" onmouseover=\"x",
              "&amp;&lt;", "{{ 7*7 }}", "</text></svg>", "url(http://evil.example)"]


@pytest.mark.parametrize("token", INJECTIONS)
def test_tokens_titles_and_head_names_cannot_inject_markup(token):
    d = Diagram(["a", token], np.eye(2), [Head(token, tokens=[1])], title=token)
    root = parse(d.to_svg())  # still well-formed
    ids = by_id(root)
    assert ids["row-label-1"].text == token
    assert ids["head-label-0"].text == token
    assert ids["title"].text == token
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)


def test_xml_illegal_characters_become_visible_stand_ins():
    d = Diagram(["nul\x00", "esc\x1b", "lone\ud800", "tab\t"], np.eye(4))
    root = parse(d.to_svg())
    labels = ["".join(by_id(root)[f"row-label-{i}"].itertext()) for i in range(4)]
    assert labels == ["nul\u2400", "esc\u241b", "lone\ufffd", "tab\u2409"]


def _validate(svg: str) -> None:
    checker = validator2.get_validator("full")
    root = parse(svg)

    def walk(el):
        name = el.tag.replace(SVG_NS, "")
        assert checker.is_valid_elementname(name), name
        for attr, value in el.attrib.items():
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
