"""A labelled heatmap: the piece the matrix, flow and grid views share.

The matrix's top-left corner is at (0, 0); row labels extend to the left, column labels
upwards (turned to read upwards when wider than a cell). The caller moves the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..analysis.scale import ColourScale
from ..scene import Box, CellGrid, Node, Path, Rect, Style, bounds
from .context import Context

LONG_SIDE = 1080.0  # points (15 in): a matrix with every label larger than this is "long"
AUTO_SIDE = 720.0  # points (10 in): then its side when the width is auto, labels thinned
TINY_CELL = 0.02  # points: the smallest cell of a long sequence in a tight width
THIN_CELL = 2.5  # points: the smallest cell of a short sequence, its labels thinned to fit
THIN_FROM = 32  # more tokens than this: a tight width thins labels before shrinking type


@dataclass(eq=False)
class Panel:
    nodes: list[Node]
    cells: CellGrid
    column_label_height: float
    thinned: str = ""  # how labels were thinned, for the caption ("" when all are drawn)

    @property
    def box(self) -> Box:
        found = bounds(self.nodes)
        assert found is not None
        return found


def label_need(ctx: Context, labels: Sequence[str]) -> float:
    """The pitch a row of labels needs (their tallest band, and a little air)."""
    return ctx.extents(labels)[1] * 1.1


def cell_range(n: int, natural: float, smallest: float) -> tuple[float, float, float | None]:
    """(natural, smallest, tiny) cell sides for ``n`` tokens, given those at which every
    label fits: a long sequence gets a matrix of ``AUTO_SIDE`` and may shrink to
    ``TINY_CELL`` in a tight width, labels thinned rather than type shrunk. Beyond
    ``THIN_FROM`` tokens a tight width thins labels too (``tiny``: see
    :func:`~svgattn.layout.frame.fit`); a dozen tokens keep every label, smaller."""
    if n * natural > LONG_SIDE:
        return AUTO_SIDE / n, TINY_CELL, TINY_CELL
    return natural, smallest, TINY_CELL if n > THIN_FROM else None


def label_gap(ctx: Context, cell: float, rows: Sequence[str] | None,
              columns: Sequence[str] | None) -> float:
    """Room between the matrix and its labels: the theme's ``matrix.label_gap``, more when
    cells are smaller than a label is tall (a long sequence), so that the first row's
    label and the first column's (both overhanging the corner) cannot touch."""
    gap = ctx["matrix.label_gap"]
    if not rows or not columns:
        return gap
    band = label_need(ctx, [rows[0], columns[0]]) / 1.1
    return max(gap, (band - cell) / 2 + 0.1 * ctx.em)


def raster(ctx: Context, cells: int, mode: object) -> bool:
    """Draw ``cells`` as one image? ``cells = "raster"``/``"vector"`` decide; ``auto``
    (default) above the theme's ``matrix.raster_above``."""
    if mode == "raster":
        return True
    if mode == "vector":
        return False
    return cells > float(ctx.value("matrix.raster_above"))  # type: ignore[arg-type]


class PanelSpec(NamedTuple):
    """How one heatmap is drawn. ``rows``/``columns``: labels (``None``: none); ``names``
    (rows, columns) name the cells in their tooltips (which the framework shows in small
    figures: :mod:`svgattn.layout.frame`);
    ``outlines``: token groups ``(start, stop, colours)``; ``image``: one embedded image
    instead of vector cells; ``only``/``every`` (rows, columns): thin labels to those
    indices, or every k-th (at least this); ``indexed``: the cells' colours and colour
    indices, when already computed."""

    id: str = "matrix"
    cell_h: float | None = None
    rows: Sequence[str] | None = None
    columns: Sequence[str] | None = None
    # the labels with their positions, drawn instead when only some can be (thinned)
    rows_at: Sequence[str] | None = None
    columns_at: Sequence[str] | None = None
    names: tuple[Sequence[str], Sequence[str]] | None = None
    where: str = "{row} \u2192 {column}"  # how a tooltip names a cell (CellGrid.where)
    outlines: Sequence[tuple[int, int, Sequence[str]]] = ()
    grid: bool = True
    image: bool = False
    only: tuple[Sequence[int] | None, Sequence[int] | None] = (None, None)
    every: tuple[int | None, int | None] = (None, None)
    indexed: tuple[tuple[str, ...], np.ndarray] | None = None
    # the first generated row and column (FigureData.generated): a line before them, their
    # labels in colors.generated
    marked: tuple[int | None, int | None] = (None, None)


