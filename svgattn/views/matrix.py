"""The matrix view: one labelled heatmap (one head, a combination, rollout or a
difference) with its colour bar; rectangular for cross-attention. In a browser, each
cell of a matrix of at most 64 x 64 cells shows its weight on hover (an SVG tooltip)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..analysis.figure import FigureData
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import words
from ..layout.labels import priority
from ..layout.legend import legend
from ..layout.matrix_panel import (
    THIN_CELL,
    PanelSpec,
    cell_range,
    label_need,
    matrix_panel,
    raster,
)
from ..layout.scale import colour_scale
from ..layout.table import Table, wide
from ..options import CELLS, COLOUR, LABELS, SELECTION, TOKENS
from ..scene import Group, moved
from .base import View
from .registry import register

MAX_CELL_EM = 4.0


@register
class Matrix(View):
    name = "matrix"
    summary = "one labelled heatmap (a head, a combination, rollout or a difference)"
    default_heads = "all"
    averages = True  # several inputs of one length: their mean (StreamingLLM's sink maps)
    fits = True  # the matrix, cell by cell
    reads = (*SELECTION, *TOKENS, *COLOUR, "groups")
    hints: ClassVar[Mapping[str, str]] = {
        "links": "links are the flow view's; drop it",
        "layers": "use --layer (one layer)",
    }
    options = (LABELS, CELLS)

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        scale = colour_scale(ctx, data.matrix, data, opts)
        rows, cols = data.matrix.shape
        image = raster(ctx, rows * cols, opts["cells"])
        indexed = scale.index(data.matrix)  # once, whatever the number of layouts tried
        spec = opts["labels"]
        only_rows, every_rows = priority(spec, data, 0, "matrix view")
        only_cols, every_cols = priority(spec, data, 1, "matrix view")
        notes: list[str] = []
        positioned = (data.positioned(query=True), data.positioned(query=False))

        def arrange(c: Context, cell: float) -> Body:
            show_rows = bool(c.value("matrix.row_labels"))
            show_cols = bool(c.value("matrix.column_labels"))
            panel = matrix_panel(c, data.matrix, scale, cell, PanelSpec(
                rows=data.query_labels if show_rows else None,
                columns=data.key_labels if show_cols else None,
                rows_at=positioned[0], columns_at=positioned[1],
                names=(data.query_labels, data.key_labels),
                outlines=[(g.start, g.stop, ()) for g in data.groups], image=image,
                only=(only_rows, only_cols), every=(every_rows, every_cols), indexed=indexed,
                marked=data.generated))
            notes[:] = [panel.thinned] if panel.thinned else []
            nodes = list(panel.nodes)
            gradients = []
            if c.value("legend.show"):
                key = legend(c, scale, cols * cell + 1.5 * c.em, 0.0, rows * cell)
                nodes += key.nodes
                gradients = key.gradients
            return Body([Group("matrix-panel", tuple(moved(n, 0, 0) for n in nodes), "panel")],
                        gradients, f"Attention matrix of {rows} query x {cols} key tokens.")

        n = max(rows, cols)
        line = label_need(ctx, [*data.query_labels[:2000], *data.key_labels[:2000]])
        # a long sequence: a matrix of about 10 inches when the width is auto, labels thinned
        natural, smallest, tiny = cell_range(n, max(ctx["matrix.cell_size"], line), line)
        body = fit(arrange, ctx, width, natural, smallest=smallest,
                   largest=max(MAX_CELL_EM * ctx.em, natural), tiny=tiny, span=cols,
                   what=f"{n} tokens", thin=THIN_CELL)
        body.caption = [*data.caption, *words(scale), *(n_.capitalize() for n_ in notes)]
        body.name = "Attention matrix"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """The matrix drawn, wide: a row per query, a column per key."""
        return wide(data, data.matrix)
