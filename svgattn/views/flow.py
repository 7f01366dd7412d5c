"""The flow view (the seed figure): heads | connectors | token nodes | the matrix | legend.

Heads are boxes ordered by the mean position of the tokens they link to and placed beside
them (least-squares, de-overlapped); connectors are cubic Beziers to token nodes whose
centres sit exactly on the matrix rows. ``matrices = "heads"`` composes the flow with one
matrix per head instead of the combined one: the panels share the token rows and one
legend. Hovering a head (in a browser) highlights its connectors, with CSS alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.scale import ColourScale
from ..captions import Essential, counted
from ..colours import contrast_text, head_colour
from ..errors import SpecError
from ..fields import Field, boolean, choice, length, number
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import words
from ..layout.labels import priority
from ..layout.legend import legend
from ..layout.matrix_panel import (
    THIN_CELL,
    Panel,
    PanelSpec,
    cell_range,
    label_gap,
    matrix_panel,
    raster,
)
from ..layout.placement import barycentre_order, spread
from ..layout.scale import colour_scale
from ..options import CELLS, COLOUR, LABELS, SELECTION, TOKENS
from ..scene import Box, Group, Node, Path, Rect, Style, moved
from ..text.metrics import TextBox
from .base import View
from .registry import register

if TYPE_CHECKING:  # pragma: no cover
    from ..layout.table import Table

MAX_CELL_EM = 4.0  # cells never grow beyond this when filling a wide figure
GAP_PER_CELL = 1.5  # connectors get at least this many cell sides of room
NODE_FRACTION = 0.82  # token node height as a share of the row pitch
PANEL_GAP_EM = 1.2  # between the matrices of a composition


@register
class Flow(View):
    name = "flow"
    summary = ("heads joined by curves to the tokens they attend to, beside the attention "
               "matrix (or one matrix per head)")
    fits = True  # the matrix, cell by cell
    reads = (*SELECTION, *TOKENS, *COLOUR, "links", "groups")
    hints: ClassVar[Mapping[str, str]] = {"layers": "use --layer (one layer)"}
    options = (
        Field("matrices", choice("combined", "heads"), "combined", "Flow view: beside the "
              "combined matrix, or one matrix per head (panels share the token rows and one "
              "legend).", group="flow view"),
        LABELS, CELLS,
    )

    theme_keys = (
        Field("flow.connector_gap", length(4, 500), "4em",
              "Flow view: horizontal room for the connector curves."),
        Field("flow.head_gap", length(0, 100), "0.6em",
              "Flow view: least vertical space between two head boxes."),
        Field("flow.box_padding", length(0, 100), "0.6em",
              "Flow view: horizontal padding between a box's edge and its label."),
        Field("flow.box_height", length(2, 200), "1.7em",
              "Flow view: height of head boxes and token nodes."),
        Field("flow.corner_radius", length(0, 100), "0.3em",
              "Flow view: corner radius of head boxes and token nodes."),
        Field("flow.connector_width", length(0.1, 20), 1.4,
              "Flow view: stroke width of connector curves."),
        Field("flow.connector_opacity", number(0, 1), 0.85,
              "Flow view: opacity of connector curves."),
        Field("flow.node_stroke_width", length(0, 20), 0.8,
              "Flow view: outline width of token nodes."),
        Field("flow.token_nodes", boolean(), True,
              "Flow view: draw token nodes between the connectors and the matrix."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        per_head = opts["matrices"] == "heads"
        if per_head and any(h.weights is None for h in data.heads):
            raise SpecError("matrices: 'heads' needs each head's own weights; give heads "
                            "weights (or use real attention), or matrices = 'combined'")
        if per_head and not data.heads:
            raise SpecError("matrices: 'heads' needs at least one head")
        panels = ([h.weights for h in data.heads if h.weights is not None] if per_head
                  else [data.matrix])
        values = panels[0][None] if len(panels) == 1 else np.stack(panels)
        scale = colour_scale(ctx, values, data, opts)
        palette = ctx.value("colors.heads")
        colours = [h.color or head_colour(palette, i)  # type: ignore[arg-type]
                   for i, h in enumerate(data.heads)]

        image = raster(ctx, sum(p.size for p in panels), opts["cells"])
        indexed = [scale.index(p) for p in panels]  # once, whatever the layouts tried
        labels = priority(opts["labels"], data, 1, "flow view")

        plan = _Flow(data, panels, scale, colours, per_head, image, indexed, labels)
        arrange = plan.arrange

        line = _line(data, ctx)
        n = max(len(data.query_labels), len(data.key_labels))
        natural = max(ctx["matrix.cell_size"], line / NODE_FRACTION)
        # a long sequence: small cells, only the linked tokens named
        natural, smallest, tiny = cell_range(n, natural, line / NODE_FRACTION * 1.02)
        what = f"{len(data.query_labels)} tokens"
        largest = max(MAX_CELL_EM * ctx.em, natural)
        found: Body | None = None
        try:
            found = fit(arrange, ctx, width, natural, smallest=smallest, largest=largest,
                        tiny=tiny, what=what, thin=THIN_CELL)
        except SpecError:
            if not ctx.value("flow.token_nodes"):
                raise
        if width is not None and (found is None or found.context is None or
                                  found.context.scale < 1) and ctx.value("flow.token_nodes"):
            # too narrow for full type: the token nodes name the rows, their labels go
            plan.rows = False
            found = fit(arrange, ctx, width, natural, smallest=smallest, largest=largest,
                        tiny=tiny, what=what, thin=THIN_CELL)
        assert found is not None
        body = found
        caption = list(data.caption)
        if per_head:  # the combined matrix is not drawn: say what the panels are instead
            named = ", ".join(h.name for h in data.heads)
            caption_line = Essential(f"One matrix per head: {named}, one colour scale",
                                     "One matrix per head")
            caption = [caption_line if x == data.matrix_caption and x else x for x in caption]
        flat = [h.name for h in data.heads if data.causal and not h.links]
        if flat:  # a head without links is drawn as such: say why
            caption.append(f"{', '.join(flat)}: no token stands out (each is attended about "
                           "as much as the next, as by a previous-token or diagonal head); "
                           "no links drawn")
        caption += words(scale)
        caption += [n_[:1].upper() + n_[1:] for n_ in plan.notes]
        body.caption, body.name = caption, "Attention heads and attention matrix"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """The matrix drawn beside the heads, wide (one matrix per head: the head in the
        first column of each of its rows)."""
        from ..layout.table import Table, wide

        if opts["matrices"] != "heads":
            return wide(data, data.matrix)
        tables = [wide(data, h.weights, first=[("head", h.name)]) for h in data.heads
                  if h.weights is not None]
        if not tables:
            raise SpecError("matrices: 'heads' needs each head's own weights; give heads "
                            "weights (or use real attention), or matrices = 'combined'")
        return Table(tables[0].header, [r for t in tables for r in t.rows], tables[0].note,
                     tables[0].noted)


def _line(data: FigureData, ctx: Context) -> float:
    """The vertical band the tallest token label needs (fallback fonts can be taller)."""
    return max(ctx.extents(labels)[1] for labels in (data.query_labels, data.key_labels))


class _Columns(NamedTuple):
    """Where the columns of one layout go (x), and what they hold."""

    cell: float
    long: bool  # rows too close for a node each: only linked tokens get nodes
    named: list[int]  # query rows that get a token node
    node_boxes: dict[int, TextBox]
    head_boxes: list[TextBox]
    head_w: float
    box_h: float
    node_h: float
    x_nodes: float
    node_w: float
    x_matrix: float
    show_rows: bool
    columns: Sequence[str]
    bold: bool


@dataclass(eq=False)
class _Flow:
    """The flow view's content, decided once per figure; :meth:`arrange` lays it out at
    one cell size (a figure fitted to a width tries a few)."""

    data: FigureData
    panels: list[np.ndarray]
    scale: ColourScale
    colours: list[str]
    per_head: bool
    image: bool  # cells as one embedded image
    indexed: list[tuple[tuple[str, ...], np.ndarray]]  # each panel's colours and indices
    labels: tuple[list[int] | None, int | None]  # column labels: only these / every k-th
    notes: list[str] = field(default_factory=list)  # what the caption says of thinning
    rows: bool = True  # label the matrix rows (a narrow figure leaves that to the nodes)

    def arrange(self, ctx: Context, cell: float) -> Body:
        cols = self._columns(ctx, cell)
        nodes, y_matrix, x_end, built = self._matrices(ctx, cols)
        nq = len(self.data.query_labels)
        row_y = [y_matrix + (i + 0.5) * cell for i in range(nq)]
        # where each named token's node sits: on its row, or (long) spread near it
        node_y = dict(zip(cols.named, spread([row_y[i] for i in cols.named],
                                             cols.node_h + 0.25 * ctx.em)
                          if cols.long else [row_y[i] for i in cols.named], strict=True))
        thinned = next((b.thinned for b in built if b.thinned), "")
        self.notes[:] = [thinned] if thinned else []
        if not self.rows and cols.node_w:
            self.notes.append("matrix rows are named by the token nodes beside them")
        if cols.long and cols.named:
            self.notes.append(f"token nodes: the {len(cols.named)} of {nq} tokens the heads "
                              "link to, each joined to its matrix row")
        heads = self._heads(ctx, cols, node_y, y_matrix + nq * cell / 2)
        tokens = self._nodes(ctx, cols, node_y, row_y)
        extra, gradients = [], []
        if ctx.value("legend.show"):
            key = legend(ctx, self.scale, x_end + 1.5 * ctx.em, y_matrix, nq * cell)
            extra, gradients = key.nodes, key.gradients
        body: list[Node] = [Group("heads", tuple(heads), "heads", hover="scope"),
                            Group("tokens", tuple(tokens), "tokens"),
                            Group("matrices", tuple(nodes), "matrices"),
                            Group("legend", tuple(extra), "legend")]
        return Body(body, gradients, self._description())

    def _description(self) -> str:
        nq, nk = len(self.data.query_labels), len(self.data.key_labels)
        heads = counted(len(self.data.heads), "attention head")
        beside = ("one matrix per head." if self.per_head else
                  f"the {nq}x{nk} attention matrix.")
        return f"Flow diagram of {heads} over {nq} query and {nk} key tokens, beside {beside}"

    def _columns(self, ctx: Context, cell: float) -> _Columns:
        """Heads | connectors | token nodes | (leaders) | row labels | matrices."""
        data, em = self.data, ctx.em
        bold = ctx.value("font.head_weight") == "bold"
        head_boxes = [ctx.box(h.name, bold=bold) for h in data.heads]
        pad = ctx["flow.box_padding"]
        line = _line(data, ctx)
        # Rows too close for a node each (a long sequence): only the tokens the heads link
        # to get nodes, spread apart and joined to their rows by leader lines.
        long = cell * NODE_FRACTION < line
        nq = len(data.query_labels)
        named = sorted({t for h in data.heads for t in h.links}) if long else list(range(nq))
        # a long sequence names only some tokens: each with its position
        labels = data.positioned(query=True) if long else data.query_labels
        node_boxes = {i: ctx.box(labels[i]) for i in named}
        head_line = max((b.centred_extent for b in head_boxes), default=0.0)
        box_h = max(ctx["flow.box_height"], head_line + 0.4 * em)
        node_h = max(ctx["flow.box_height"], line + 0.4 * em)
        if not long:
            node_h = min(node_h, NODE_FRACTION * cell)
        show_nodes = bool(ctx.value("flow.token_nodes"))
        # a long sequence's rows are named by the nodes; with no node, by thinned row labels
        show_rows = bool(ctx.value("matrix.row_labels")) and self.rows and \
            not (long and show_nodes and named)
        head_w = max((b.width for b in head_boxes), default=0.0) + 2 * pad
        x_nodes = head_w + max(ctx["flow.connector_gap"], GAP_PER_CELL * cell) \
            if data.heads else 0.0
        node_w = max((b.width for b in node_boxes.values()), default=0.0) + 2 * pad \
            if show_nodes and node_boxes else 0.0
        leader = 2.5 * em if long and node_w else 0.0  # room for the leader lines
        x_after_nodes = x_nodes + node_w + (em if node_w else 0.0) + leader
        row_w = max(ctx.box(t).width for t in data.query_labels) if show_rows else 0.0
        columns = data.key_labels if ctx.value("matrix.column_labels") else ()
        gap = label_gap(ctx, cell, data.query_labels, columns) if show_rows \
            else ctx["matrix.label_gap"]
        x_matrix = x_after_nodes + (row_w + gap if show_rows else 0.0)
        return _Columns(cell, long, named, node_boxes, head_boxes, head_w, box_h, node_h,
                        x_nodes, node_w, x_matrix, show_rows, columns, bold)

    def _matrices(self, ctx: Context, cols: _Columns) -> tuple[list[Node], float, float,
                                                                list[Panel]]:
        """The matrix panels side by side, sharing the token rows; the column labels decide
        the top. (nodes, the matrices' top, their right end, the panels)."""
        data, em, cell = self.data, ctx.em, cols.cell
        heads = data.heads
        title_h = 0.0
        if self.per_head:
            title_h = max(ctx.box(h.name, factor=0.9, bold=True).height for h in heads) \
                + 0.4 * em
        built = []
        for p, values in enumerate(self.panels):
            outlines = [] if self.per_head else [
                (g.start, g.stop, tuple(self.colours[h] for h in g.heads)) for g in data.groups]
            built.append(matrix_panel(ctx, values, self.scale, cell, PanelSpec(
                id="matrix" if not self.per_head else f"matrix-{p}",
                rows=data.query_labels if (cols.show_rows and p == 0) else None,
                columns=cols.columns, rows_at=data.positioned(query=True),
                columns_at=data.positioned(query=False) if cols.columns else None,
                names=(data.query_labels, data.key_labels),
                outlines=outlines, image=self.image, indexed=self.indexed[p],
                only=(None, self.labels[0]), every=(None, self.labels[1]),
                marked=data.generated)))
        y_matrix = max(b.column_label_height for b in built) + title_h
        nodes: list[Node] = []
        x = cols.x_matrix
        for p, (values, panel) in enumerate(zip(self.panels, built, strict=True)):
            nodes.extend(moved(n, x, y_matrix) for n in panel.nodes)
            if self.per_head:
                tb = ctx.box(heads[p].name, factor=0.9, bold=True)
                nodes.append(ctx.text(f"panel-title-{p}", tb, x + values.shape[1] * cell / 2,
                                      title_h / 2, "middle", "panel-title", self.colours[p],
                                      bold=True))
            x += values.shape[1] * cell + PANEL_GAP_EM * em
        return nodes, y_matrix, x - PANEL_GAP_EM * em, built

    def _heads(self, ctx: Context, cols: _Columns, node_y: dict[int, float],
               centre: float) -> list[Node]:
        """Head boxes in barycentre order, near their tokens, de-overlapped, each with its
        connectors (a hover group)."""
        heads = self.data.heads
        targets = [float(np.mean([node_y[i] for i in h.links])) if h.links else centre
                   for h in heads]
        order = barycentre_order(targets)
        placed = spread([targets[i] for i in order], cols.box_h + ctx["flow.head_gap"])
        head_y = [0.0] * len(heads)
        for slot, i in enumerate(order):
            head_y[i] = placed[slot]
        radius = ctx["flow.corner_radius"]
        text_role = ctx.value("colors.head_text")
        end_x = cols.x_nodes if cols.node_w or not cols.long else cols.x_matrix
        bend = (end_x - cols.head_w) / 2
        width_ = ctx["flow.connector_width"]
        opacity = float(ctx.value("flow.connector_opacity"))  # type: ignore[arg-type]
        items: list[Node] = []
        for i, (h, tb) in enumerate(zip(heads, cols.head_boxes, strict=True)):
            box = Box(0.0, head_y[i] - cols.box_h / 2, cols.head_w, cols.box_h)
            fill = contrast_text(self.colours[i]) if text_role == "auto" else str(text_role)
            paths: list[Node] = []
            for t in h.links:
                x0, y0, x3, y3 = cols.head_w, head_y[i], end_x, node_y[t]
                paths.append(Path(f"conn-{i}-{t}", (
                    ("M", (x0, y0)), ("C", (x0 + bend, y0, x3 - bend, y3, x3, y3))),
                    Style(stroke=self.colours[i], stroke_width=width_, opacity=opacity,
                          linecap="round"), "target"))
            items.append(Group(f"head-group-{i}", (
                *paths,
                Rect(f"head-{i}", box, Style(fill=self.colours[i]), "head", radius),
                ctx.text(f"head-label-{i}", tb, box.x + box.w / 2, head_y[i], "middle",
                         "head-label", fill, bold=cols.bold, owner=f"head-{i}")), hover="item"))
        return items

    def _nodes(self, ctx: Context, cols: _Columns, node_y: dict[int, float],
               row_y: list[float]) -> list[Node]:
        """Token nodes; in a long sequence each joined to its row by a leader line."""
        if not cols.node_w:
            return []
        em, radius = ctx.em, ctx["flow.corner_radius"]
        stroke = Style(fill=str(ctx.value("colors.node_fill")),
                       stroke=str(ctx.value("colors.node_stroke")),
                       stroke_width=ctx["flow.node_stroke_width"])
        node_text = str(ctx.value("colors.node_text"))
        rule = Style(stroke=str(ctx.value("colors.muted")),
                     stroke_width=ctx["flow.node_stroke_width"])
        leader = 2.5 * em if cols.long else 0.0
        out: list[Node] = []
        for i, tb in cols.node_boxes.items():
            y = node_y[i]
            box = Box(cols.x_nodes, y - cols.node_h / 2, cols.node_w, cols.node_h)
            out.append(Rect(f"token-{i}", box, stroke, "node", min(radius, cols.node_h / 2)))
            ink = str(ctx.value("colors.generated")) if self.data.is_generated(i) else node_text
            out.append(ctx.text(f"token-label-{i}", tb, cols.x_nodes + cols.node_w / 2, y,
                                "middle", "node-label", ink, owner=f"token-{i}"))
            if cols.long:  # out, down or up to the row, in: a leader line of three runs
                x0, x1 = cols.x_nodes + cols.node_w, cols.x_matrix - 0.15 * em
                out.append(Path(f"leader-{i}", (
                    ("M", (x0, y)), ("L", (x0 + 0.35 * leader, y)),
                    ("L", (x0 + 0.75 * leader, row_y[i])), ("L", (x1, row_y[i]))), rule,
                    "leader"))
        return out