DEFAULT = PanelSpec()


def matrix_panel(ctx: Context, values: np.ndarray, scale: ColourScale, cell_w: float,
                 spec: PanelSpec = DEFAULT) -> Panel:
    """Cells coloured by ``scale``, ``cell_w`` wide, with the labels, outlines and
    tooltips ``spec`` asks for; labels closer than they need are thinned
    (:mod:`svgattn.layout.labels`)."""
    cell_h = cell_w if spec.cell_h is None else spec.cell_h
    rows, cols = values.shape
    cells = _cells(ctx, values, scale, cell_w, cell_h, spec)
    nodes: list[Node] = [cells]
    nodes += _outlines(ctx, spec, cell_w, cell_h)
    nodes += _boundaries(ctx, spec, rows * cell_h, cols * cell_w, cell_w, cell_h)
    gap = label_gap(ctx, min(cell_w, cell_h), spec.rows, spec.columns)
    notes = []
    if spec.rows:
        shown, labels = _row_labels(ctx, spec, rows, cell_h, gap)
        nodes += labels
        if shown < rows:
            notes.append(f"{shown} of {rows} rows labelled")
    height = 0.0
    if spec.columns:
        shown, labels, height = _column_labels(ctx, spec, cols, cell_w, gap)
        nodes += labels
        if shown < cols:
            notes.append(f"{shown} of {cols} columns labelled")
    return Panel(nodes, cells, height, "; ".join(notes))


def _cells(ctx: Context, values: np.ndarray, scale: ColourScale, cell_w: float, cell_h: float,
           spec: PanelSpec) -> CellGrid:
    colours, index = spec.indexed if spec.indexed is not None else scale.index(values)
    grid_colour = ctx.value("colors.grid")
    grid_width = ctx["matrix.grid_width"]
    # Lines between cells only while cells are large enough for them not to dominate.
    grid_style = (Style(stroke=str(grid_colour), stroke_width=grid_width)
                  if spec.grid and grid_colour != "none" and grid_width > 0
                  and min(cell_w, cell_h) > 4 * grid_width else None)
    row_names, column_names = spec.names if spec.names else ((), ())
    masked = scale.masked is not None and len(colours) > len(scale.colours)
    return CellGrid(spec.id, 0.0, 0.0, cell_w, cell_h, tuple(colours), index, values,
                    None if spec.image else grid_style, False,
                    tuple(row_names), tuple(column_names), raster=spec.image,
                    pooling="extreme" if scale.kind == "diverging" else "max", masked=masked,
                    where=spec.where)


def _outlines(ctx: Context, spec: PanelSpec, cell_w: float, cell_h: float) -> list[Node]:
    """Token groups outlined in the colours of the heads that form them (nested)."""
    out: list[Node] = []
    line_w = 1.6 * ctx.scale
    text_colour = str(ctx.value("colors.text"))
    for g, (start, stop, group_colours) in enumerate(spec.outlines):
        for c, colour in enumerate(group_colours or (text_colour,)):
            inset = (c + 0.5) * line_w
            box = Box(start * cell_w + inset, start * cell_h + inset,
                      (stop - start) * cell_w - 2 * inset, (stop - start) * cell_h - 2 * inset)
            if box.w > 0 and box.h > 0:
                out.append(Rect(f"{spec.id}-group-{g}-{c}", box,
                                Style(stroke=colour, stroke_width=line_w), "group"))
    return out


