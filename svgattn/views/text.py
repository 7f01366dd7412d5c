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
from ..analysis.received import busiest, received, robust_top
from ..captions import number
from ..colours import contrast_text
from ..fields import Field, length
from ..layout.context import Context
from ..layout.frame import PAGE_HEIGHT, Body, around
from ..layout.guide import note, words
from ..layout.legend import horizontal_bar
from ..layout.scale import colour_scale
from ..layout.table import Table, reduction
from ..options import FOCUS, TOKENS
from ..scene import Box, Group, Node, Path, Rect, Style
from .base import View
from .registry import register

AUTO_WIDTH_EM = 42.0  # the width of running text when the figure width is auto
LEGEND_EM = 4.0  # the colour bar below the text, with its ticks
# the caption's other lines at their longest: the scale's words, the window's sentence
CAPTION_GUESS = ("Colours saturate at 0.000 (the 00 tokens above it reach 0.000)",
                 "Tokens 0000\u20130000 of 0000, the stretch that receives the most attention: "
                 "the whole text is taller than a page")


@register
class Text(View):
    name = "text"
    summary = ("the sentence as running text, each token shaded by the attention it "
               "receives from one token (or in total)")
    default_heads = "all"
    signed = False
    reads = ("layer", "heads", "combine", "window", "pool", *TOKENS, "colormap", "vmin", "vmax",
             "norm", "gamma")
    hints: ClassVar[Mapping[str, str]] = {
        "groups": "the text view draws no token groups; drop it",
        "links": "links are the flow view's; drop it",
        "layers": "use --layer (one layer)",
        "scale": "running text has no rows to be relative to; drop it",
        "minus_layer": "the text view cannot draw a difference; use the matrix, grid or flow "
        "view",
        "minus_head": "the text view cannot draw a difference; use the matrix, grid or flow "
        "view",
    }
    options = (FOCUS,)
    theme_keys = (
        Field("text.line_height", length(4, 400), "2em",
              "Text view: distance between lines of text."),
        Field("text.padding", length(0, 100), "0.2em",
              "Text view: padding around each token's background."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        values, row, what = _shaded(data, opts)
        room = width if width is not None else AUTO_WIDTH_EM * ctx.em + 2 * ctx["figure.margin"]
        inner = room - 2 * ctx["figure.margin"]
        # the whole figure fits a page: the lines get what its title, caption and colour
        # bar leave (the caption estimated at its longest, with the window's sentence)
        guess = [*data.notes, f"Shading: {what}, {_source(data)}", *CAPTION_GUESS]
        high = PAGE_HEIGHT - around(ctx, guess, title=data.title, room=room,
                                    show_title=opts["show_title"], captions=opts["caption"]) \
            - LEGEND_EM * ctx.em
        shown, why = _window(data, ctx, inner, values, row, high)
        counted = row is None and data.causal  # queries, from 0 (none above uniform)
        shading = {**opts, "vmin": 0.0} if counted and opts["vmin"] is None else opts
        found = robust_top(values, data.sinks) if counted and opts["vmax"] is None else None
        if found is not None:
            shading = {**shading, "vmax": found[0]}
        scale = colour_scale(ctx, values[shown[0]:shown[1]][None], data, shading,
                             binary=False)
        body = _arrange(data, ctx, inner, values, scale, row, shown,
                        "queries attending" if counted else None)
        rest = words(scale)[1 if note(scale) else 0:]  # the note joins the shading line
        said = _saturated(found) or note(scale)  # ours says what saturates in this view's units
        body.caption = [*data.notes, f"Shading: {what}, {_source(data)}"
                        + (f"; {said[:1].lower()}{said[1:]}" if said else ""), *rest]
        if why:
            body.caption.append(why)
        body.name, body.room = "Attention over the text", room
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per token: its position, label and the value that shades it."""
        values, _, what = _shaded(data, opts)
        at = [s for s, _ in data.key_spans] or list(range(len(data.key_labels)))
        rows = ([at[j], label, float(v)] for j, (label, v) in
                enumerate(zip(data.key_labels, np.asarray(values, dtype=np.float64).tolist(),
                              strict=True)))
        return Table(["position", "token", "value"], rows,
                     "; ".join(x for x in (reduction(data), what) if x), noted=2)


def _shaded(data: FigureData, opts: Mapping[str, Any]) -> tuple[np.ndarray, int | None, str]:
    """(the value of each token, the focus row or ``None``, what the value is)."""
    focus = opts["focus"]
    if focus is None:
        return received(data.matrix, data.causal), None, (
            "how many queries attend to each token well above uniform attention over the keys "
            f"they can see (causal: a query counts fully at {STRONG:g}\u00d7 a uniform share, "
            f"in part from {FLOOR:g}\u00d7)" if data.causal else
            "attention each token receives, averaged over every query")
    row = data.index(focus, "focus", "text view")
    return data.matrix[row], row, f"attention from {data.query_labels[row]!r} to each token"


def _saturated(found: tuple[float, int, float] | None) -> str:
    """The caption's words for colours saturating below a few outlying tokens."""
    if found is None:
        return ""
    top, over, largest = found
    above = "the token" if over == 1 else f"the {over} tokens"
    return f"colours saturate at {number(top)} ({above} above it reach {number(largest)})"


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
            focus: int | None, high: float) -> tuple[tuple[int, int], str]:
    """The tokens shown: all when their lines fit ``high`` points (what a page leaves the
    text); else a stretch that fits, ending just after ``focus`` (causal: it attends
    backwards) or centred on it, or without a focus the stretch that receives the most
    attention; and the caption's words for the cut."""
    n = len(data.key_labels)
    most = max(1, int(high // ctx["text.line_height"]))
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
        start = busiest(values, count)
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
        made: tuple[Node, ...] = (
            Rect(f"token-box-{j}", rect, style, "token-box", 0.25 * em,
                 title=f"{label}: {float(values[j]):.4g}"),
            ctx.text(f"token-label-{j}", box, x + pad, centre, "start", "token-label",
                     contrast_text(fill), owner=f"token-box-{j}"))
        if data.is_generated(j, query=False):  # generated: underlined in their colour
            made += (Path(f"token-generated-{j}", (("M", (rect.x, rect.y + rect.h + 0.1 * em)),
                                                    ("L", (rect.x + rect.w,
                                                           rect.y + rect.h + 0.1 * em))),
                          Style(stroke=str(ctx.value("colors.generated")),
                                stroke_width=1.5 * ctx.scale), "generated"),)
        nodes.append(Group(f"token-{j}", made, "token"))
        x += box.width + 2 * pad
    bottom = (line + 1) * line_h
    gradients = []
    if ctx.value("legend.show"):
        bar = horizontal_bar(ctx, scale, 0.0, bottom + 0.6 * em, min(inner, 24 * em), title,
                             within=True)
        nodes.append(Group("legend", tuple(bar.nodes), "legend"))
        gradients = bar.gradients
    return Body(nodes, gradients, f"Running text of {stop - start} tokens shaded by "
                "attention.")
