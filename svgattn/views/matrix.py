"""The matrix view: one labelled heatmap (one head, a combination, rollout or a
difference) with its colour bar; rectangular for cross-attention. In a browser, each
cell of a matrix of at most 64 x 64 cells shows its weight on hover (an SVG tooltip)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..analysis.figure import FigureData
from ..layout.context import Context
from ..layout.frame import Body, finish, fit
from ..layout.legend import legend, theme_scale
from ..layout.matrix_panel import matrix_panel
from ..scene import Group, Scene, moved
from .base import View, register

MAX_CELL_EM = 4.0


@register
class Matrix(View):
    name = "matrix"
    summary = "one labelled heatmap (a head, a combination, rollout or a difference)"
    default_heads = "all"

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        scale = theme_scale(ctx, data.matrix, signed=data.signed, sinks=data.sinks,
                            opts=dict(opts))
        rows, cols = data.matrix.shape

        def arrange(c: Context, cell: float) -> Body:
            show_rows = bool(c.value("matrix.row_labels"))
            show_cols = bool(c.value("matrix.column_labels"))
            panel = matrix_panel(c, data.matrix, scale, cell_w=cell,
                                 row_labels=data.query_labels if show_rows else None,
                                 column_labels=data.key_labels if show_cols else None,
                                 names=(data.query_labels, data.key_labels),
                                 outlines=[(g.start, g.stop, ()) for g in data.groups])
            nodes = list(panel.nodes)
            gradients = []
            if c.value("legend.show"):
                key = legend(c, scale, cols * cell + 1.5 * c.em, 0.0, rows * cell)
                nodes += key.nodes
                gradients = key.gradients
            return Body([Group("matrix-panel", tuple(moved(n, 0, 0) for n in nodes), "panel")],
                        gradients, f"Attention matrix of {rows} query x {cols} key tokens.")

        line = max(ctx.box(t).centred_extent for t in {*data.query_labels, *data.key_labels})
        natural = max(ctx["matrix.cell_size"], line * 1.15)
        body, fitted = fit(arrange, ctx, width, natural, smallest=line * 1.05,
                           largest=MAX_CELL_EM * ctx.em, what=f"{max(rows, cols)} tokens")
        caption = list(data.caption) + ([scale.note.capitalize()] if scale.note else [])
        return finish(fitted, body, title=data.title, caption=caption, room=width,
                      name="Attention matrix", show_title=opts.get("show_title"))
