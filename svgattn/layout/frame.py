"""What every figure has around its body: margins, a title, a caption, a background, and
fitting to a requested width.

A view lays its body out as a function of one size (cells, columns ...) at a scale;
:func:`fit` finds the size that fills a requested width (and, when even the smallest
legible size is too wide, the scale that shrinks everything uniformly, with a warning);
:func:`finish` frames the body into a :class:`~svgattn.scene.Scene`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..captions import MODES, kept
from ..errors import SpecError, SvgattnWarning
from ..scene import Box, Gradient, Group, Node, Scene, Text, bounds, moved
from .context import Context

PAGE = 8.5 * 72  # points: the height a figure of rows of text fits in (a page's text block)
LABEL_CHARS = (24, 16, 12, 8, 6, 4)  # shorter labels tried before a width is refused
SHRINK_WARNING = 0.7  # type shrinks to 70 % silently; beyond, labels thin, or a warning


class LayoutWarning(SvgattnWarning):
    """The figure had to be scaled down to fit the requested width."""


@dataclass
class Body:
    """A view's laid-out content before framing."""

    nodes: list[Node]
    gradients: list[Gradient] = field(default_factory=list)
    desc: str = ""
    shrunk: str = ""  # set by fit when type had to shrink: finish warns with the real size

    @property
    def box(self) -> Box:
        return bounds(self.nodes) or Box(0, 0, 0, 0)


Arrange = Callable[[Context, float], Body]


def fit(arrange: Arrange, ctx: Context, target: float | None, natural: float, *,
        smallest: float, largest: float, tiny: float | None = None, span: float = 0.0,
        what: str = "tokens", thin: float | None = None) -> tuple[Body, Context]:
    """Lay out at ``natural`` size without a target width; with one, find the largest size
    in [``smallest``, ``largest``] whose body (plus margins) fits ``target``. At
    ``largest`` the body stops growing (the frame centres it on its page). When even
    ``smallest`` is too wide: type shrinks by up to 30 % if that keeps every label; else,
    for views that thin their labels (``tiny`` given: matrices), the size goes below
    ``smallest`` (down to ``tiny``) at full type, labels thinned; only when that cannot fit
    either does everything scale down, type included, with a warning, to ``text.min_size``
    and there, for views that can thin labels (``thin`` given), sizes down to ``thin``;
    then labels cut shorter (:data:`LABEL_CHARS`); type never goes below ``text.min_size``:
    what still cannot fit is a :class:`SpecError` naming the width.

    The body's width grows with the size, affinely within a regime: a secant step from two
    layouts usually lands on it; bisection finishes the rare regime change. A body at
    least ``span`` sizes wide (a matrix of ``span`` columns) is never tried at a size that
    cannot fit: laying 1,024 labels out at 40 pt a cell only to find it too wide was a
    third of the time of a long matrix."""
    if target is None:
        return arrange(ctx, natural), ctx
    room = target - 2 * ctx["figure.margin"]
    if span > 0:
        largest = min(largest, max(smallest, room / span))
    body = _solve(arrange, ctx, room, smallest, largest)
    if body is not None:
        return body, ctx
    min_scale = min(1.0, float(ctx.value("text.min_size")) / ctx.em)  # type: ignore[arg-type]
    # A little smaller type (down to 70 %, no warning) keeps every label ...
    scale, body = _shrink(arrange, ctx, room, smallest, max(SHRINK_WARNING, min_scale))
    if body is not None:
        return body, ctx.at(scale)
    if tiny is not None:  # ... else thin the labels, at full size, before shrinking type
        body = _solve(arrange, ctx, room, tiny, smallest)
        if body is not None:
            return body, ctx
    scale, body = _shrink(arrange, ctx, room, smallest, min_scale)
    if body is None:  # smallest type reached: thinned labels, then shorter ones
        return _at_smallest_type(arrange, ctx.at(min_scale), room, smallest * min_scale,
                                 tiny, thin, f"figure.width: {target / 72:.2f}in is too "
                                 f"narrow for these {what}")
    body.shrunk = f"figure.width: {target / 72:.2f}in is too narrow for these {what} at " \
        f"{ctx.em * 72.27 / 72:.3g}pt" if scale < SHRINK_WARNING else ""
    return body, ctx.at(scale)


def _at_smallest_type(arrange: Arrange, floor: Context, room: float, smallest: float,
                      tiny: float | None, thin: float | None, why: str) -> tuple[Body, Context]:
    """Type at ``text.min_size`` and still too wide. A long sequence thins its labels
    (``tiny``); then long labels end in an ellipsis sooner (every cell kept at a legible
    size), and only then do short sequences thin theirs (down to ``thin``). Type never goes
    below the theme's smallest: what cannot fit even so is refused, naming the width."""
    if tiny is not None:
        body = _solve(arrange, floor, room, tiny, smallest)
        if body is not None:
            body.shrunk = f"{why} at {floor.em * 72.27 / 72:.3g}pt"
            return body, floor
    for low in (smallest, thin if tiny is None else tiny):
        if low is None:
            continue
        for chars in (None, *LABEL_CHARS):
            if chars is not None and floor.limit and floor.limit <= chars:
                continue
            at = floor if chars is None else floor.shortened(chars)
            body = _solve(arrange, at, room, low, smallest)
            if body is not None:
                body.shrunk = why + (f"' full labels: they are cut to {chars} characters"
                                     if chars else f" at {floor.em * 72.27 / 72:.3g}pt")
                return body, at
    size = float(floor.value("text.min_size")) * 72.27 / 72  # type: ignore[arg-type]
    raise SpecError(f"{why} even with type at text.min_size ({size:.3g}pt); widen the "
                    "figure, select fewer tokens or heads, or lower text.min_size in the theme")


