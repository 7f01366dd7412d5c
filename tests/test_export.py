"""Export: PDF/PNG/EPS through cairosvg, exact width, embedded fonts, determinism."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess

import pytest
from PIL import Image

from svgattn import Diagram, ExportError

needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None,
                                   reason="poppler-utils not installed (.ci/run installs it)")


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png", "eps"])
def test_outputs_are_byte_identical(seed_path, tmp_path, fmt):
    a = Diagram.from_spec(seed_path).save(tmp_path / f"a.{fmt}")
    b = Diagram.from_spec(seed_path).save(tmp_path / f"b.{fmt}")
    assert a.read_bytes() == b.read_bytes()
    assert a.stat().st_size > 500


def test_pdf_and_eps_carry_no_clock(seed_path):
    pdf = Diagram.from_spec(seed_path).to_bytes("pdf")
    assert b"/CreationDate (D:19700101000000" in pdf
    eps = Diagram.from_spec(seed_path).to_bytes("eps")
    assert b"%%CreationDate: (fixed" in eps and eps.startswith(b"%!PS-Adobe")


@needs_poppler
@pytest.mark.parametrize("width, points", [("6.5in", 468.0), ("3.25in", 234.0),
                                           ("16cm", 453.54), ("120mm", 340.16), ("400bp", 400),
                                           # a pasted \the\columnwidth is in TeX points
                                           ("229.5pt", 228.64), ("icml", 234),
                                           ("neurips", 396), ("acl-page", 453.54)])
def test_pdf_page_is_exactly_the_requested_width(seed_path, tmp_path, width, points):
    path = Diagram.from_spec(seed_path, theme="paper", width=width).save(tmp_path / "f.pdf")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size"))
    assert float(size.split()[2]) == pytest.approx(points, abs=0.01)


@needs_poppler
def test_pdf_fonts_are_embedded(seed_path, tmp_path):
    path = Diagram.from_spec(seed_path).save(tmp_path / "f.pdf")
    table = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert table, "no fonts in the PDF"
    for row in table:
        cols = row.split()
        assert "DejaVuSans" in cols[0]
        assert cols[-5] == "yes", f"font not embedded: {row}"


def test_png_has_the_requested_resolution(seed_path, tmp_path):
    d = Diagram.from_spec(seed_path)
    scene = d.scene()
    for dpi in (72, 150, 299, 300, 600):
        path = d.save(tmp_path / f"f{dpi}.png", dpi=dpi)
        image = Image.open(path)
        # whole pixels: the canvas grows by less than a pixel of background
        assert image.size == (math.ceil(scene.width * dpi / 72 - 1e-6),
                              math.ceil(scene.height * dpi / 72 - 1e-6))
        # an opaque background gives an opaque RGB PNG at every dpi, edges included
        assert image.mode == "RGB", (dpi, image.mode)
        assert image.getpixel((image.width - 1, image.height - 1)) == (255, 255, 255)
        assert image.info["dpi"][0] == pytest.approx(dpi, abs=0.02)  # pHYs: whole px/metre
        data = path.read_bytes()
        assert data[12:16] == b"IHDR" and data[37:41] == b"pHYs"
        assert struct.unpack(">I", data[41:45])[0] == round(dpi / 0.0254)


def test_missing_directory_is_a_clear_error(seed_path, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        Diagram.from_spec(seed_path).save(tmp_path / "nope" / "fig.pdf")


def test_png_does_not_depend_on_what_the_process_rendered_before(seed_path, tmp_path):
    """cairo caches scaled fonts across surfaces; PDF rendering first used to change PNG
    glyph hinting. Fixed font options (text-rendering) make PNGs independent of history."""
    import sys

    script = ("import sys; from svgattn import Diagram\n"
              "d = Diagram.from_spec(sys.argv[1], theme='paper')\n"
              "if sys.argv[3] == 'pdf-first': d.to_bytes('pdf')\n"
              "open(sys.argv[2], 'wb').write(d.to_bytes('png', dpi=150))\n")
    outs = []
    for order in ("png-first", "pdf-first"):
        out = tmp_path / f"{order}.png"
        subprocess.run([sys.executable, "-c", script, str(seed_path), str(out), order],
                       check=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("background", ["#ffffff", "none"])
def test_png_pixels_equal_cairos_own_png_writer(seed_path, tmp_path, background):
    """svgattn encodes the PNG itself (faster than cairo's writer): the pixels are cairo's,
    un-premultiplied exactly as cairo does for a transparent background, RGB when opaque."""
    import io

    import cairosvg
    import numpy as np

    from svgattn.formats import pixel_canvas
    from svgattn.render import render_svg

    theme = tmp_path / "t.toml"
    theme.write_text(f'extends = "light"\n[colors]\nbackground = "{background}"\n')
    d = Diagram.from_spec(seed_path, theme=theme)
    ours = Image.open(io.BytesIO(d.to_bytes("png", dpi=150)))
    svg = render_svg(pixel_canvas(d.scene(text="paths"), 150), interactive=False)
    theirs = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode(), dpi=150)))
    assert ours.mode == ("RGB" if background != "none" else "RGBA")
    assert np.array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs.convert("RGBA")))
    if background == "none":
        alpha = np.asarray(ours)[..., 3]
        assert alpha[0, 0] == 0 and ((alpha > 0) & (alpha < 255)).any()


def test_csv_cells_never_run_as_spreadsheet_formulas():
    """Token strings are untrusted: text a spreadsheet would evaluate gets an apostrophe;
    numbers, negative ones too, are written as they are (shortest round-trip floats)."""
    import csv
    import io

    from svgattn.render.table import encode_csv

    rows = [["token", "score"], ["=1+1", -0.5], ["-cmd", 1e-300], ["@SUM(A1)", 3],
            ["\tx", 0.1], ['say "hi",\nthen', 2.5], ["plain", True]]
    data = encode_csv(rows)
    back = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert back == [["token", "score"], ["'=1+1", "-0.5"], ["'-cmd", "1e-300"],
                    ["'@SUM(A1)", "3"], ["'\tx", "0.1"], ['say "hi",\nthen', "2.5"],
                    ["plain", "true"]]
    assert data == encode_csv(rows) and b"\r" not in data
