"""The text view: the sentence as running text, each token's background coloured by the
attention it receives from a chosen query token (``focus``) or, by default, in total
(the mean over every query), wrapping at the figure width. The paper figure people make
by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.links import FLOOR, STRONG
from ..analysis.received import received
from ..captions import number
from ..colours import contrast_text
from ..fields import Field, length
from ..layout.context import Context
from ..layout.frame import PAGE, Body, finish
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
    unused: ClassVar[Mapping[str, str]] = {
        "groups": "the text view draws no token groups; drop it",
        "links": "links are the flow view's; drop it",
        "layers": "use --layer (one layer)",
        "scale": "running text has no rows to be relative to; drop it",
    }
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
            values = received(data.matrix, data.causal)
            what = ("how many queries attend to each token well above uniform attention "
                    "over the keys they can see (causal: a query counts fully at "
                    f"{STRONG:g}\u00d7 a uniform share, in part from {FLOOR:g}\u00d7)"
                    if data.causal else
                    "attention each token receives, averaged over every query")
            row = None
        else:
            row = data.index(focus, "focus", "text view")
            values = data.matrix[row]
            what = f"attention from {data.query_labels[row]!r} to each token"
        room = width if width is not None else AUTO_WIDTH_EM * ctx.em + 2 * ctx["figure.margin"]
        inner = room - 2 * ctx["figure.margin"]
        shown, why = _window(data, ctx, inner, values, row)
        counted = focus is None and data.causal  # queries, from 0 (none above uniform)
        shading = {**opts, "vmin": 0.0} if counted and opts.get("vmin") is None else opts
        top, saturated = _robust_top(values, data.sinks) if counted and \
            opts.get("vmax") is None else (None, "")
        if top is not None:
            shading = {**shading, "vmax": top}
        scale = colour_scale(ctx, values[shown[0]:shown[1]][None], data, shading,
                             binary=False)
        body = _arrange(data, ctx, inner, values, scale, row, shown,
                        "queries attending" if counted else None)
        words = scale.words()[1 if scale.note else 0:]  # the note joins the shading line
        note = saturated or scale.note  # ours says what saturates in this view's units
        caption = [*data.notes, f"Shading: {what}, {_source(data)}"
                   + (f"; {note[:1].lower()}{note[1:]}" if note else ""), *words]
        if why:
            caption.append(why)
        return finish(ctx, body, title=data.title, caption=caption, room=room,
                      name="Attention over the text", show_title=opts.get("show_title"),
                      captions=opts.get("caption"))


OUTLIERS = 0.99  # the share of tokens the colours are spread over when a few stand far out


def _robust_top(values: np.ndarray, sinks: tuple[int, ...]) -> tuple[float | None, str]:
    """A colour maximum that a few outlying tokens (a second sink: in a long causal
    prompt the second token can draw nearly every query) do not wash out: the 99th
    percentile when the maximum is more than twice it, said in the caption."""
    keep = np.ones(len(values), dtype=bool)
    keep[list(sinks)] = False
    rest = np.asarray(values, dtype=np.float64)[keep]
    if len(rest) < 100:
        return None, ""
    top = float(np.quantile(rest, OUTLIERS))
    if top <= 0 or float(rest.max()) <= 2 * top:
        return None, ""
    over = int((rest > top).sum())
    above = "the token" if over == 1 else f"the {over} tokens"
    return top, (f"colours saturate at {number(top)} ({above} above it reach "
                 f"{number(float(rest.max()))})")


def _source(data: FigureData) -> str:
    """Where the shaded weights come from (the provenance, without a matrix's words)."""
    text = data.matrix_caption.removeprefix("Matrix: ")
    return text[:1].lower() + text[1:] if text else "as given"


def _lines(data: FigureData, ctx: Context, inner: float, start: int, stop: int) -> list[int]:
    """The line each token of ``start..stop-1`` falls on when the text wraps at ``inner``."""
    pad = ctx["text.padding"]
    space = ctx.measure(" ").width
    spaced = data.key_spaced or (True,) * len(data.key_labels)
    boxes = ctx.boxes(data.key_labels[start:stop])
    out, x, line = [], 0.0, 0
    for j, box in zip(range(start, stop), boxes, strict=True):
        step = space if spaced[j] and x > 0 else 0.0
        if x > 0 and x + step + box.width + 2 * pad > inner:
            x, line, step = 0.0, line + 1, 0.0
        x += step + box.width + 2 * pad
        out.append(line)
    return out


def _window(data: FigureData, ctx: Context, inner: float, values: np.ndarray,
            focus: int | None) -> tuple[tuple[int, int], str]:
    """The tokens shown: all when they fit one page (at most :data:`PAGE_LINES` of
    ``text.line_height``... in :data:`PAGE` points); else a stretch that fits, ending just
    after ``focus`` (causal: it attends backwards) or centred on it, or without a focus
    the stretch that receives the most attention; and the caption's words for the cut."""
    n = len(data.key_labels)
    most = max(1, int(PAGE // ctx["text.line_height"]))
    lines = _lines(data, ctx, inner, 0, n)
    if lines[-1] < most:
        return (0, n), ""
    count = next(j for j, line in enumerate(lines) if line >= most)
    for _ in range(20):  # a stretch of the same size elsewhere may wrap differently
        start = _start(data, values, focus, count)
        if _lines(data, ctx, inner, start, start + count)[-1] < most:
            break
        count = max(1, int(count * 0.95))
    why = ("ending just after the focus token" if focus is not None and data.causal else
           "around the focus token" if focus is not None else
           "the stretch that receives the most attention")
    return (start, start + count), (f"Tokens {data.key_spans[start][0]}\u2013"
                                    f"{data.key_spans[start + count - 1][1] - 1} of "
                                    f"{data.total[1] or n}, {why}: the whole text is taller "
                                    "than a page")


def _start(data: FigureData, values: np.ndarray, focus: int | None, count: int) -> int:
    n = len(values)
    if focus is not None:
        key = focus if data.query_tokens == data.key_tokens else 0
        start = key - count + max(1, count // 10) if data.causal else key - count // 2
    else:
        sums = np.convolve(np.nan_to_num(values), np.ones(count), mode="valid")
        start = int(np.argmax(sums))
    return max(0, min(start, n - count))


def _arrange(data: FigureData, ctx: Context, inner: float, values: np.ndarray, scale: Any,
             focus: int | None, shown: tuple[int, int], title: str | None) -> Body:
    em = ctx.em
    line_h = ctx["text.line_height"]
    pad = ctx["text.padding"]
    start, stop = shown
    colours, index = scale.index(values[start:stop])
    lines = _lines(data, ctx, inner, start, stop)
    space = ctx.measure(" ").width
    spaced = data.key_spaced or (True,) * len(data.key_labels)
    nodes: list[Node] = []
    x, line = 0.0, 0
    focus_key = focus if focus is not None and data.query_tokens == data.key_tokens else None
    for k, j in enumerate(range(start, stop)):
        label, box = data.key_labels[j], ctx.box(data.key_labels[j])
        if lines[k] != line:
            x, line = 0.0, lines[k]
        elif spaced[j] and x > 0:
            x += space
        fill = colours[int(index[k])]
        centre = line * line_h + line_h / 2
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
    bottom = (line + 1) * line_h
    gradients = []
    if ctx.value("legend.show"):
        bar = horizontal_bar(ctx, scale, 0.0, bottom + 0.6 * em, min(inner, 24 * em), title)
        nodes.append(Group("legend", tuple(bar.nodes), "legend"))
        gradients = bar.gradients
    return Body(nodes, gradients, f"Running text of {stop - start} tokens shaded by "
                "attention.")
