"""The grid view (BertViz's "model view", as a static figure): layers x heads small
multiples, each a heatmap (or a lines thumbnail), with row and column headers, one
shared colour scale and one colour bar, sized to the page width."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.lines import THUMB_LINES, thumbnail_lines
from ..analysis.reduce import pooled_spans, thumbnails
from ..captions import Essential, counted
from ..fields import Field, choice, length
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import note, words
from ..layout.legend import legend
from ..layout.matrix_panel import PanelSpec, matrix_panel, raster
from ..layout.scale import colour_scale
from ..layout.table import Table, reduction
from ..options import COLOUR, SELECTION, TOKENS
from ..scene import Box, Group, Node, Path, Rect, Style, moved
from .base import View
from .registry import register

THUMB_CELLS = 128  # longer sequences are max-pooled to at most this many cells a side


@register
class Grid(View):
    name = "grid"
    summary = ("BertViz's model view: layers x heads small multiples, one shared colour "
               "scale")
    default_heads = "all"
    averages = True  # several inputs of one length: their mean (StreamingLLM's sink maps)
    reads = (*SELECTION, "layers", *TOKENS, *COLOUR)
    hints: ClassVar[Mapping[str, str]] = {
        "groups": "the grid draws no token groups; drop it",
    }

    def check(self, options: Mapping[str, Any]) -> str | None:
        difference = any(options.get(k) is not None for k in ("minus_layer", "minus_head"))
        if not difference:
            if options.get("layer") is not None:
                return ("layer: the grid view draws the layers of --layers (one row each); use "
                        f"--layers {options['layer']}")
            if options.get("combine") is not None:
                return ("combine: the grid view draws every head on its own; drop it (or "
                        "draw a difference, which is one combined matrix)")
        return None
    options = (
        Field("thumbnail", choice("matrix", "lines"), "matrix", "Grid view: each thumbnail a "
              "heatmap or a lines figure.", group="grid view"),
    )
    theme_keys = (
        Field("grid.gap", length(0, 100), "0.5em", "Grid view: space between thumbnails."),
        Field("grid.thumbnail", length(8, 2000), "6em",
              "Grid view: side of a thumbnail when the width is auto."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        lines = opts["thumbnail"] == "lines"
        stack, block = _stack(data, lines)
        rows = None if block == 1 else data.rows(pooled_spans(data.query_spans, block),
                                                 pooled_spans(data.key_spans, block))
        scale = colour_scale(ctx, stack, data, opts, binary=False, rows=rows)
        # 48 levels (2 % steps) per thumbnail: small multiples stay cheap to draw
        cells_scale = scale.coarser(48)
        cells = raster(ctx, stack.size, "auto")

        def arrange(c: Context, side: float) -> Body:
            return _arrange(data, c, side, stack, scale, cells_scale, lines, cells)

        body = fit(arrange, ctx, width, ctx["grid.thumbnail"], smallest=1.5 * ctx.em,
                   largest=4 * ctx["grid.thumbnail"], what="heads")
        layers, heads = stack.shape[:2]
        caption = list(data.notes)
        caption.append(Essential(_arrangement(data, wrapping(layers, heads)))
                       if layers * heads > 1 else "")  # what the grid draws: kept when short
        if block > 1 and not lines:
            caption.append(f"Each thumbnail cell: the maximum over {block} x {block} tokens")
        elif lines and stack.shape[-1] * stack.shape[-2] > THUMB_LINES:
            caption.append(f"Each thumbnail: its {THUMB_LINES} strongest lines"
                           + (" outside the sink columns" if data.sinks else ""))
        if lines:
            caption.append("Line colour and opacity from the weight, one scale for every "
                           "thumbnail")
        else:
            said = words(scale)
            first = said[0][:1].lower() + said[0][1:] if note(scale) else ""
            caption.append("One colour scale for every thumbnail" + (f"; {first}" if first
                                                                      else ""))
            caption += said[1:] if note(scale) else said
        body.caption, body.name = [c for c in caption if c], "Attention model view"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """Long form: a row per cell of every thumbnail, with its layer and head (pooled
        thumbnails: their blocks, as drawn, said in the header)."""
        stack, block = _stack(data, opts["thumbnail"] == "lines")
        layers = ["difference"] if data.signed else list(data.stack_layers)
        heads = ["difference"] if data.signed else list(data.stack_heads)
        q_spans = pooled_spans(data.query_spans, block) if data.query_spans else ()
        k_spans = pooled_spans(data.key_spans, block) if data.key_spans else ()
        q_at = [s for s, _ in q_spans] or list(range(stack.shape[2]))
        k_at = [s for s, _ in k_spans] or list(range(stack.shape[3]))
        q_names = data.query_labels if block == 1 else [_span(s) for s in q_spans]
        k_names = data.key_labels if block == 1 else [_span(s) for s in k_spans]

        def rows() -> Any:
            for r, layer in enumerate(layers):
                for c, head in enumerate(heads):
                    cells = np.asarray(stack[r, c], dtype=np.float64).tolist()
                    for i, row in enumerate(cells):
                        for j, value in enumerate(row):
                            yield [layer, head, q_at[i], q_names[i], k_at[j], k_names[j],
                                   value]
        note = "; ".join(x for x in (reduction(data), f"thumbnail cells: the maximum over "
                                     f"{block} x {block} tokens" if block > 1 else "") if x)
        return Table(["layer", "head", "query", "query_token", "key", "key_token", "weight"],
                     rows(), note)


def _stack(data: FigureData, lines: bool) -> tuple[np.ndarray, int]:
    """The thumbnails drawn, ``[layers, heads, q, k]``, and the block size they are pooled
    by: a thumbnail cannot show more cells than it has dots; the maximum over blocks keeps
    a thin diagonal or a sink visible where sampling would drop it."""
    if data.signed:  # a difference is one matrix: the grid shows it once
        stack = data.matrix[None, None]
        return (stack, 1) if lines else thumbnails(stack, THUMB_CELLS)
    if lines:
        return data.stack, 1
    return data.thumbnails(THUMB_CELLS)


def _span(span: tuple[int, int]) -> str:
    return f"{span[0]}\u2013{span[1] - 1}"


ASPECT = 4 / 3  # the shape a grid is wrapped towards (wide, like a page's text block)
WRAP_COST = 0.4  # how much closer to ASPECT wrapping a layer's heads must come (log ratio)


@dataclass(frozen=True)
class _Wrap:
    """How layers x heads thumbnails sit on the page: ``blocks`` of layers side by side,
    and ``per_row`` heads a row (fewer than all: each layer's heads wrap onto more rows)."""

    blocks: int
    per_row: int
    layers: int
    heads: int

    @property
    def rows_per_layer(self) -> int:
        return -(-self.heads // self.per_row)

    @property
    def layers_per_block(self) -> int:
        return -(-self.layers // self.blocks)

    @property
    def shape(self) -> tuple[int, int]:
        return self.layers_per_block * self.rows_per_layer, self.blocks * self.per_row

    def place(self, layer: int, head: int) -> tuple[int, int, int]:
        """(block, row, column within the block) of a thumbnail."""
        block, inner = divmod(layer, self.layers_per_block)
        return block, inner * self.rows_per_layer + head // self.per_row, head % self.per_row


def wrapping(layers: int, heads: int) -> _Wrap:
    """The arrangement closest to :data:`ASPECT`: many layers as blocks side by side (30 x 9
    is two blocks of 15), one layer's many heads wrapped onto rows (1 x 12 is 3 x 4)."""
    options = [_Wrap(b, heads, layers, heads) for b in range(1, layers + 1)]
    # a layer's heads wrap evenly (12 as 3 x 4, never 11 + 1) and only where it pays: a
    # wrapped grid repeats its head names, so it must come much closer to the aspect
    options += [_Wrap(1, -(-heads // r), layers, heads) for r in range(2, heads + 1)
                if -(-heads // r) < heads]

    def distance(w: _Wrap) -> float:
        rows, cols = w.shape
        empty = 1 - heads / (w.per_row * w.rows_per_layer)  # a ragged last row's gap
        return abs(math.log(cols / rows / ASPECT)) + (WRAP_COST + 2 * empty
                                                      if w.per_row < heads else 0)

    return min(options, key=lambda w: (distance(w), w.blocks, -w.per_row))


def _arrange(data: FigureData, ctx: Context, side: float, stack: np.ndarray, scale: Any,
             cells_scale: Any, lines: bool, as_image: bool) -> Body:
    em = ctx.em
    layers, heads, q, k = stack.shape
    wrap = wrapping(layers, heads)
    gap = ctx["grid.gap"]
    cell_w, cell_h = side / max(q, k), side / max(q, k)
    w, h = cell_w * k, cell_h * q
    text = str(ctx.value("colors.text"))
    muted = str(ctx.value("colors.muted"))
    row_boxes = [ctx.box(n, factor=0.9) for n in data.stack_layers[:layers]]
    col_boxes = [ctx.box(n, factor=0.9) for n in data.stack_heads[:heads]]
    row_w = max(b.width for b in row_boxes) + 0.5 * em
    title_h = max(b.height for b in col_boxes) + 0.3 * em
    wrapped = wrap.per_row < heads  # a layer's heads on several rows: each names its head
    pitch = h + gap + (title_h if wrapped else 0.0)
    block_w = row_w + wrap.per_row * (w + gap) + em
    nodes: list[Node] = []
    for r in range(layers):
        for c in range(heads):
            block, row, col = wrap.place(r, c)
            x = block * block_w + row_w + col * (w + gap)
            y = title_h + row * pitch
            if c == 0:
                nodes.append(ctx.text(f"layer-{r}", row_boxes[r], block * block_w + row_w -
                                      0.5 * em, y + h / 2, "end", "row-header", muted))
            if wrapped or r % wrap.layers_per_block == 0:
                nodes.append(ctx.text(f"head-{r}-{c}" if wrapped else f"head-{block}-{c}",
                                      col_boxes[c], x + w / 2, y - title_h / 2, "middle",
                                      "column-header", muted))
            nodes.append(_thumbnail(data, ctx, stack, r, c, (x, y, w, h), cells_scale, scale,
                                    lines, as_image, text))
    rows, _ = wrap.shape
    right = wrap.blocks * block_w - em - gap
    gradients = []
    if ctx.value("legend.show"):
        key = legend(ctx, scale, right + 1.5 * em, title_h, max(rows * pitch - gap, 6 * em))
        nodes.extend(key.nodes)
        gradients = key.gradients
    return Body(nodes, gradients, f"Model view: {counted(layers, 'layer')} \u00d7 "
                f"{counted(heads, 'head')} of {q} x {k} attention.")


def _arrangement(data: FigureData, wrap: _Wrap) -> str:
    """The caption line that says how to read the grid once it wraps."""
    names, heads = data.stack_layers[:wrap.layers], data.stack_heads[:wrap.heads]
    span = f"heads {heads[0]}\u2013{heads[-1]}" if len(heads) > 1 else f"head {heads[0]}"
    if wrap.per_row < wrap.heads:
        what = f"layers {names[0]}\u2013{names[-1]}" if len(names) > 1 else f"layer {names[0]}"
        return f"{what[0].upper()}{what[1:]}: {span}, {wrap.per_row} a row"
    if wrap.blocks == 1:
        layers = f"layers {names[0]}\u2013{names[-1]}" if len(names) > 1 else f"layer {names[0]}"
        return f"Rows: {layers}; columns: {span}"
    n = wrap.layers_per_block
    parts = [f"{names[i]}\u2013{names[min(i + n, len(names)) - 1]}"
             for i in range(0, len(names), n)]
    return f"Rows: layers in {wrap.blocks} blocks side by side ({', '.join(parts)}); " \
           f"columns: {span}"


def _thumbnail(data: FigureData, ctx: Context, stack: np.ndarray, r: int, c: int,
               where: tuple[float, float, float, float], cells_scale: Any, scale: Any,
               lines: bool, as_image: bool, text: str) -> Node:
    x, y, w, h = where
    q, k = stack.shape[2:]
    name = f"{data.stack_layers[min(r, len(data.stack_layers) - 1)]} " \
           f"{data.stack_heads[min(c, len(data.stack_heads) - 1)]}".strip()
    if lines:
        thumb = _lines(stack[r, c], scale, ctx, w, h, f"thumb-{r}-{c}", text, list(data.sinks))
    else:
        block = -(-max(len(data.query_labels), len(data.key_labels)) // max(q, k))  # pooled
        thumb = matrix_panel(ctx, stack[r, c], cells_scale, w / k, PanelSpec(
            id=f"thumb-{r}-{c}", cell_h=h / q, grid=False, image=as_image,
            marked=tuple(None if g is None else -(-g // block)  # type: ignore[arg-type]
                         for g in data.generated),
            names=(data.query_labels, data.key_labels)
            if (q, k) == (len(data.query_labels), len(data.key_labels)) else None)).nodes
    return Group(f"thumbnail-{r}-{c}", tuple(moved(n, x, y) for n in thumb), "thumbnail",
                 title=name)


def _lines(weights: np.ndarray, scale: Any, ctx: Context, w: float, h: float, id_: str,
           colour: str, sinks: list[int]) -> list[Node]:
    """A lines thumbnail: queries on the left edge, keys on the right, opacity from the
    weight on the shared scale; lines under 5 % of the scale's top are left out."""
    q, k = weights.shape
    out: list[Node] = [Rect(f"{id_}-frame", Box(0, 0, w, h),
                            Style(stroke=str(ctx.value("colors.grid")),
                                  stroke_width=0.3 * ctx.scale), "thumbnail-frame")]
    t = scale.normalise(weights)
    colours, index = scale.coarser(16).index(weights)
    i_, j_ = thumbnail_lines(t, sinks)
    for i, j in zip(i_.tolist(), j_.tolist(), strict=True):
        y0, y1 = (i + 0.5) * h / q, (j + 0.5) * h / k
        out.append(Path(f"{id_}-{i}-{j}", (("M", (0.08 * w, y0)), ("L", (0.92 * w, y1))),
                        Style(stroke=colours[int(index[i, j])],
                              stroke_width=max(0.3, 0.8 * ctx.scale),
                              opacity=round(0.35 + 0.6 * float(t[i, j]), 2)), "thumbnail-line"))
    return out
