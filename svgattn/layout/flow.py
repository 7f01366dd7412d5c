"""Layout of the flow view: heads | connectors | token nodes | row labels | matrix | legend.

Everything is computed in points. Lengths from the theme are multiplied by ``scale``
so that a figure too wide for a requested width can be shrunk uniformly (text
included) by laying it out again, never by guessing.
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..analysis.scale import cell_colors, contrast_text, head_colour, nice_ticks, tick_labels
from ..model import FlowData
from ..scene import Box, CellGrid, ColorBar, Connector, Outline, Rect, Scene, Text
from ..text.fonts import resolve_family
from ..text.metrics import TextBox, measure
from ..theme import Theme
from .placement import barycentre_order, spread

MAX_CELL_EM = 4.0  # cells never grow beyond this when filling a wide figure
# Connectors get at least this many cell sides of horizontal room, so that big cells
# (a few tokens in a wide figure) do not leave steep, cramped curves.
GAP_PER_CELL = 1.5
NODE_FRACTION = 0.82  # token node height as a share of the row pitch
SHRINK_WARNING = 0.8  # warn when a requested width shrinks type below 80 % of its size


class LayoutWarning(UserWarning):
    """The figure had to be scaled down to fit the requested width."""


@dataclass(frozen=True)
class _Metrics:
    """Theme lengths at the current scale, and a text measurer bound to the theme font."""

    theme: Theme
    scale: float

    def __getitem__(self, key: str) -> float:
        return float(self.theme[key]) * self.scale

    def text(self, text: str, size_key: str = "font.size", *, bold: bool = False,
             factor: float = 1.0) -> TextBox:
        return measure(text, self.theme["font.family"], self[size_key] * factor, bold)


def _label(id_: str, box: TextBox, x: float, centre_y: float, anchor: str, role: str,
           *, bold: bool = False, fill: str | None = None) -> Text:
    """A horizontal label whose capitals are centred on ``centre_y``."""
    baseline = box.baseline_for_centre(centre_y)
    left = {"start": x, "middle": x - box.width / 2, "end": x - box.width}[anchor]
    bbox = Box(left, baseline - box.ascent, box.width, box.height)
    return Text(id_, x, baseline, box, role, anchor, bbox, bold=bold, fill=fill)


def _shift_text(t: Text, dx: float, dy: float) -> Text:
    return Text(t.id, t.x + dx, t.y + dy, t.text, t.role, t.anchor, t.bbox.moved(dx, dy),
                t.bold, t.rotate, t.fill)


def _shift_rect(r: Rect, dx: float, dy: float) -> Rect:
    return Rect(r.id, r.box.moved(dx, dy), r.role, r.fill, r.radius)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ending in an ellipsis; never between a
    character and the combining marks or joiners that follow it."""
    if limit <= 0 or len(text) <= limit:
        return text
    cut = max(1, limit - 1)
    while cut > 1 and (unicodedata.combining(text[cut]) or text[cut] in "\u200c\u200d\ufe0f"):
        cut -= 1
    return text[:cut] + "\u2026"


def min_cell(data: FlowData, theme: Theme, scale: float = 1.0) -> float:
    """Smallest cell side that keeps row labels and token nodes from touching."""
    m = _Metrics(theme, scale)
    return _line(data, m) / NODE_FRACTION * 1.02  # slack for type sizes rounded at scale


def _line(data: FlowData, m: _Metrics) -> float:
    """The vertical band the tallest token label needs (fallback fonts can be taller)."""
    limit = int(m.theme["text.max_label_chars"])  # measure what is drawn: shortened labels
    return max(m.text(shorten(t, limit)).centred_extent
               for t in {*data.query_tokens, *data.key_tokens})


