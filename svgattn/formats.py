"""Output formats: one small backend each (svg, pdf, png, eps, csv), the device policy in
one place. Every backend takes a figure (anything with ``scene``, ``table`` and ``prefix``:
:class:`svgattn.Diagram`) and a resolution, and returns the bytes of the file.

- SVG: the scene as laid out, tooltips and hover rules included.
- PDF and EPS (print): cells finer than :data:`PRINT_DPI` are pooled by their strongest
  colour first, so a viewer's own downsampling at 150 to 300 dpi keeps a one-cell sink
  column or diagonal; a PDF's raster matrices keep their PNG rows (cairo would re-encode
  them, seconds for a long sequence).
- PNG: drawn from outlines (cairo's image surface rounds glyph advances to whole pixels,
  so native text would drift from the measured label widths) on a canvas of whole
  pixels, cells pooled to one per pixel.
- CSV: the numbers the figure draws (:class:`~svgattn.layout.table.Table`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .errors import SpecError
from .export import convert
from .limits import current
from .render.svg import render_svg
from .scene import CellGrid, Group, Scene, mapped

if TYPE_CHECKING:  # pragma: no cover
    from .layout.table import Table

# A PDF's or EPS's cell image holds at most this many pixels an inch, each block of cells
# pooled by its strongest colour: a viewer at 150 or 300 dpi then averages at most 2 x 2
# of them and a one-cell sink column or diagonal stays darker than its row (measured on
# 4,096 tokens in 6.5 in; one pixel a cell, a viewer at 150 dpi showed the sink in half
# the rows).
PRINT_DPI = 300
CAIRO_MAX_PIXELS = 32767  # cairo's image surfaces: larger is INVALID_SIZE


class Figure(Protocol):
    """What a backend draws from."""

    @property
    def prefix(self) -> str | None: ...

    def scene(self, *, text: str | None = None) -> Scene: ...

    def table(self) -> Table: ...


def svg(figure: Figure, dpi: float) -> bytes:
    return render_svg(figure.scene(), prefix=figure.prefix).encode("utf-8")


def pdf(figure: Figure, dpi: float) -> bytes:
    from .render.pdf_images import substitute

    scene = at_pixels(figure.scene(), PRINT_DPI)
    images: list[Any] = []  # palette PNGs of raster matrices, JPEG photographs
    drawn = render_svg(scene, prefix=figure.prefix, interactive=False, images=images)
    if images:  # raster matrices: cairo draws placeholders, the PDF gets the PNG rows
        done = substitute(convert(drawn, "pdf"), images)
        if done is not None:
            return done
        drawn = render_svg(scene, prefix=figure.prefix, interactive=False)
    return convert(drawn, "pdf")


def eps(figure: Figure, dpi: float) -> bytes:
    scene = at_pixels(figure.scene(), PRINT_DPI)
    return convert(render_svg(scene, prefix=figure.prefix, interactive=False), "eps")


def png(figure: Figure, dpi: float) -> bytes:
    scene = at_pixels(pixel_canvas(figure.scene(text="paths"), dpi), dpi)
    return convert(render_svg(scene, prefix=figure.prefix, interactive=False), "png", dpi=dpi)


def csv(figure: Figure, dpi: float) -> bytes:
    from .render.table import encode_csv

    return encode_csv(figure.table().lines())


BACKENDS: dict[str, Callable[[Figure, float], bytes]] = {
    "svg": svg, "pdf": pdf, "png": png, "eps": eps, "csv": csv}


def at_pixels(scene: Scene, dpi: float) -> Scene:
    """The scene for a device of ``dpi``: image cells smaller than a pixel pooled to one
    per pixel, by their strongest colour, before the rasteriser sees them (it would drop
    all but one cell of each pixel's worth)."""
    from .render.raster import to_pixels

    def fit(node: Any) -> Any:
        return to_pixels(node, dpi / 72) if isinstance(node, CellGrid) else node

    root = mapped(scene.root, fit)
    assert isinstance(root, Group)
    return replace(scene, root=root)


def pixel_canvas(scene: Scene, dpi: float) -> Scene:
    """The scene with its canvas grown to whole pixels at ``dpi`` (less than a pixel of
    background more), so no PNG edge row or column is partly transparent; refused when
    the PNG would be larger than the ``megapixels`` limit."""
    px = dpi / 72
    width, height = math.ceil(scene.width * px - 1e-6), math.ceil(scene.height * px - 1e-6)
    limit = current().megapixels
    if width * height > limit * 1e6:
        raise SpecError(f"dpi: {dpi:g} dpi makes a {width * height / 1e6:.0f}-megapixel PNG, over"
                        f" the limit of {limit:g}; lower --dpi, export PDF/SVG, or "
                        f"{current().describe('megapixels')}")
    if max(width, height) > CAIRO_MAX_PIXELS:
        raise SpecError(f"dpi: at {dpi:g} dpi the PNG would be {width} x {height} pixels; cairo "
                        f"draws at most {CAIRO_MAX_PIXELS} a side: lower --dpi, or export PDF/SVG")
    return replace(scene, width=width / px, height=height / px)
