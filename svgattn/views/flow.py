"""The flow view (the seed figure): heads | connectors | token nodes | the matrix | legend.

Heads are boxes ordered by the mean position of the tokens they link to and placed beside
them (least-squares, de-overlapped); connectors are cubic Beziers to token nodes whose
centres sit exactly on the matrix rows. ``matrices = "heads"`` composes the flow with one
matrix per head instead of the combined one: the panels share the token rows and one
legend. Hovering a head (in a browser) highlights its connectors, with CSS alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis.colour import contrast_text, head_colour
from ..analysis.figure import FigureData
from ..errors import SpecError
from ..layout.context import Context
from ..layout.frame import Body, finish, fit
from ..layout.legend import legend, theme_scale
from ..layout.matrix_panel import TOOLTIP_CELLS, column_label_height, matrix_panel
from ..layout.placement import barycentre_order, spread
from ..options import Option
from ..scene import Box, Group, Node, Path, Rect, Scene, Style, moved
from .base import View, register

MAX_CELL_EM = 4.0  # cells never grow beyond this when filling a wide figure
GAP_PER_CELL = 1.5  # connectors get at least this many cell sides of room
NODE_FRACTION = 0.82  # token node height as a share of the row pitch
PANEL_GAP_EM = 1.2  # between the matrices of a composition


@register
class Flow(View):
    name = "flow"
    summary = ("heads joined by curves to the tokens they attend to, beside the attention "
               "matrix (or one matrix per head)")
    options = (
        Option("matrices", "choice", "combined", "Flow view: beside the combined matrix, or "
               "one matrix per head (panels share the token rows and one legend).",
               choices=("combined", "heads"), group="flow view"),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        per_head = opts.get("matrices") == "heads"
        if per_head and any(h.weights is None for h in data.heads):
            raise SpecError("matrices: 'heads' needs each head's own weights; give heads "
                            "weights (or use real attention), or matrices = 'combined'")
        if per_head and not data.heads:
            raise SpecError("matrices: 'heads' needs at least one head")
        panels = ([h.weights for h in data.heads if h.weights is not None] if per_head
                  else [data.matrix])
        values = panels[0][None] if len(panels) == 1 else np.stack(panels)
        scale = theme_scale(ctx, values, signed=data.signed, sinks=data.sinks, opts=dict(opts))
        palette = ctx.value("colors.heads")
        colours = [h.color or head_colour(palette, i)  # type: ignore[arg-type]
                   for i, h in enumerate(data.heads)]

        def arrange(c: Context, cell: float) -> Body:
            return _arrange(data, c, cell, panels, scale, colours, per_head)

        line = _line(data, ctx)
        natural = max(ctx["matrix.cell_size"], line / NODE_FRACTION)
        body, fitted = fit(arrange, ctx, width, natural,
                           smallest=line / NODE_FRACTION * 1.02,
                           largest=MAX_CELL_EM * ctx.em,
                           what=f"{len(data.query_labels)} tokens")
        caption = list(data.caption)
        if scale.note:
            caption.append(scale.note.capitalize())
        return finish(fitted, body, title=data.title, caption=caption, room=width,
                      name="Attention heads and attention matrix",
                      show_title=opts.get("show_title"))


def _line(data: FigureData, ctx: Context) -> float:
    """The vertical band the tallest token label needs (fallback fonts can be taller)."""
    return max(ctx.box(t).centred_extent for t in {*data.query_labels, *data.key_labels})


def _arrange(data: FigureData, ctx: Context, cell: float, panels: list[np.ndarray],
             scale: Any, colours: list[str], per_head: bool) -> Body:
    em = ctx.em
    heads = data.heads
    nq = len(data.query_labels)
    bold = ctx.value("font.head_weight") == "bold"
    head_boxes = [ctx.box(h.name, bold=bold) for h in heads]
    node_boxes = [ctx.box(t) for t in data.query_labels]
    pad = ctx["flow.box_padding"]
    line = _line(data, ctx)
    head_line = max((b.centred_extent for b in head_boxes), default=0.0)
    box_h = max(ctx["flow.box_height"], head_line + 0.4 * em)
    node_h = min(max(ctx["flow.box_height"], line + 0.4 * em), NODE_FRACTION * cell)
    gap = ctx["matrix.label_gap"]
    show_nodes = bool(ctx.value("flow.token_nodes"))
    show_rows = bool(ctx.value("matrix.row_labels"))

    # --- columns (x) -------------------------------------------------------------------
    head_w = max((b.width for b in head_boxes), default=0.0) + 2 * pad
    x_nodes = head_w + max(ctx["flow.connector_gap"], GAP_PER_CELL * cell) if heads else 0.0
    node_w = max(b.width for b in node_boxes) + 2 * pad if show_nodes else 0.0
    x_after_nodes = x_nodes + node_w + (em if show_nodes else 0.0)
    row_w = max(b.width for b in node_boxes) if show_rows else 0.0
    x_matrix = x_after_nodes + (row_w + gap if show_rows else 0.0)

    # --- the matrices: all panels share the rows; column labels decide the top ---------
    show_cols = bool(ctx.value("matrix.column_labels"))
    columns = data.key_labels if show_cols else ()
    col_h = column_label_height(ctx, columns, cell)
    title_h = 0.0
    if per_head:
        title_h = max(ctx.box(h.name, factor=0.9, bold=True).height for h in heads) + 0.4 * em
    y_matrix = col_h + title_h
    nodes: list[Node] = []
    x = x_matrix
    for p, values in enumerate(panels):
        outlines = []
        if not per_head:
            outlines = [(g.start, g.stop, tuple(colours[h] for h in g.heads)) for g in data.groups]
        panel = matrix_panel(ctx, values, scale, id_="matrix" if not per_head else f"matrix-{p}",
                             cell_w=cell,
                             row_labels=data.query_labels if (show_rows and p == 0) else None,
                             column_labels=columns,
                             names=(data.query_labels, data.key_labels)
                             if sum(v.size for v in panels) <= TOOLTIP_CELLS else None,
                             outlines=outlines)
        nodes.extend(moved(n, x, y_matrix) for n in panel.nodes)
        if per_head:
            tb = ctx.box(heads[p].name, factor=0.9, bold=True)
            nodes.append(ctx.text(f"panel-title-{p}", tb, x + values.shape[1] * cell / 2,
                                  title_h / 2, "middle", "panel-title", colours[p], bold=True))
        x += values.shape[1] * cell + PANEL_GAP_EM * em
    x -= PANEL_GAP_EM * em
    row_y = [y_matrix + (i + 0.5) * cell for i in range(nq)]

    # --- heads: barycentre order, near their tokens, de-overlapped ----------------------
    centre = y_matrix + nq * cell / 2
    targets = [float(np.mean([row_y[i] for i in h.links])) if h.links else centre for h in heads]
    order = barycentre_order(targets)
    placed = spread([targets[i] for i in order], box_h + ctx["flow.head_gap"])
    head_y = [0.0] * len(heads)
    for slot, i in enumerate(order):
        head_y[i] = placed[slot]
    radius = ctx["flow.corner_radius"]
    text_role = ctx.value("colors.head_text")
    bend = (x_nodes - head_w) / 2
    connector = Style(stroke=None, stroke_width=ctx["flow.connector_width"],
                      opacity=float(ctx.value("flow.connector_opacity")), linecap="round")  # type: ignore[arg-type]
    items: list[Node] = []
    for i, (h, tb) in enumerate(zip(heads, head_boxes, strict=True)):
        box = Box(0.0, head_y[i] - box_h / 2, head_w, box_h)
        fill = contrast_text(colours[i]) if text_role == "auto" else str(text_role)
        paths: list[Node] = []
        for t in h.links:
            x0, y0, x3, y3 = head_w, head_y[i], x_nodes, row_y[t]
            paths.append(Path(f"conn-{i}-{t}", (("M", (x0, y0)),
                                                ("C", (x0 + bend, y0, x3 - bend, y3, x3, y3))),
                              Style(stroke=colours[i], stroke_width=connector.stroke_width,
                                    opacity=connector.opacity, linecap="round"), "target"))
        items.append(Group(f"head-group-{i}", (
            *paths,
            Rect(f"head-{i}", box, Style(fill=colours[i]), "head", radius),
            ctx.text(f"head-label-{i}", tb, box.x + box.w / 2, head_y[i], "middle",
                     "head-label", fill, bold=bold, owner=f"head-{i}")), hover="item"))
    token_nodes: list[Node] = []
    if show_nodes:
        stroke = Style(fill=str(ctx.value("colors.node_fill")),
                       stroke=str(ctx.value("colors.node_stroke")),
                       stroke_width=ctx["flow.node_stroke_width"])
        node_text = str(ctx.value("colors.node_text"))
        for i, tb in enumerate(node_boxes):
            box = Box(x_nodes, row_y[i] - node_h / 2, node_w, node_h)
            token_nodes.append(Rect(f"token-{i}", box, stroke, "node", min(radius, node_h / 2)))
            token_nodes.append(ctx.text(f"token-label-{i}", tb, x_nodes + node_w / 2, row_y[i],
                                        "middle", "node-label", node_text, owner=f"token-{i}"))

    # --- legend ---------------------------------------------------------------------------
    extra = []
    gradients = []
    if ctx.value("legend.show"):
        key = legend(ctx, scale, x + 1.5 * em, y_matrix, nq * cell)
        extra, gradients = key.nodes, key.gradients
    body: list[Node] = [Group("heads", tuple(items), "heads", hover="scope"),
            Group("tokens", tuple(token_nodes), "tokens"), Group("matrices", tuple(nodes),
                                                                    "matrices"),
            Group("legend", tuple(extra), "legend")]
    desc = (f"Flow diagram of {len(heads)} attention head(s) over {nq} query and "
            f"{len(data.key_labels)} key tokens, beside "
            + ("one matrix per head." if per_head else
               f"the {nq}x{len(data.key_labels)} attention matrix."))
    return Body(body, gradients, desc)
