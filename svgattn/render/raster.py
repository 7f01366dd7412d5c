"""Matrix cells as one embedded image: an indexed PNG, one pixel per cell for long
sequences, a few pixels per cell for shorter ones.

Renderers draw an image scaled up with smoothing unless told otherwise: cairosvg reads
``image-rendering: optimizeSpeed`` (nearest neighbour, and ``/Interpolate false`` in PDF),
Chromium ``pixelated``; the CSS rule gives both (each ignores the value it does not know).
librsvg before 2.58 ignores both, so images of fewer than 2048 cells a side are pre-scaled
(up to 8 x 8 pixels per cell): its smoothing then only softens a sliver of each cell.
"""

from __future__ import annotations

import base64

import numpy as np

from .png import encode

TARGET = 2048  # pixels per side an image is pre-scaled towards


def scale_factor(rows: int, cols: int) -> int:
    return max(1, min(8, TARGET // max(rows, cols, 1)))


def indexed_png(index: np.ndarray, palette: tuple[str, ...], scale: int = 1,
                level: int | None = None) -> bytes:
    """An 8-bit palette PNG (no timestamps, fixed compression: deterministic) of
    ``index`` (``[rows, cols]`` of palette positions, at most 256 colours), each cell
    ``scale`` x ``scale`` pixels; ``level``: zlib's effort (default: by size)."""
    if len(palette) > 256:
        raise ValueError("a palette PNG holds at most 256 colours")
    pixels = np.asarray(index, dtype=np.uint8)
    if scale > 1:
        pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    h, w = pixels.shape
    # zlib's effort: the best for ordinary matrices, quicker for millions of cells
    if level is None:
        level = 6 if h * w <= 1 << 18 else 3
    plte = b"".join(bytes(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in palette)
    return encode(pixels, level=level, palette=plte)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
