"""SVG -> SVG/PDF/PNG/EPS through cairosvg. Atomic writes, byte-identical output.

cairosvg is always called on a byte string with ``unsafe`` left False, so it resolves
no entities and fetches nothing but ``data:`` URLs.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import zlib
from pathlib import Path

import cairosvg

from .errors import ExportError

FORMATS = ("svg", "pdf", "png", "eps")
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})(Z|[+-]\d\d'\d\d'?)?\)")
_PS_DATE = re.compile(rb"^%%CreationDate: [^\n]*$", re.MULTILINE)


def format_of(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else the file suffix."""
    name = (fmt or Path(path).suffix.lstrip(".")).lower()
    if name not in FORMATS:
        raise ExportError(f"output: cannot write '{Path(path).name}'; use a .svg, .pdf, .png or"
                          " .eps file name (or --format)")
    return name


def _fixed_pdf_date(match: re.Match[bytes]) -> bytes:
    # Same length as the original: the cross-reference table holds byte offsets.
    tail = match.group(3) or b""
    fixed_tail = b"Z" if tail in (b"", b"Z") else b"+00'00'"[: len(tail)]
    return b"/%s (D:19700101000000%s)" % (match.group(1), fixed_tail)


def _png_with_dpi(png: bytes, dpi: float) -> bytes:
    """Insert a pHYs chunk so image viewers and LaTeX know the intended resolution."""
    per_metre = round(dpi / 0.0254)
    data = struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", len(data)) + b"pHYs" + data
    chunk += struct.pack(">I", zlib.crc32(b"pHYs" + data) & 0xFFFFFFFF)
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, crc
    return png[:ihdr_end] + chunk + png[ihdr_end:]


_FAMILY = re.compile(rb'font-family(?:: |=)"([A-Za-z0-9 ._-]+)"')
_warmed: set[bytes] = set()


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
    texts = b"".join(b'<text x="0" y="9" font-family="%s">a</text>'
                     b'<text x="0" y="9" font-family="%s" font-weight="bold">a</text>' % (f, f)
                     for f in families)
    cairosvg.svg2png(bytestring=b'<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                     b'height="10">' + texts + b"</svg>")
    _warmed.update(families)


def convert(svg: str, fmt: str, *, dpi: float = 300.0) -> bytes:
    """Return the bytes of ``svg`` in ``fmt``; deterministic for equal input."""
    data = svg.encode("utf-8")
    try:
        _warm_fonts(data)
        if fmt == "svg":
            return data
        if fmt == "pdf":
            return _PDF_DATE.sub(_fixed_pdf_date, cairosvg.svg2pdf(bytestring=data))
        if fmt == "eps":
            return _PS_DATE.sub(b"%%CreationDate: (fixed for reproducible output)",
                                cairosvg.svg2eps(bytestring=data))
        if fmt == "png":
            # The SVG is sized in points: 1pt = dpi/72 pixels.
            return _png_with_dpi(cairosvg.svg2png(bytestring=data, dpi=dpi), dpi)
    except (ValueError, OSError, MemoryError) as exc:
        raise ExportError(f"{fmt}: cairosvg could not convert the figure ({exc})") from None
    raise ExportError(f"format: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename,
    so a reader never sees a partial file and a failure leaves the old file untouched."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ExportError(f"output: directory {target.parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
