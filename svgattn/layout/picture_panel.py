"""A map over a picture: a grid of patch cells that tiles the photo exactly (or, smoothed
for display, a finer image of the same map), coloured through a colour scale at a stated
opacity, with mask outlines along merged patch edges. Shared by the image and words
views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..analysis.patch_maps import outline, smoothed
from ..analysis.scale import ColourScale
from ..photo import Photo
from ..scene import Box, CellGrid, Node, Path, Picture, Rect, Style
from .context import Context

SMOOTH_SAMPLES = 16  # a smoothed map: samples a patch side


class PanelMap(NamedTuple):
    """What one panel draws: a map ``values [rows, cols]`` (``None``: the picture alone),
    the masks to outline ``(mask, colour)``, and whether to smooth the map for display."""

    values: np.ndarray | None
    masks: Sequence[tuple[np.ndarray, str]] = ()
    smooth: bool = False


def panel_height(width: float, rows: int, cols: int, photo: Photo | None) -> float:
    """A panel's height for ``width``: the picture's own aspect (which the grid fits to a
    pixel), else square patches."""
    if photo is not None:
        w, h = photo.size
        return width * h / w
    return width * rows / cols


def map_panel(ctx: Context, id_: str, x: float, y: float, width: float, shape: tuple[int, int],
              drawn: PanelMap, scale: ColourScale, *, photo: Photo | None = None,
              opacity: float = 1.0, outline_width: float = 1.5, name: str = "") -> list[Node]:
    """The primitives of one panel at (``x``, ``y``), ``width`` wide: the photo (embedded
    once per figure: give it to one panel), the map's cells over it at ``opacity``, the
    mask outlines, and a hairline frame. ``name`` starts each cell's tooltip (a head's)."""
    rows, cols = shape
    height = panel_height(width, rows, cols, photo)
    cell_w, cell_h = width / cols, height / rows
    nodes: list[Node] = []
    if photo is not None:
        nodes.append(Picture(f"{id_}-photo", Box(x, y, width, height), photo))
    if drawn.values is not None:
        if drawn.smooth:
            fine = smoothed(drawn.values, SMOOTH_SAMPLES)
            colours, index = scale.index(fine)
            nodes.append(CellGrid(f"{id_}-smooth", x, y, cell_w / SMOOTH_SAMPLES,
                                  cell_h / SMOOTH_SAMPLES, tuple(colours), index, fine,
                                  raster=True, role="patches", opacity=opacity))
        else:
            colours, index = scale.index(drawn.values)
            nodes.append(CellGrid(f"{id_}-cells", x, y, cell_w, cell_h, tuple(colours), index,
                                  np.asarray(drawn.values), None, False,
                                  tuple(str(r) for r in range(rows)),
                                  tuple(str(c) for c in range(cols)),
                                  # a name is untrusted text: braces stay braces
                                  where=(name.replace("{", "{{").replace("}", "}}") +
                                         " patch ({row}, {column})").lstrip(),
                                  role="patches",
                                  opacity=opacity))
    width_line = outline_width * ctx.scale
    for k, (mask, colour) in enumerate(drawn.masks):
        for j, loop in enumerate(outline(mask)):
            commands = [("M" if i == 0 else "L", (x + cx * cell_w, y + cy * cell_h))
                        for i, (cx, cy) in enumerate(loop)]
            nodes.append(Path(f"{id_}-mask-{k}-{j}", (*commands, ("Z", ())),
                              Style(stroke=colour, stroke_width=width_line, linecap="butt"),
                              "mask"))
    nodes.append(Rect(f"{id_}-frame", Box(x, y, width, height),
                      Style(stroke=str(ctx.value("colors.muted")),
                            stroke_width=0.5 * ctx.scale), "frame"))
    return nodes
