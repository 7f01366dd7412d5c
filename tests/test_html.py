"""Figures inlined in one HTML page (a notebook, a blog post) keep their own styles."""

from __future__ import annotations

import io
import subprocess
import tempfile

import numpy as np
from conftest import SEED, need
from PIL import Image
from renderers import CHROMIUM, CHROMIUM_FLAGS
from scenes import grid, rects

from svgattn import Diagram

PX_PER_PT = 4 / 3  # CSS: 1pt = 4/3 px


def _shot(html: str, width: int, height: int, tmp) -> np.ndarray:
    page = tmp / "page.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={width},{height}", f"--screenshot={shot}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("RGB"), dtype=float)


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_two_figures_in_one_page_keep_their_own_colours(tmp_path):
    need(CHROMIUM is not None, "Debian chromium")
    figures = [Diagram.from_spec(SEED, theme="seed"), Diagram.from_spec(SEED, theme="dark")]
    svgs = [f.to_svg().split("?>", 1)[1] for f in figures]
    prefixes = [s.split('class="', 1)[1].split('"', 1)[0] for s in svgs]
    assert prefixes[0] != prefixes[1]
    scenes = [f.scene() for f in figures]
    html = ("<!DOCTYPE html><html><body style='margin:0'>" + "".join(
        f"<div style='display:block;line-height:0'>{s}</div>" for s in svgs) + "</body></html>")
    width = int(max(s.width for s in scenes) * PX_PER_PT) + 2
    height = int(sum(s.height for s in scenes) * PX_PER_PT) + 2
    image = _shot(html, width, height, tmp_path)
    top = 0.0
    for figure, scene in zip(figures, scenes, strict=True):
        theme = figure.theme
        background = _hex(theme["colors.background"])
        assert np.abs(image[int((top + 2) * PX_PER_PT), 2] - background).max() <= 3
        g = grid(scene)
        for r, c, key in ((0, 0, "colors.cell_high"), (0, 4, "colors.cell_low")):
            x = g.column_centre(c) * PX_PER_PT
            y = (top + g.row_centre(r)) * PX_PER_PT
            assert np.abs(image[int(y), int(x)] - _hex(theme[key])).max() <= 6, key
        head = rects(scene, "head")[0]
        y = (top + head.box.centre_y) * PX_PER_PT
        x = (head.box.x + 2) * PX_PER_PT
        assert np.abs(image[int(y), int(x)] - _hex(head.style.fill)).max() <= 6
        top += scene.height
