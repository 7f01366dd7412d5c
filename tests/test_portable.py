"""Figures that land anywhere unchanged (issue 18): paint in SVG 1.1 presentation
attributes, so readers that ignore <style> (slide importers, older tools, SVG libraries)
draw the same figure; nothing referenced by id, so a second copy in one page (the first
hidden) still draws; fonts named with their metric-compatible twins."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile

import cairosvg
import numpy as np
import pytest
from conftest import SEED, need
from models import attention, sample
from PIL import Image
from renderers import CHROMIUM, CHROMIUM_FLAGS, RSVG, sized

from svgattn import Diagram
from svgattn.render.svg import font_stack
from svgattn.views.registry import get, load_all

VIEWS = sorted(load_all())
STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)


def _figure(view: str) -> Diagram:
    if view == "flow":
        return Diagram.from_spec(SEED)
    # views that map several layers take --layers, the others one --layer
    takes = "layer" in get(view).reads and not get(view).check({"layer": 2})
    where = {"layer": 2} if takes else {"layers": "1-2"}
    heads = "2" if get(view).vectors else "0-3"  # the neuron view explains one head
    if get(view).pictures:  # maps over a photograph
        return Diagram.from_attention(sample(view), view=view)
    return Diagram.from_attention(attention(), view=view, heads=heads, **where)


def _png(svg: str, tool: str, tmp) -> np.ndarray:
    text, w, h = sized(svg, 1.5)
    if tool == "cairosvg":
        data = cairosvg.svg2png(bytestring=text.encode("utf-8"))
    else:
        path = tmp / "f.svg"
        path.write_text(text, encoding="utf-8")
        data = subprocess.run([RSVG, "-w", str(w), "-h", str(h), str(path)], check=True,
                              capture_output=True).stdout
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=float)


@pytest.mark.parametrize("view", VIEWS)
def test_paint_is_in_attributes_and_only_svg_1_1_colours(view):
    svg = _figure(view).to_svg()
    style = STYLE.search(svg)
    if style:  # only progressive rules: hover and crisp raster cells
        rules = style.group(0)
        assert "fill" not in rules and "stroke" not in rules and "font" not in rules
    for banned in ("url(#", "<defs", "rgba(", "hsl(", "transparent", "currentColor",
                   "xlink:href=\"#", "<use"):
        assert banned not in svg, banned
    assert re.search(r'<svg [^>]*font-family="[^"]+"', svg)
    fills = re.findall(r'fill="([^"]+)"', svg)
    assert fills and all(re.fullmatch(r"#[0-9a-f]{6}|none", f) for f in fills), set(fills)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("tool", ["cairosvg", "rsvg"])
def test_the_same_figure_without_its_style_block(view, tool, tmp_path):
    """Every view, rendered with and without its <style>, gives the same pixels in cairosvg
    and librsvg (hover rules apply to nothing in a static render)."""
    if tool == "rsvg":
        need(RSVG is not None, "librsvg2-bin (rsvg-convert)")
    svg = _figure(view).to_svg()
    with_style, without = _png(svg, tool, tmp_path), _png(STYLE.sub("", svg), tool, tmp_path)
    assert with_style.shape == without.shape
    assert np.abs(with_style - without).max() <= 1


def test_a_second_copy_draws_with_the_first_hidden(tmp_path):
    """The same figure inlined twice in one page, the first hidden (a past reveal.js
    slide): the visible copy's colour bar and cells are drawn, as a lone copy's are."""
    need(CHROMIUM is not None, "Debian chromium")
    svg = Diagram.from_attention(attention(), view="matrix", layer=2).to_svg().split("?>", 1)[1]
    text, w, h = sized(svg, 1.0)

    def shot(body: str) -> np.ndarray:
        page = tmp_path / "page.html"
        page.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{body}</body></html>",
                        encoding="utf-8")
        out = tmp_path / "shot.png"
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                            f"--window-size={w},{h}", f"--screenshot={out}", page.as_uri()],
                           check=True, capture_output=True, timeout=120)
        return np.asarray(Image.open(out).convert("RGB"), dtype=float)

    alone = shot(f"<div style='line-height:0'>{text}</div>")
    twice = shot(f"<div style='display:none'>{text}</div><div style='line-height:0'>{text}</div>")
    assert alone.std() > 10  # a figure, not a blank page
    assert np.abs(alone - twice).max() <= 2


def test_jupyter_displays_get_their_own_ids_and_files_stay_reproducible():
    d = Diagram.from_spec(SEED)
    first, second = d._repr_svg_(), d._repr_svg_()
    ids = [set(re.findall(r' id="([^"]+)"', s)) for s in (first, second)]
    assert ids[0] and not ids[0] & ids[1]
    assert d.to_svg() == Diagram.from_spec(SEED).to_svg()


@pytest.mark.parametrize("family, names", [
    ("Liberation Sans", ["'Liberation Sans'", "Arimo", "Arial", "Helvetica", "sans-serif"]),
    ("Liberation Serif", ["'Liberation Serif'", "Tinos", "'Times New Roman'", "Times",
                          "serif"]),
    ("TeX Gyre Termes", ["'TeX Gyre Termes'", "Times", "'Times New Roman'",
                         "'Liberation Serif'", "serif"]),
])
def test_fonts_are_named_with_their_metric_compatible_twins(family, names):
    assert font_stack(family).split(", ") == names
