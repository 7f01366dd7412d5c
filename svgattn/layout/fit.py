"""Fitting a view's body to a requested width.

A view lays its body out as a function of one size (cells, columns ...) at a scale;
:func:`fit` finds the size that fills a requested width (and, when even the smallest
legible size is too wide, the scale that shrinks everything uniformly, with a warning).
The framework (:mod:`svgattn.layout.frame`) then frames the body.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import SpecError
from .context import Context
from .frame import Body

LABEL_CHARS = (24, 16, 12, 8, 6, 4)  # shorter labels tried before a width is refused
SHRINK_WARNING = 0.7  # type shrinks to 70 % silently; beyond, labels thin, or a warning

Arrange = Callable[[Context, float], Body]


def fit(arrange: Arrange, ctx: Context, target: float | None, natural: float, *,
        smallest: float, largest: float, tiny: float | None = None, span: float = 0.0,
        what: str = "tokens", thin: float | None = None) -> Body:
    """Lay out at ``natural`` size without a target width; with one, find the largest size
    in [``smallest``, ``largest``] whose body (plus margins) fits ``target``. At
    ``largest`` the body stops growing (the frame centres it on its page). When even
    ``smallest`` is too wide: type shrinks by up to 30 % if that keeps every label; else,
    for views that thin their labels (``tiny`` given: matrices), the size goes below
    ``smallest`` (down to ``tiny``) at full type, labels thinned; only when that cannot fit
    either does everything scale down, type included, with a warning, to ``text.min_size``
    and there, for views that can thin labels (``thin`` given), sizes down to ``thin``;
    then labels cut shorter (:data:`LABEL_CHARS`); type never goes below ``text.min_size``:
    what still cannot fit is a :class:`SpecError` naming the width. The body remembers the
    context it was laid out at (``body.context``: its type scale and label length).

    The body's width grows with the size, affinely within a regime: a secant step from two
    layouts usually lands on it; bisection finishes the rare regime change. A body at
    least ``span`` sizes wide (a matrix of ``span`` columns) is never tried at a size that
    cannot fit: laying 1,024 labels out at 40 pt a cell only to find it too wide was a
    third of the time of a long matrix."""
    body, fitted = _fit(arrange, ctx, target, natural, smallest, largest, tiny, span, what,
                        thin)
    body.context = fitted  # the framework frames it at the type size it was laid out at
    return body


def _fit(arrange: Arrange, ctx: Context, target: float | None, natural: float,
         smallest: float, largest: float, tiny: float | None, span: float, what: str,
         thin: float | None) -> tuple[Body, Context]:
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
