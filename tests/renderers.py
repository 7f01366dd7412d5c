"""Render one SVG with cairosvg, rsvg-convert and headless Chromium at the same pixel size."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import cairosvg
import numpy as np
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RSVG = shutil.which("rsvg-convert")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--force-device-scale-factor=1", "--default-background-color=00000000",
                  # the screenshot waits for every compositor stage and the page's tasks: on
                  # a loaded machine (CI's two workers) one of a large SVG came out 2.9/255
                  # off cairosvg's, once, and never alone
                  "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000"]


def sized(svg: str, scale: float) -> tuple[str, int, int]:
    """The SVG with width/height in whole pixels (``scale`` px per pt), viewBox kept."""
    m = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert m, "no width/height in points"
    w, h = round(float(m.group(1)) * scale), round(float(m.group(2)) * scale)
    return svg.replace(m.group(0), f'width="{w}px" height="{h}px"', 1), w, h


def render_all(svg: str, scale: float, workdir: Path, *,
               cairo_via_pdf: bool = False) -> dict[str, np.ndarray]:
    """RGBA arrays from each renderer, same size. With ``cairo_via_pdf``, cairosvg's
    rendering is its PDF rasterised by poppler (see below), else its own PNG."""
    text, w, h = sized(svg, scale)
    path = workdir / "figure.svg"
    path.write_text(text, encoding="utf-8")
    # cairosvg is rasterised through its PDF (poppler): its PNG surface rounds glyph advances
    # to whole pixels, which svgattn avoids by exporting PNGs from outlines.
    if cairo_via_pdf:
        pdf = workdir / "cairosvg.pdf"
        pdf.write_bytes(cairosvg.svg2pdf(bytestring=text.encode("utf-8")))
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-x", str(w),
                        "-scale-to-y", str(h), str(pdf), str(workdir / "cairosvg")],
                       check=True, capture_output=True)
        out = {"cairosvg": _rgba((workdir / "cairosvg.png").read_bytes())}
    else:
        out = {"cairosvg": _rgba(cairosvg.svg2png(bytestring=text.encode("utf-8")))}
    rsvg_png = workdir / "rsvg.png"
    subprocess.run([RSVG, "-w", str(w), "-h", str(h), str(path), "-o", str(rsvg_png)],
                   check=True, capture_output=True)
    out["rsvg"] = _rgba(rsvg_png.read_bytes())
    page = workdir / "page.html"
    page.write_text(f'<!DOCTYPE html><html><body style="margin:0"><img src="figure.svg" '
                    f'width="{w}" height="{h}" style="display:block"></body></html>')
    shot = workdir / "chromium.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={w},{h}", f"--screenshot={shot}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    out["chromium"] = _rgba(shot.read_bytes())
    for name, image in out.items():
        assert image.shape[:2] == (h, w), f"{name} rendered {image.shape[:2]}, not {(h, w)}"
    return out


def _rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per channel (RGB composited on white), in 0..255."""
    def on_white(x):
        alpha = x[..., 3:4] / 255
        return x[..., :3] * alpha + 255 * (1 - alpha)

    return float(np.abs(on_white(a) - on_white(b)).mean())


def text_only(scene) -> str:
    """The scene's labels alone, in black on nothing: what is left is the ink of the
    labels (drawn exactly as in the figure: same runs, same outlines)."""
    from dataclasses import replace

    from svgattn.render import render_svg
    from svgattn.scene import Group, Text

    texts = tuple(replace(t, style=t.style._replace(fill="#000000")) for t in scene.find(Text))
    return render_svg(replace(scene, background=None, gradients=(),
                              root=Group("figure", texts)))


def ink(image: np.ndarray, threshold: float = 96) -> np.ndarray:
    """Pixels darker than ``threshold`` below white once composited on white."""
    alpha = image[..., 3:4] / 255
    grey = (image[..., :3] * alpha + 255 * (1 - alpha)).min(axis=2)
    return 255 - grey > threshold
