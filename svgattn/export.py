"""SVG -> SVG/PDF/PNG/EPS through cairosvg, byte-identical for equal input (writing the
bytes to a file is :mod:`svgattn.files`).

cairosvg is always called on a byte string with ``unsafe`` left False, so it resolves
no entities and fetches nothing but ``data:`` URLs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .errors import ExportError, quote, quote_path

DRAWN = ("svg", "pdf", "png", "eps")
FORMATS = (*DRAWN, "csv")  # csv: the numbers of the views that have them (Diagram.to_csv)
INPUT_SUFFIXES = ("toml", "json", "npz", "npy")  # what svgattn reads: never written with --format
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})(Z|[+-]\d\d'\d\d'?)?\)")
_PS_DATE = re.compile(rb"^%%CreationDate: [^\n]*$", re.MULTILINE)


def format_of(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format: the file suffix, or ``fmt``; when both are given they must agree
    (``--format pdf -o out.svg`` would write PDF bytes into a .svg file)."""
    name = Path(path).name
    suffix = Path(path).suffix.lstrip(".").lower()
    if fmt is not None:
        fmt = str(fmt).lower()
        if fmt not in FORMATS:
            raise ExportError(f"format: {quote(fmt)} is not one of {', '.join(FORMATS)}")
        if suffix in INPUT_SUFFIXES:
            raise ExportError(f"output: {quote_path(name)} is named like an input (.{suffix}), "
                              f"but would hold {fmt.upper()}; name the file .{fmt}")
        if suffix in FORMATS and suffix != fmt:
            raise ExportError(f"output: --format {fmt} does not match the file name "
                              f"{quote_path(name)}; name the file .{fmt} or drop --format")
        return fmt
    if suffix not in FORMATS:
        raise ExportError(f"output: cannot tell the format from {quote_path(name)}; use a .svg, "
                          ".pdf, .png, .eps or .csv file name (or --format)")
    return suffix


def _fixed_pdf_date(match: re.Match[bytes]) -> bytes:
    # Same length as the original: the cross-reference table holds byte offsets.
    tail = match.group(3) or b""
    fixed_tail = b"Z" if tail in (b"", b"Z") else b"+00'00'"[: len(tail)]
    return b"/%s (D:19700101000000%s)" % (match.group(1), fixed_tail)


def encode_png(argb: np.ndarray, dpi: float) -> bytes:
    """A PNG of cairo's pixels (``[h, w, 4]`` premultiplied BGRA bytes): RGB when every
    pixel is opaque, else RGBA un-premultiplied as cairo does; a pHYs chunk so viewers
    and LaTeX know the resolution. cairo's own writer asks libpng for adaptive filters
    at its default effort: 0.6 s for a 6.5 in figure at 300 dpi; rows unfiltered at zlib
    level 3 take a fifth of that, and are smaller for figures of flat colour."""
    import numpy as np

    from .render.png import encode

    alpha = argb[..., 3]
    if bool((alpha == 255).all()):
        pixels = argb[..., 2::-1]
    else:
        a = alpha.astype(np.uint32)
        rgb = argb[..., 2::-1].astype(np.uint32) * 255 + (a // 2)[..., None]
        np.floor_divide(rgb, np.maximum(a, 1)[..., None], out=rgb)
        rgb[alpha == 0] = 0
        pixels = np.concatenate([rgb.astype(np.uint8), alpha[..., None]], axis=2)
    return encode(pixels, level=3, dpi=dpi)


def _draw_png(data: bytes, dpi: float) -> bytes:
    """cairosvg draws; :func:`encode_png` writes the PNG."""
    import numpy as np
    from cairosvg.surface import PNGSurface, Surface

    encoded: list[bytes] = []

    class Pixels(PNGSurface):
        def finish(self) -> None:
            surface = self.cairo
            surface.flush()
            h, w, stride = surface.get_height(), surface.get_width(), surface.get_stride()
            rows = np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(h, stride)
            # encoded while cairo's buffer is alive: no copy of the pixels
            encoded.append(encode_png(rows[:, : w * 4].reshape(h, w, 4), dpi))
            Surface.finish(self)  # not PNGSurface's: cairo's PNG writer is what is replaced

    Pixels.convert(bytestring=data, dpi=dpi)
    return encoded[0]


_FAMILY = re.compile(rb'font-family(?:: |=)"([A-Za-z0-9 ._-]+)"')
_warmed: set[bytes] = set()


def load_cairosvg() -> tuple[Any, type[Exception]]:
    """cairosvg and cairo's error type, imported on first use: writing SVG needs neither
    (cairocffi alone takes a quarter of a second to import)."""
    from .fastcairo import load

    cairosvg = load()
    from cairocffi import CairoError

    return cairosvg, CairoError


def _warm_fonts(svg: bytes) -> None:
    """Make cairo meet every font family first on an image surface.

    cairo caches a font face per family, configured (hinting, antialiasing) by the
    surface that first used it; a PDF rendered first would change every later PNG of
    the process. Rendering a tiny PNG with each new family first makes the cache state,
    and so every output, independent of what was rendered before.
    """
    families = sorted(set(_FAMILY.findall(svg)) - _warmed)
    if not families:
        return
    cairosvg, _ = load_cairosvg()
    texts = b"".join(b'<text x="0" y="9" font-family="%s">a</text>'
                     b'<text x="0" y="9" font-family="%s" font-weight="bold">a</text>' % (f, f)
                     for f in families)
    cairosvg.svg2png(bytestring=b'<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                     b'height="10">' + texts + b"</svg>")
    _warmed.update(families)


def convert(svg: str, fmt: str, *, dpi: float = 300.0) -> bytes:
    """Return the bytes of ``svg`` in ``fmt``; deterministic for equal input."""
    data = svg.encode("utf-8")
    if fmt == "svg":
        return data
    if fmt not in DRAWN:
        raise ExportError(f"format: unknown format {quote(fmt)}; use one of {', '.join(DRAWN)}")
    cairosvg, cairo_error = load_cairosvg()
    try:
        _warm_fonts(data)
        if fmt == "pdf":
            return _PDF_DATE.sub(_fixed_pdf_date, cairosvg.svg2pdf(bytestring=data))
        if fmt == "eps":
            return _PS_DATE.sub(b"%%CreationDate: (fixed for reproducible output)",
                                cairosvg.svg2eps(bytestring=data))
        # The SVG is sized in points: 1pt = dpi/72 pixels.
        return _draw_png(data, dpi)
    except MemoryError:
        raise ExportError(f"{fmt}: not enough memory to draw the figure; lower --dpi or the "
                          "figure size") from None
    except (ValueError, OSError, OverflowError, ZeroDivisionError, RecursionError,
            cairo_error) as exc:  # name the step and the fix
        raise ExportError(f"{fmt}: cairo could not draw the figure ({type(exc).__name__}: "
                          f"{str(exc)[:120]}); lower --dpi or the figure size, or export SVG"
                          ) from None