def _solve(arrange: Arrange, ctx: Context, room: float, smallest: float,
           largest: float) -> Body | None:
    """The widest body in [smallest, largest] that fits ``room``; ``None`` when even the
    smallest does not."""
    lo_body = arrange(ctx, smallest)
    w_lo = lo_body.box.w  # bounds are computed once per layout, not per comparison
    if w_lo > room + 1e-6:
        return None
    hi_body = arrange(ctx, largest)
    w_hi = hi_body.box.w
    if w_hi <= room + 1e-6:
        return hi_body
    lo, hi, best = smallest, largest, lo_body
    for _ in range(8):
        guess = lo + (room - w_lo) * (hi - lo) / (w_hi - w_lo) if w_hi > w_lo else lo
        guess = min(max(guess, lo + 1e-9 * (hi - lo)), hi - 1e-9 * (hi - lo))
        body = arrange(ctx, guess)
        w = body.box.w
        if abs(w - room) <= 0.01:
            return body
        if w < room:
            lo, w_lo, best = guess, w, body
        else:
            hi, w_hi = guess, w
    return best


def _shrink(arrange: Arrange, ctx: Context, room: float, smallest: float,
            min_scale: float) -> tuple[float, Body | None]:
    """Scale everything (type included) so the smallest layout fits ``room``; (scale,
    body), body ``None`` when that would take type below ``min_scale``."""
    scale = 1.0
    body = arrange(ctx, smallest)
    for _ in range(6):
        w = body.box.w
        if w <= room + 1e-6:
            return scale, body
        scale *= room / w * (1 - 1e-9)
        if scale < min_scale:
            return min_scale, None
        body = arrange(ctx.at(scale), smallest * scale)
    return scale, body


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


def finish(ctx: Context, body: Body, *, title: str | None, caption: Sequence[str],
           room: float | None, name: str, show_title: bool | None = None,
           captions: str | None = None) -> Scene:
    """Frame ``body``: title above, caption below (its lines as ``captions`` or the
    theme's ``figure.caption`` keeps them: full, short or none), margins around. A requested width
    ``room`` is met exactly (a narrower body is centred in it, on purpose); without one, a
    caption wraps at the body's width or 32em, whichever is wider."""
    margin = ctx["figure.margin"]
    box = body.box
    em = ctx.em
    inner = max(box.w, (room - 2 * margin) if room else 0.0)
    caption_lines: list[str] = []
    mode = captions if captions in MODES else str(ctx.value("figure.caption"))
    caption = kept(caption, mode)
    if ctx.value("figure.show_caption"):
        caption_w = inner if room else max(inner, 32 * em)
        caption_lines = [line for c in caption if c for line in wrap(ctx, c, caption_w, 0.9)]
        if not room:
            inner = max(inner, *(ctx.box(c, factor=0.9, shorten_to=0).width
                                 for c in caption_lines), 0.0)
    nodes: list[Node] = []
    y = 0.0
    if title and (show_title if show_title is not None else ctx.value("figure.show_title")):
        bold = ctx.value("font.title_weight") == "bold"
        size = ctx["font.title_size"]
        if not room:  # an auto-width figure may widen for its title
            inner = max(inner, ctx.measure(title, size, bold=bold).width)
        fitted = ctx.measure(title, size, bold=bold)
        if fitted.width > inner:  # shrink towards the label size, then wrap
            size = max(em, size * inner / fitted.width * 0.999)
        centre = ctx.value("figure.title_align") == "center"
        title_colour = str(ctx.value("colors.text"))
        for k, line in enumerate(wrap(ctx, title, inner, size / em, bold)):
            tb = ctx.measure(line, size, bold=bold)
            baseline = y + tb.ascent
            nodes.append(ctx.baseline_text(f"title-{k}" if k else "title", tb,
                                           inner / 2 if centre else 0.0, baseline,
                                           "middle" if centre else "start", "title",
                                           title_colour, bold=bold))
            y = baseline + tb.descent + 0.15 * em
        y += 0.45 * em
    body_x = (inner - box.w) / 2  # centred under a wider title or caption, or in the page
    nodes.extend(moved(n, body_x - box.x, y - box.y) for n in body.nodes)
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
            "text.max_label_chars"), stacklevel=3)
    background = ctx.value("colors.background")
    return Scene(width=width, height=y + 2 * margin,
                 background=None if background == "none" else str(background),
                 title=(title or name), desc=body.desc, font_family=ctx.family,
                 root=Group("figure", shifted), gradients=tuple(body.gradients))


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