def layout_flow(data: FlowData, theme: Theme, *, width: float | None = None) -> Scene:
    """Lay out ``data``. ``width`` (points) overrides the theme's ``figure.width``; with a
    width, cells are sized to fill it, and the whole figure is scaled down if even the
    smallest legible cells do not fit."""
    target = width if width is not None else theme["figure.width"]
    if target == "auto":
        return _arrange(data, theme, scale=1.0, cell=None, pad=0.0)
    # Solve the cell size from the body alone; the title adapts to the room afterwards.
    natural = _arrange(replace(data, title=None), theme, scale=1.0, cell=None, pad=0.0)
    n = len(data.key_tokens)
    gap = theme["flow.connector_gap"] if data.heads else 0.0
    grows = GAP_PER_CELL if data.heads else 0.0
    fixed = natural.width - n * natural.matrix.cell - max(gap, grows * natural.matrix.cell)
    cell = (target - fixed - gap) / n
    if grows * cell > gap:  # the connector room grows with the cells
        cell = (target - fixed) / (n + grows)
    cap = MAX_CELL_EM * theme["font.size"]
    if cell > cap:
        scene = _arrange(data, theme, scale=1.0, cell=cap, pad=0.0, room=target)
        return _arrange(data, theme, scale=1.0, cell=cap, pad=target - scene.width, room=target)
    smallest = min_cell(data, theme)
    scale = 1.0
    if cell < smallest:
        scale = target / (fixed + n * smallest + max(gap, grows * smallest))
        cell = smallest * scale
        if scale < SHRINK_WARNING:
            warnings.warn(LayoutWarning(
                f"figure.width: {target / 72:.2f}in is too narrow for {n} tokens at "
                f"{theme['font.size']:g}pt; all type shrinks to {theme['font.size'] * scale:.1f}pt"
                "; widen the figure, drop tokens, or lower font.size or text.max_label_chars"),
                stacklevel=3)
    scene = _arrange(data, theme, scale=scale, cell=cell, pad=0.0, room=target)
    for _ in range(3):  # a title wider than the figure, or rounding: shrink everything
        if scene.width <= target:
            break
        ratio = target / scene.width * (1 - 1e-9)
        scale, cell = scale * ratio, cell * ratio
        scene = _arrange(data, theme, scale=scale, cell=cell, pad=0.0, room=target)
    if scene.width != target:  # pad to the exact width (also absorbs rounding)
        scene = _arrange(data, theme, scale=scale, cell=cell, pad=max(0.0, target - scene.width),
                         room=target)
    return scene


