"""The framework frames, the view places: what every figure has around its body.

A view returns a :class:`Body`: its primitives, the words of its caption and what it is.
:func:`draw` asks the view for it and frames it the same way for every view, svgattn's
own and plug-ins alike: the title (shown as the theme and ``show_title`` say), the caption
(full, short or none, as ``caption`` or the theme's ``figure.caption`` asks), margins,
the background, the requested width (met exactly: a narrower body is centred, a wider
one is scaled down to fit if its type stays at or above ``text.min_size``, else refused
in one line; never clipped) and the cell tooltips of small figures.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ..captions import MODES, kept
from ..errors import SpecError, SvgattnError, SvgattnWarning, printable, quote
from ..scene import Box, CellGrid, Gradient, Group, Node, Scene, Text, bounds, mapped, moved, scaled
from .context import Context

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.figure import FigureData


class Placing(Protocol):
    """What the framework asks of a view (:class:`svgattn.views.View`)."""

    @property
    def name(self) -> str: ...

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body: ...

PAGE = 8.5 * 72  # points: the height a figure of rows of text fits in (a page's text block)
PAGE_HEIGHT = 9.0 * 72  # a whole figure never taller: a letter page's text block (1in margins)
TOOLTIP_CELLS = 64 * 64  # figures of at most this many cells carry each weight as a tooltip


class LayoutWarning(SvgattnWarning):
    """The figure had to be scaled down to fit the requested width."""


@dataclass(eq=False)
class Body:
    """What a view returns: its primitives (in points, anywhere: the frame moves them),
    colour-bar gradients, a one-line description (the SVG's ``<desc>``), the lines of its
    caption (:class:`~svgattn.captions.Essential` ones are kept by a short caption), what
    the figure is (its ``<title>`` when it has no title), and the width it would like when
    none is asked (``room``: running text wraps at it; ``None``: the body's own width).
    ``context`` is the context the body was laid out at (set by
    :func:`~svgattn.layout.fit.fit`: its type scale), ``shrunk`` why type had to shrink."""

    nodes: list[Node]
    gradients: list[Gradient] = field(default_factory=list)
    desc: str = ""
    caption: Sequence[str] = ()
    name: str = "Attention"
    room: float | None = None
    context: Context | None = None
    shrunk: str = ""

    @property
    def box(self) -> Box:
        return bounds(self.nodes) or Box(0, 0, 0, 0)


def draw(view: Placing, data: FigureData, ctx: Context, opts: Mapping[str, Any],
         width: float | None) -> Scene:
    """The figure of ``data`` drawn by ``view``: its body, framed (module docstring)."""
    body = view.layout(data, ctx, opts, width)
    if not isinstance(body, Body):
        raise SvgattnError(f"view: {quote(view.name)}.layout returned "
                           f"{printable(type(body).__name__, 40)}, not a "
                           "svgattn.layout.frame.Body; see the docs, \"Writing a view\"")
    fitted = body.context or ctx
    room = width if width is not None else body.room
    if room is not None:
        body = _within(body, fitted, room - 2 * fitted["figure.margin"], view.name)
    return frame(fitted, body, title=data.title, room=room, show_title=opts.get("show_title"),
                 captions=opts.get("caption"))


def _within(body: Body, ctx: Context, inner: float, name: str) -> Body:
    """``body`` no wider than ``inner``: as it is, or scaled down uniformly (type included)
    when its smallest type stays at or above ``text.min_size``; else a one-line error."""
    box = body.box
    if box.w <= inner + 0.01 or box.w <= 0:
        return body
    factor = inner / box.w
    texts = _texts(body.nodes)
    smallest = min((t.label.size for t in texts), default=None)
    floor = float(ctx.value("text.min_size"))  # type: ignore[arg-type]
    needed = box.w if smallest is None else box.w * floor / smallest
    if smallest is not None and smallest * factor < floor - 1e-9:
        raise SpecError(f"figure.width: {(inner + 2 * ctx['figure.margin']) / 72:.2f}in is too "
                        f"narrow for this {name} figure (it needs "
                        f"{(needed + 2 * ctx['figure.margin']) / 72:.2f}in with type at "
                        "text.min_size); widen the figure, select less, or lower text.min_size "
                        "in the theme")
    nodes = [scaled(n, factor, box.x, box.y) for n in body.nodes]
    shrunk = f"figure.width: the {name} figure is scaled to {factor:.0%} to fit"
    return replace(body, nodes=nodes, shrunk=body.shrunk or shrunk)


def _with_tooltips(nodes: list[Node]) -> list[Node]:
    """Every named cell of a figure of at most :data:`TOOLTIP_CELLS` cells carries its
    weight as a tooltip (in a browser; print has none)."""
    grids = [g for n in nodes for g in _cells(n)]
    if not grids or sum(g.index.size for g in grids) > TOOLTIP_CELLS:
        return nodes

    def tip(node: Node) -> Node:
        if isinstance(node, CellGrid) and not node.raster and node.row_names and \
                node.column_names:
            return replace(node, tooltips=True)
        return node
    return [mapped(n, tip) for n in nodes]


def _cells(node: Node) -> list[CellGrid]:
    if isinstance(node, CellGrid):
        return [node]
    if isinstance(node, Group):
        return [g for c in node.children for g in _cells(c)]
    return []


def wrap(ctx: Context, text: str, width: float, factor: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (at ``factor`` times the label
    size), between words; a word longer than a line stays whole on its own line."""
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if current and ctx.measure(trial, ctx.em * factor, bold=bold).width > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return _no_orphan(ctx, lines, width, factor, bold)


def _no_orphan(ctx: Context, lines: list[str], width: float, factor: float,
               bold: bool) -> list[str]:
    """A last line of one word takes a word from the line above when both still fit (a
    lone word under a caption reads as a mistake)."""
    if len(lines) < 2 or " " in lines[-1]:
        return lines
    above = lines[-2].rsplit(" ", 1)
    if len(above) < 2 or " " not in above[0]:
        return lines
    moved_down = f"{above[1]} {lines[-1]}"
    if ctx.measure(moved_down, ctx.em * factor, bold=bold).width > width:
        return lines
    return [*lines[:-2], above[0], moved_down]


def frame(ctx: Context, body: Body, *, title: str | None, room: float | None,
          show_title: bool | None = None, captions: str | None = None) -> Scene:
    """Frame ``body``: title above, caption below (its lines as ``captions`` or the
    theme's ``figure.caption`` keeps them: full, short or none), margins around. A requested
    width ``room`` is met exactly (a narrower body is centred in it, on purpose); without
    one, a caption wraps at the body's width or 32em, whichever is wider."""
    margin, em = ctx["figure.margin"], ctx.em
    box = body.box
    inner = max(box.w, (room - 2 * margin) if room else 0.0)
    caption_lines, inner = _caption_lines(ctx, body.caption, captions, inner, room)
    shown = title if title and (show_title if show_title is not None
                                else ctx.value("figure.show_title")) else None
    nodes, y, inner = _title(ctx, shown, inner, room)
    body_x = (inner - box.w) / 2  # centred under a wider title or caption, or in the page
    nodes.extend(moved(n, body_x - box.x, y - box.y) for n in _with_tooltips(body.nodes))
    y += box.h
    if caption_lines:
        y += 0.8 * em
        muted = str(ctx.value("colors.muted"))
        left = body_x if all(ctx.box(c, factor=0.9, shorten_to=0).width <= box.w
                             for c in caption_lines) else 0.0
        for k, line in enumerate(caption_lines):
            tb = ctx.box(line, factor=0.9, shorten_to=0)
            nodes.append(ctx.baseline_text(f"caption-{k}" if k else "caption", tb, left,
                                           y + tb.ascent, "start", "caption", muted))
            y += tb.height + 0.1 * em
    width = room if room is not None else inner + 2 * margin
    shifted = tuple(moved(n, margin, margin) for n in nodes)
    if body.shrunk:  # the smallest type actually drawn, captions and ticks included
        smallest = min(n.label.size for n in _texts(shifted)) * 72.27 / 72
        warnings.warn(LayoutWarning(
            f"{body.shrunk}; type shrinks to {smallest:.1f}pt at the smallest; widen the "
            "figure, select fewer tokens or heads, or lower font.size or "
            "text.max_label_chars"), stacklevel=4)
    background = ctx.value("colors.background")
    return Scene(width=width, height=y + 2 * margin,
                 background=None if background == "none" else str(background),
                 title=(title or body.name), desc=body.desc, font_family=ctx.family,
                 root=Group("figure", shifted), gradients=tuple(body.gradients))


def around(ctx: Context, caption: Sequence[str], *, title: str | None, room: float,
           show_title: bool | None = None, captions: str | None = None) -> float:
    """The height the frame adds to a body in a figure ``room`` wide: title, caption and
    margins (a view that must fit a page leaves this much of it)."""
    lines, inner = _caption_lines(ctx, caption, captions, room - 2 * ctx["figure.margin"], room)
    shown = title if title and (show_title if show_title is not None
                                else ctx.value("figure.show_title")) else None
    height = _title(ctx, shown, inner, room)[1] + 2 * ctx["figure.margin"]
    if lines:
        height += 0.8 * ctx.em + sum(ctx.box(line, factor=0.9, shorten_to=0).height
                                     + 0.1 * ctx.em for line in lines)
    return height


def _caption_lines(ctx: Context, caption: Sequence[str], captions: str | None, inner: float,
                   room: float | None) -> tuple[list[str], float]:
    """The caption's lines as the mode keeps and wraps them, and the width (an auto-width
    figure widens for its longest line)."""
    mode = captions if captions in MODES else str(ctx.value("figure.caption"))
    if not ctx.value("figure.show_caption"):
        return [], inner
    caption_w = inner if room else max(inner, 32 * ctx.em)
    lines = [line for c in kept(caption, mode) if c for line in wrap(ctx, c, caption_w, 0.9)]
    if not room:
        inner = max(inner, *(ctx.box(c, factor=0.9, shorten_to=0).width for c in lines), 0.0)
    return lines, inner


def _title(ctx: Context, title: str | None, inner: float,
           room: float | None) -> tuple[list[Node], float, float]:
    """The title's lines (shrunk towards the label size, then wrapped, to fit), the height
    they take, and the width (an auto-width figure widens for its title)."""
    if not title:
        return [], 0.0, inner
    em = ctx.em
    bold = ctx.value("font.title_weight") == "bold"
    size = ctx["font.title_size"]
    fitted = ctx.measure(title, size, bold=bold)
    if not room:
        inner = max(inner, fitted.width)
    if fitted.width > inner:
        size = max(em, size * inner / fitted.width * 0.999)
    centre = ctx.value("figure.title_align") == "center"
    colour = str(ctx.value("colors.text"))
    nodes: list[Node] = []
    y = 0.0
    for k, line in enumerate(wrap(ctx, title, inner, size / em, bold)):
        tb = ctx.measure(line, size, bold=bold)
        baseline = y + tb.ascent
        nodes.append(ctx.baseline_text(f"title-{k}" if k else "title", tb,
                                       inner / 2 if centre else 0.0, baseline,
                                       "middle" if centre else "start", "title", colour,
                                       bold=bold))
        y = baseline + tb.descent + 0.15 * em
    return nodes, y + 0.45 * em, inner


def _texts(nodes: Sequence[Node]) -> list[Text]:
    out: list[Text] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Group):
            stack.extend(node.children)
        elif isinstance(node, Text):
            out.append(node)
    return out
