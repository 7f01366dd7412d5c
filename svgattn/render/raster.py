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
import math
from dataclasses import replace

import numpy as np

from ..scene import CellGrid
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


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def to_pixels(grid: CellGrid, pixels_per_point: float) -> CellGrid:
    """``grid`` with no more cells than device pixels: where cells are thinner than a
    pixel, blocks of cells become one (rows and columns each pooled only as far as their
    own size needs: a matrix of thin rows keeps its columns), keeping the block's
    strongest colour (its maximum, or for a diverging map the colour farthest from the
    middle; masked cells only where the whole block is masked), so a one-cell column, row
    or diagonal survives any downsampling; the image still fills the same box."""
    rows, cols = grid.index.shape
    kr = math.ceil(1.0 / (grid.cell_h * pixels_per_point)) if grid.cell_h * pixels_per_point \
        < 1.0 else 1
    kc = math.ceil(1.0 / (grid.cell_w * pixels_per_point)) if grid.cell_w * pixels_per_point \
        < 1.0 else 1
    if not grid.raster or kr == kc == 1:
        return grid
    index = np.asarray(grid.index)
    last = len(grid.colours) - 1
    r, c = -(-rows // kr), -(-cols // kc)
    pooled = np.empty((r, c), dtype=index.dtype)
    # a band of block rows at a time: the priorities and blocks of a 4096-token matrix
    # whole were 290 MB of temporaries (int16 keys, padding, the transposed blocks, int64
    # argmax); a band of about 2^21 cells keeps them to a few MB
    band = max(1, (1 << 21) // max(1, c * kc * kr))
    for top in range(0, r, band):
        stop = min(r, top + band)
        cells = index[top * kr:min(rows, stop * kr)]
        # priorities in int16: the colour's index, or for a diverging map its distance
        # from the middle colour (doubled to stay whole); masked cells lowest
        key = cells.astype(np.int16)
        if grid.pooling == "extreme":
            key = np.abs(2 * key - (last - (1 if grid.masked else 0)))
        if grid.masked:
            key[cells == last] = -1
        n = stop - top
        padded = np.full((n * kr, c * kc), -2, dtype=np.int16)
        padded[:len(cells), :cols] = key
        best = padded.reshape(n, kr, c, kc).transpose(0, 2, 1, 3).reshape(n, c, kr * kc) \
            .argmax(axis=2)
        inner_r, inner_c = np.divmod(best, kc)
        src_r = np.minimum(np.arange(top, stop)[:, None] * kr + inner_r, rows - 1)
        src_c = np.minimum(np.arange(c)[None, :] * kc + inner_c, cols - 1)
        pooled[top:stop] = index[src_r, src_c]
    return replace(grid, index=pooled, cell_w=grid.cell_w * cols / c,
                   cell_h=grid.cell_h * rows / r, values=np.zeros((0, 0)))