def _arrange(data: FlowData, theme: Theme, *, scale: float, cell: float | None,
             pad: float, room: float | None = None) -> Scene:
    """One layout pass. ``room`` is the requested canvas width: a longer title is set
    smaller, down to the base type size, before the whole figure has to shrink."""
    m = _Metrics(theme, scale)
    fs = m["font.size"]
    em = fs
    qt, kt = data.query_tokens, data.key_tokens
    nq, nk = len(qt), len(kt)
    heads = data.heads
    palette = theme["colors.heads"]
    head_colors = [h.color or head_colour(palette, i) for i, h in enumerate(heads)]

    # --- measure ---------------------------------------------------------------------
    limit = int(theme["text.max_label_chars"])
    head_boxes = [m.text(shorten(h.name, limit), bold=theme["font.head_weight"] == "bold")
                  for h in heads]
    node_boxes = [m.text(shorten(t, limit)) for t in qt]
    col_boxes = [m.text(shorten(t, limit)) for t in kt] if theme["matrix.column_labels"] else []
    line = _line(data, m)
    cell = cell if cell is not None else max(m["matrix.cell_size"], line / NODE_FRACTION)
    pad_box = m["flow.box_padding"]
    head_line = max((b.centred_extent for b in head_boxes), default=0.0)
    box_h = max(m["flow.box_height"], head_line + 0.4 * em)
    node_h = min(max(m["flow.box_height"], line + 0.4 * em), NODE_FRACTION * cell)
    gap = m["matrix.label_gap"]

    # --- columns (x) -----------------------------------------------------------------
    head_w = max((b.width for b in head_boxes), default=0.0) + 2 * pad_box
    x_heads = 0.0
    x_nodes = head_w + max(m["flow.connector_gap"], GAP_PER_CELL * cell) if heads else 0.0
    show_nodes = theme["flow.token_nodes"]
    node_w = max(b.width for b in node_boxes) + 2 * pad_box if show_nodes else 0.0
    x_after_nodes = x_nodes + node_w + (em if show_nodes else 0.0)
    row_w = max(b.width for b in node_boxes) if theme["matrix.row_labels"] else 0.0
    x_matrix = x_after_nodes + (row_w + gap if theme["matrix.row_labels"] else 0.0)
    matrix_w = nk * cell

    # --- column labels decide the matrix top -----------------------------------------
    widest_col = max((b.width for b in col_boxes), default=0.0)
    rotate = widest_col > cell - 0.15 * em
    if not col_boxes:
        col_h = 0.0
    elif rotate:
        col_h = widest_col + gap
    else:
        col_h = max(b.height for b in col_boxes) + gap
    y_matrix = col_h
    row_y = [y_matrix + (i + 0.5) * cell for i in range(nq)]

    # --- heads: barycentre order, near their tokens, de-overlapped --------------------
    centre = y_matrix + nq * cell / 2
    targets = [float(np.mean([row_y[i] for i in h.links])) if h.links else centre
               for h in heads]
    order = barycentre_order(targets)
    placed = spread([targets[i] for i in order], box_h + m["flow.head_gap"])
    head_y = [0.0] * len(heads)
    for slot, i in enumerate(order):
        head_y[i] = placed[slot]

    radius = m["flow.corner_radius"]
    head_rects, head_labels = [], []
    text_role = theme["colors.head_text"]
    for i, tb in enumerate(head_boxes):
        box = Box(x_heads, head_y[i] - box_h / 2, head_w, box_h)
        head_rects.append(Rect(f"head-{i}", box, "head", head_colors[i], radius))
        fill = contrast_text(head_colors[i]) if text_role == "auto" else text_role
        head_labels.append(_label(f"head-label-{i}", tb, box.x + box.w / 2, head_y[i], "middle",
                                  "head-label", bold=theme["font.head_weight"] == "bold",
                                  fill=fill))

    nodes, node_labels = [], []
    if show_nodes:
        for i, tb in enumerate(node_boxes):
            box = Box(x_nodes, row_y[i] - node_h / 2, node_w, node_h)
            nodes.append(Rect(f"token-{i}", box, "node", None, min(radius, node_h / 2)))
            node_labels.append(_label(f"token-label-{i}", tb, x_nodes + node_w / 2, row_y[i],
                                      "middle", "node-label"))
    connectors = []
    bend = (x_nodes - head_w) / 2
    for hi, h in enumerate(heads):
        x0, y0 = head_w, head_y[hi]
        for ti in h.links:
            x3, y3 = x_nodes, row_y[ti]
            connectors.append(Connector(f"conn-{hi}-{ti}", ((x0, y0), (x0 + bend, y0),
                                        (x3 - bend, y3), (x3, y3)), hi, ti, head_colors[hi]))

    row_labels = []
    if theme["matrix.row_labels"]:
        for i, tb in enumerate(node_boxes):
            row_labels.append(_label(f"row-label-{i}", tb, x_matrix - gap, row_y[i], "end",
                                     "row-label"))
    column_labels = []
    for j, tb in enumerate(col_boxes):
        cx = x_matrix + (j + 0.5) * cell
        if rotate:
            ax, ay = cx + tb.cap_height / 2, y_matrix - gap
            bbox = Box(ax - tb.ascent, ay - tb.width, tb.height, tb.width)
            column_labels.append(Text(f"col-label-{j}", ax, ay, tb, "col-label", "start", bbox,
                                      rotate=-90.0))
        else:
            baseline = y_matrix - gap - tb.descent
            bbox = Box(cx - tb.width / 2, baseline - tb.ascent, tb.width, tb.height)
            column_labels.append(Text(f"col-label-{j}", cx, baseline, tb, "col-label",
                                      "middle", bbox))

    cell_palette, index = cell_colors(data.matrix, data.vmax, data.binary,
                                      theme["colors.cell_high"], theme["colors.cell_low"],
                                      theme["colors.colormap"])
    grid_color = theme["colors.grid"]
    grid_width = m["matrix.grid_width"]
    matrix = CellGrid("matrix", x_matrix, y_matrix, cell, tuple(cell_palette), index,
                      data.matrix, None if grid_color == "none" or grid_width == 0 else grid_color,
                      grid_width)

    outlines = []
    line_w = 1.6 * scale
    for g, group in enumerate(data.groups):
        for c, colour in enumerate(group.colors or (theme["colors.text"],)):
            inset = (c + 0.5) * line_w
            side = (group.stop - group.start) * cell - 2 * inset
            box = Box(x_matrix + group.start * cell + inset, y_matrix + group.start * cell + inset,
                      side, side)
            outlines.append(Outline(f"group-{g}-{c}", box, colour, line_w))

    # --- legend -----------------------------------------------------------------------
    legend_rects: list[Rect] = []
    legend_labels: list[Text] = []
    colorbar = None
    if theme["legend.show"]:
        lx = x_matrix + matrix_w + 1.5 * em
        small = 0.9
        if data.binary:
            sw = 1.1 * em
            for k, (key, colr) in enumerate((("legend.high_label", theme["colors.cell_high"]),
                                             ("legend.low_label", theme["colors.cell_low"]))):
                y = y_matrix + k * (sw + 0.5 * em)
                legend_rects.append(Rect(f"legend-swatch-{k}", Box(lx, y, sw, sw), "swatch",
                                         colr))
                tb = m.text(theme[key], factor=small)
                legend_labels.append(_label(f"legend-label-{k}", tb, lx + sw + 0.4 * em,
                                            y + sw / 2, "start", "legend-label"))
        else:
            bar_title = m.text(theme["legend.title"], factor=small)
            bar_top = y_matrix + bar_title.centred_extent + 0.8 * em
            bar_h = max(nq * cell - (bar_top - y_matrix), 5 * em)
            bar_w = 0.9 * em
            bar = Box(lx, bar_top, bar_w, bar_h)
            colorbar = ColorBar("colorbar", bar, tuple(theme["colors.colormap"]))
            legend_labels.append(_label("legend-title", bar_title, lx, y_matrix +
                                        bar_title.centred_extent / 2, "start", "legend-label"))
            tick_h = m.text("0", factor=small).height
            most = max(2, min(6, int(bar_h // (1.4 * tick_h)) + 1))
            ticks = nice_ticks(data.vmax, most)
            for k, (value, text) in enumerate(zip(ticks, tick_labels(ticks), strict=True)):
                y = bar.bottom - value / data.vmax * bar_h
                tick = Box(bar.right, y - 0.3 * scale, 0.3 * em, 0.6 * scale)
                legend_rects.append(Rect(f"tick-{k}", tick, "tick", None))
                tb = m.text(text, factor=small)
                legend_labels.append(_label(f"tick-label-{k}", tb, tick.right + 0.25 * em, y,
                                            "start", "tick-label"))

    # --- bounding box, title, margins -------------------------------------------------
    boxes = [r.box for r in (*head_rects, *nodes, *legend_rects)] + [matrix.box]
    boxes += [t.bbox for t in (*head_labels, *node_labels, *row_labels, *column_labels,
                               *legend_labels)]
    if colorbar:
        boxes.append(colorbar.box)
    left = min(b.x for b in boxes)
    top = min(b.y for b in boxes)
    right = max(b.right for b in boxes)
    bottom = max(b.bottom for b in boxes)
    margin = m["figure.margin"]
    body_w = right - left
    title_box: TextBox | None = None
    caption_box: TextBox | None = None
    if data.title:
        bold = theme["font.title_weight"] == "bold"
        title_box = m.text(data.title, "font.title_size", bold=bold)
        avail = max(body_w, 0.0 if room is None else room - 2 * margin)
        if room is not None and title_box.width > avail:
            floor = m["font.size"] / m["font.title_size"]
            title_box = m.text(data.title, "font.title_size", bold=bold,
                               factor=max(floor, avail / title_box.width * 0.999))
    if data.caption:
        caption_box = m.text(data.caption, factor=0.9)
    content_w = max([body_w, *(b.width for b in (title_box, caption_box) if b)])
    body_x = (content_w - body_w) / 2  # the body is centred under a wider title or caption

    # Title and caption are placed in frame coordinates (x from the content's left edge).
    title_text = caption_text = None
    if title_box:
        if theme["figure.title_align"] == "left":
            tx, anchor = (body_x if title_box.width <= body_w else 0.0), "start"
            tleft = tx
        else:
            tx, anchor = content_w / 2, "middle"
            tleft = tx - title_box.width / 2
        baseline = top - 0.6 * em - title_box.descent
        bbox = Box(tleft, baseline - title_box.ascent, title_box.width, title_box.height)
        title_text = Text("title", tx, baseline, title_box, "title", anchor, bbox,
                          bold=theme["font.title_weight"] == "bold")
        top = bbox.y
    if caption_box:
        cx = body_x if caption_box.width <= body_w else 0.0
        baseline = bottom + 0.8 * em + caption_box.ascent
        caption_text = Text("caption", cx, baseline, caption_box, "caption", "start",
                            Box(cx, baseline - caption_box.ascent, caption_box.width,
                                caption_box.height))
        bottom = baseline + caption_box.descent
    fx = margin + pad / 2
    dy = margin - top
    bdx = fx + body_x - left

    def rects(items: list[Rect]) -> tuple[Rect, ...]:
        return tuple(_shift_rect(r, bdx, dy) for r in items)

    def texts(items: list[Text]) -> tuple[Text, ...]:
        return tuple(_shift_text(t, bdx, dy) for t in items)

    shifted_connectors = tuple(
        Connector(c.id, ((c.points[0][0] + bdx, c.points[0][1] + dy),
                         (c.points[1][0] + bdx, c.points[1][1] + dy),
                         (c.points[2][0] + bdx, c.points[2][1] + dy),
                         (c.points[3][0] + bdx, c.points[3][1] + dy)), c.head, c.token, c.color)
        for c in connectors)
    grid = CellGrid(matrix.id, matrix.x + bdx, matrix.y + dy, cell, matrix.palette, index,
                    data.matrix, matrix.grid_color, grid_width)
    shifted_bar = (ColorBar(colorbar.id, colorbar.box.moved(bdx, dy), colorbar.stops)
           if colorbar else None)
    desc = (f"Flow diagram of {len(heads)} attention head(s) over {nq} query and {nk} key "
            f"tokens, beside the {nq}x{nk} attention matrix.")
    return Scene(
        width=content_w + 2 * margin + pad, height=bottom - top + 2 * margin,
        background=None if theme["colors.background"] == "none" else theme["colors.background"],
        title=data.title or "Attention heads and attention matrix", desc=desc,
        font_family=resolve_family(theme["font.family"]).family, font_size=fs,
        heads=rects(head_rects), head_labels=texts(head_labels),
        connectors=shifted_connectors, nodes=rects(nodes), node_labels=texts(node_labels),
        row_labels=texts(row_labels), column_labels=texts(column_labels), matrix=grid,
        legend_rects=rects(legend_rects), legend_labels=texts(legend_labels), colorbar=shifted_bar,
        title_text=_shift_text(title_text, fx, dy) if title_text else None,
        outlines=tuple(Outline(o.id, o.box.moved(bdx, dy), o.color, o.width) for o in outlines),
        caption_text=_shift_text(caption_text, fx, dy) if caption_text else None)
