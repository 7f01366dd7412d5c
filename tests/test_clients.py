"""The programs figures land in (issue 18): LibreOffice and Inkscape open every view's SVG
with the figure's own fonts and draw what cairosvg draws; a two-column LaTeX paper includes
the paper theme's PDFs at \\columnwidth without an overfull box."""

from __future__ import annotations

import io
import os
import re
import subprocess

import numpy as np
import pytest
from conftest import SEED, need_tools
from models import attention, sample
from PIL import Image

from svgattn import Diagram
from svgattn.views.registry import get, load_all

VIEWS = sorted(load_all())
LIBREOFFICE_MAD = 8.0  # /255: anti-aliasing and text rasterisation differ, nothing else
INKSCAPE_MAD = 6.0  # /255: the same; measured 0.7-4.6 (light 0.7-2.8, paper 2.3-4.6)
FAMILY = {"light": "DejaVuSans", "paper": "LiberationSerif", "slides": "LiberationSans"}


def _figure(view: str, theme: str) -> Diagram:
    if view == "flow":
        return Diagram.from_spec(SEED, theme=theme)
    if get(view).pictures:  # maps over a photograph
        return Diagram.from_attention(sample(view), view=view, theme=theme)
    # views that map several layers take --layers, the others one --layer
    takes = "layer" in get(view).reads and not get(view).check({"layer": 2})
    where = {"layer": 2} if takes else {"layers": "1-2"}
    heads = "2" if get(view).vectors else "0-3"  # the neuron view explains one head
    return Diagram.from_attention(attention(), view=view, theme=theme, heads=heads, **where)


@pytest.mark.parametrize("theme", sorted(FAMILY))
@pytest.mark.parametrize("view", VIEWS)
def test_libreoffice_draws_the_svg_with_its_own_fonts(view, theme, tmp_path):
    """soffice --convert-to pdf (LibreOffice's SVG import, as Impress and Draw insert it):
    the fonts are the theme's own, embedded (LibreOffice once set every label in Noto
    Serif, ignoring a CSS font rule), and the page matches cairosvg's to a small MAD."""
    need_tools("soffice", "pdffonts", "pdftoppm")
    d = _figure(view, theme)
    (tmp_path / "figure.svg").write_text(d.to_svg(), encoding="utf-8")
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "figure.svg")], check=True, capture_output=True,
                   timeout=300)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "figure.pdf")], check=True,
                           capture_output=True, text=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1].split("-")[0] for line in fonts}
    assert names == {FAMILY[theme]}, fonts
    assert all(line.split()[-5] == "yes" for line in fonts)  # embedded
    reference = np.asarray(Image.open(io.BytesIO(d.to_bytes("png", dpi=144))).convert("RGB"),
                           dtype=float)
    h, w = reference.shape[:2]
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-x", str(w), "-scale-to-y",
                    str(h), str(tmp_path / "figure.pdf"), str(tmp_path / "lo")], check=True)
    drawn = np.asarray(Image.open(tmp_path / "lo.png").convert("RGB"), dtype=float)
    assert np.abs(drawn - reference).mean() <= LIBREOFFICE_MAD


@pytest.mark.parametrize("theme", ["light", "paper"])
@pytest.mark.parametrize("view", VIEWS)
def test_inkscape_draws_the_svg_as_svgattn_exports_it(view, theme, tmp_path):
    """Inkscape (what \\includesvg calls, and where figures get edited) opens every view's
    SVG and draws what svgattn's own PNG export draws. (Comparing Inkscape's gallery with
    svgattn's found PNGs that pooled a neuron figure's columns along with its thin rows;
    tests/test_view_neuron.py now checks that pooling.)"""
    need_tools("inkscape")
    d = _figure(view, theme)
    (tmp_path / "figure.svg").write_text(d.to_svg(), encoding="utf-8")
    reference = np.asarray(Image.open(io.BytesIO(d.to_bytes("png", dpi=144))).convert("RGB"),
                           dtype=float)
    h, w = reference.shape[:2]
    subprocess.run(["inkscape", str(tmp_path / "figure.svg"), "--export-type=png",
                    f"--export-filename={tmp_path / 'ink.png'}", f"--export-width={w}",
                    f"--export-height={h}", "--export-background-opacity=1"], check=True,
                   capture_output=True, timeout=300,
                   env={**os.environ, "HOME": str(tmp_path), "INKSCAPE_PROFILE_DIR":
                        str(tmp_path / "profile")})
    drawn = np.asarray(Image.open(tmp_path / "ink.png").convert("RGB"), dtype=float)
    assert drawn.shape == reference.shape
    assert np.abs(drawn - reference).mean() <= INKSCAPE_MAD


def test_a_two_column_paper_takes_every_view_at_columnwidth(tmp_path):
    """pdflatex, a two-column article, every view's paper-theme PDF included with
    \\includegraphics{...} at its natural size: no overfull box (each is exactly one
    column wide), and the fonts in the paper are the figures' own, embedded."""
    need_tools("pdflatex", "pdffonts")
    body = []
    for view in VIEWS:
        _figure(view, "paper").save(tmp_path / f"{view}.pdf")
        body.append(f"\\begin{{figure}}[t]\\includegraphics{{{view}.pdf}}"
                    f"\\caption{{The {view} view.}}\\end{{figure}}")
    filler = "Attention heads in small language models learn a few patterns. " * 40
    tex = ("\\documentclass[twocolumn]{article}\\usepackage{graphicx}\\begin{document}"
           + filler + "".join(body) + filler + "\\end{document}\n")
    (tmp_path / "paper.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          "paper.tex"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "paper.pdf")], check=True,
                           capture_output=True, text=True).stdout
    assert "LiberationSerif" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])


def test_a_google_slides_png_is_a_full_hd_slide_wide():
    """Google Slides takes no SVG: --theme slides --width 13.33in --dpi 144 is a PNG
    1,920 pixels wide, a 16:9 slide at full HD."""
    d = Diagram.from_spec(SEED, theme="slides", width="13.33in")
    image = Image.open(io.BytesIO(d.to_bytes("png", dpi=144)))
    assert image.size[0] == 1920
    assert image.info.get("dpi", (0, 0))[0] == pytest.approx(144, abs=0.5)
