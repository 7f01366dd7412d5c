"""A labelled heatmap: the piece the matrix, flow and grid views share.

The matrix's top-left corner is at (0, 0); row labels extend to the left, column labels
upwards (turned to read upwards when wider than a cell). The caller moves the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..analysis.colour import ColourScale
from ..scene import Box, CellGrid, Node, Rect, Style, bounds
from .context import Context

TOOLTIP_CELLS = 64 * 64  # at most this many cells carry their weight as a tooltip


@dataclass
class Panel:
    nodes: list[Node]
    cells: CellGrid
    column_label_height: float

    @property
    def box(self) -> Box:
        found = bounds(self.nodes)
        assert found is not None
        return found


def column_label_height(ctx: Context, labels: Sequence[str], cell_w: float) -> float:
    """Room the column labels need above the matrix (0 without labels)."""
    if not labels:
        return 0.0
    boxes = [ctx.box(t) for t in labels]
    widest = max(b.width for b in boxes)
    gap = ctx["matrix.label_gap"]
    if widest > cell_w - 0.15 * ctx.em:
        return widest + gap
    return max(b.height for b in boxes) + gap


def matrix_panel(ctx: Context, values: np.ndarray, scale: ColourScale, *, id_: str = "matrix",
                 cell_w: float, cell_h: float | None = None,
                 row_labels: Sequence[str] | None = None,
                 column_labels: Sequence[str] | None = None,
                 names: tuple[Sequence[str], Sequence[str]] | None = None,
                 outlines: Sequence[tuple[int, int, Sequence[str]]] = (),
                 grid: bool = True) -> Panel:
    """Cells coloured by ``scale``; ``names`` (row, column) fill the cell tooltips of
    matrices of at most 64 x 64 cells."""
    cell_h = cell_w if cell_h is None else cell_h
    rows, cols = values.shape
    colours, index = scale.index(values)
    grid_colour = ctx.value("colors.grid")
    grid_width = ctx["matrix.grid_width"]
    # Lines between cells only while cells are large enough for them not to dominate.
    grid_style = (Style(stroke=str(grid_colour), stroke_width=grid_width)
                  if grid and grid_colour != "none" and grid_width > 0
                  and min(cell_w, cell_h) > 4 * grid_width else None)
    row_names, column_names = names if names else ((), ())
    cells = CellGrid(id_, 0.0, 0.0, cell_w, cell_h, tuple(colours), index, values,
                     grid_style, rows * cols <= TOOLTIP_CELLS and bool(names),
                     tuple(row_names), tuple(column_names))
    nodes: list[Node] = [cells]
    line_w = 1.6 * ctx.scale
    text_colour = str(ctx.value("colors.text"))
    for g, (start, stop, group_colours) in enumerate(outlines):
        for c, colour in enumerate(group_colours or (text_colour,)):
            inset = (c + 0.5) * line_w
            box = Box(start * cell_w + inset, start * cell_h + inset,
                      (stop - start) * cell_w - 2 * inset, (stop - start) * cell_h - 2 * inset)
            if box.w > 0 and box.h > 0:
                nodes.append(Rect(f"{id_}-group-{g}-{c}", box,
                                  Style(stroke=colour, stroke_width=line_w), "group"))
    gap = ctx["matrix.label_gap"]
    if row_labels:
        for i, label in enumerate(row_labels):
            nodes.append(ctx.text(f"{id_}-row-{i}", ctx.box(label), -gap, (i + 0.5) * cell_h,
                                  "end", "row-label", text_colour))
    height = 0.0
    if column_labels:
        height = column_label_height(ctx, column_labels, cell_w)
        boxes = [ctx.box(t) for t in column_labels]
        rotate = max(b.width for b in boxes) > cell_w - 0.15 * ctx.em
        for j, tb in enumerate(boxes):
            cx = (j + 0.5) * cell_w
            if rotate:
                nodes.append(ctx.up_text(f"{id_}-col-{j}", tb, cx, -gap, "col-label",
                                         text_colour))
            else:
                nodes.append(ctx.baseline_text(f"{id_}-col-{j}", tb, cx, -gap - tb.descent,
                                               "middle", "col-label", text_colour))
    return Panel(nodes, cells, height)
