"""The text view: the sentence as running text, each token's background coloured by the
attention it receives from a chosen query token (``focus``) or, by default, in total
(the mean over every query), wrapping at the figure width. The paper figure people make
by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.received import received
from ..colours import contrast_text
from ..fields import Field, length
from ..layout.context import Context
from ..layout.frame import Body, finish
from ..layout.legend import horizontal_bar
from ..layout.scale import colour_scale
from ..options import FOCUS
from ..scene import Box, Group, Node, Rect, Scene, Style
from .base import View
from .registry import register

AUTO_WIDTH_EM = 42.0  # the width of running text when the figure width is auto


@register
class Text(View):
    name = "text"
    summary = ("the sentence as running text, each token shaded by the attention it "
               "receives from one token (or in total)")
    default_heads = "all"
    signed = False
    options = (FOCUS,)
    theme_keys = (
        Field("text.line_height", length(4, 400), "2em",
              "Text view: distance between lines of text."),
        Field("text.padding", length(0, 100), "0.2em",
              "Text view: padding around each token's background."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        focus = opts.get("focus")
        if focus is None:
            values = received(data.matrix)
            what = "attention each token receives, averaged over every query"
            row = None
        else:
            row = data.index(focus, "focus", "text view")
            values = data.matrix[row]
            what = f"attention from {data.query_labels[row]!r} to each token"
        scale = colour_scale(ctx, values[None], sinks=data.sinks, opts=dict(opts), binary=False)
        room = width if width is not None else AUTO_WIDTH_EM * ctx.em + 2 * ctx["figure.margin"]
        inner = room - 2 * ctx["figure.margin"]
        body = _arrange(data, ctx, inner, values, scale, row)
        caption = [*data.caption, f"Shading: {what}" + (f"; {scale.note}" if scale.note else "")]
        return finish(ctx, body, title=data.title, caption=caption, room=room,
                      name="Attention over the text", show_title=opts.get("show_title"))


def _arrange(data: FigureData, ctx: Context, inner: float, values: np.ndarray, scale: Any,
             focus: int | None) -> Body:
    em = ctx.em
    line_h = ctx["text.line_height"]
    pad = ctx["text.padding"]
    space = ctx.measure(" ").width
    spaced = data.key_spaced or (True,) * len(data.key_labels)
    colours, index = scale.index(values)
    nodes: list[Node] = []
    x, y = 0.0, 0.0
    focus_key = None
    if focus is not None and data.query_tokens == data.key_tokens:
        focus_key = focus
    for j, label in enumerate(data.key_labels):
        box = ctx.box(label)
        step = (space if spaced[j] and x > 0 else 0.0)
        if x > 0 and x + step + box.width + 2 * pad > inner:
            x, y, step = 0.0, y + line_h, 0.0
        x += step
        fill = colours[int(index[j])]
        centre = y + line_h / 2
        rect = Box(x, centre - (box.centred_extent / 2 + pad), box.width + 2 * pad,
                   box.centred_extent + 2 * pad)
        is_focus = j == focus_key
        style = Style(fill=fill, stroke=str(ctx.value("colors.text")) if is_focus else None,
                      stroke_width=1.2 * ctx.scale if is_focus else 0.0)
        nodes.append(Group(f"token-{j}", (
            Rect(f"token-box-{j}", rect, style, "token-box", 0.25 * em,
                 title=f"{label}: {float(values[j]):.4g}"),
            ctx.text(f"token-label-{j}", box, x + pad, centre, "start", "token-label",
                     contrast_text(fill), owner=f"token-box-{j}")), "token"))
        x += box.width + 2 * pad
    bottom = y + line_h
    gradients = []
    if ctx.value("legend.show"):
        bar = horizontal_bar(ctx, scale, 0.0, bottom + 0.6 * em, min(inner, 24 * em))
        nodes.append(Group("legend", tuple(bar.nodes), "legend"))
        gradients = bar.gradients
    return Body(nodes, gradients, f"Running text of {len(data.key_labels)} tokens shaded by "
                "attention.")