def _boundaries(ctx: Context, spec: PanelSpec, height: float, width: float, cell_w: float,
                cell_h: float) -> list[Node]:
    """A line before the first generated row and column, across the cells."""
    colour = str(ctx.value("colors.generated"))
    style = Style(stroke=colour, stroke_width=1.2 * ctx.scale)
    row, column = spec.marked
    out: list[Node] = []
    if row:
        out.append(Path(f"{spec.id}-generated-row", (("M", (0.0, row * cell_h)),
                                                       ("L", (width, row * cell_h))), style,
                        "generated"))
    if column:
        out.append(Path(f"{spec.id}-generated-column", (("M", (column * cell_w, 0.0)),
                                                          ("L", (column * cell_w, height))),
                        style, "generated"))
    return out


def label_colour(ctx: Context, index: int, first: int | None) -> str:
    """A token label's colour: ``colors.generated`` from ``first`` on (generated tokens),
    else ``colors.text``."""
    generated = first is not None and index >= first
    return str(ctx.value("colors.generated" if generated else "colors.text"))


def _row_labels(ctx: Context, spec: PanelSpec, rows: int, cell_h: float,
                gap: float) -> tuple[int, list[Node]]:
    from .labels import thin

    assert spec.rows is not None
    labels = spec.rows
    shown = thin(rows, cell_h, label_need(ctx, labels), spec.only[0], spec.every[0])
    if len(shown) < rows and spec.rows_at is not None:  # only some named: say where they are
        labels = spec.rows_at
        shown = thin(rows, cell_h, label_need(ctx, labels), spec.only[0], spec.every[0])
    return len(shown), [ctx.text(f"{spec.id}-row-{i}", ctx.box(labels[i]), -gap,
                                 (i + 0.5) * cell_h, "end", "row-label",
                                 label_colour(ctx, i, spec.marked[0])) for i in shown]


def _column_labels(ctx: Context, spec: PanelSpec, cols: int, cell_w: float,
                   gap: float) -> tuple[int, list[Node], float]:
    """Column labels above the cells, turned to read upwards when wider than a cell;
    (how many are drawn, the labels, the height they take)."""
    assert spec.columns is not None
    labels, rotate, shown = _column_choice(ctx, spec.columns, cols, cell_w, spec)
    if len(shown) < cols and spec.columns_at is not None:  # thinned: with positions
        labels, rotate, shown = _column_choice(ctx, spec.columns_at, cols, cell_w, spec)
    boxes_all = ctx.boxes(labels)
    height = (max((boxes_all[j].width for j in shown), default=0.0) if rotate else
              max((boxes_all[j].height for j in shown), default=0.0)) + gap
    nodes: list[Node] = []
    for j in shown:
        tb, cx = boxes_all[j], (j + 0.5) * cell_w
        colour = label_colour(ctx, j, spec.marked[1])
        if rotate:
            nodes.append(ctx.up_text(f"{spec.id}-col-{j}", tb, cx, -gap, "col-label", colour))
        else:
            nodes.append(ctx.baseline_text(f"{spec.id}-col-{j}", tb, cx, -gap - tb.descent,
                                           "middle", "col-label", colour))
    return len(shown), nodes, height


def _column_choice(ctx: Context, labels: Sequence[str], cols: int, cell_w: float,
                   spec: PanelSpec) -> tuple[Sequence[str], bool, list[int]]:
    """(labels, turned upwards?, the columns labelled) for one set of labels."""
    from .labels import thin

    widest = ctx.extents(labels)[0]
    rotate = widest > cell_w - 0.15 * ctx.em
    need = label_need(ctx, labels) if rotate else widest + 0.3 * ctx.em
    return labels, rotate, thin(cols, cell_w, need, spec.only[1], spec.every[1])
