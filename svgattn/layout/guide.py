"""What a reader is told about a colour scale: round-valued ticks for its colour bar and
the words its caption says (how the range was chosen, what relative colours mean, which
colour marks masked cells)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..analysis.scale import ColourScale
from ..captions import Essential, number
from ..colours import colour_name


def ticks(scale: ColourScale, most: int = 6) -> list[tuple[float, float, str]]:
    """(value, position 0..1, label) of round-valued ticks."""
    if scale.norm.kind == "log":
        values = log_ticks(scale.vmin, scale.vmax, most)
    else:
        values = nice_ticks(scale.vmin, scale.vmax, most)
    labels = tick_labels(values)
    return [(v, float(scale.norm.normalise(np.array([v]))[0]), s)
            for v, s in zip(values, labels, strict=True)]


def note(scale: ColourScale) -> str:
    """The first thing a caption says of a scale: which colours are less and which more
    (a difference), or why values saturate; "" when neither."""
    if scale.kind == "diverging":
        return Essential(f"{colour_name(scale.colours[0])}: less, "
                         f"{colour_name(scale.colours[-1])}: more")
    if scale.saturated is None:
        return ""
    why, full = scale.saturated
    what = "weights" if scale.relative == "weight" else "values"
    if why == "sinks":
        return f"colour scale ignores the sink columns ({what} up to {number(full)} saturate)"
    return f"colours saturate at {scale.vmax:g} ({what} up to {number(full)})"


def words(scale: ColourScale) -> list[str]:
    """What a caption must say about these colours: :func:`note`, what a relative colour
    means, which colour marks masked cells."""
    said = note(scale)
    first = said[:1].upper() + said[1:]
    out: list[str] = [Essential(first) if isinstance(said, Essential) else first] \
        if said else []
    norm = {"log": "; log scale", "power": f"; power scale (gamma {scale.norm.gamma:g})"}.get(
        scale.norm.kind, "")
    if scale.relative == "uniform":
        out.append(Essential("Colours: each weight times the number of keys its query can "
                             f"see (1 is a uniform share){norm}",
                             f"Colour: weight \u00d7 keys seen (1: uniform){norm}"))
    elif scale.relative == "row":
        out.append(Essential(f"Colours: each weight over its row's strongest weight{norm}"))
    if scale.masked is not None:
        name = colour_name(scale.masked).capitalize()
        out.append(Essential(f"{name}: masked (a query cannot see later keys)",
                             f"{name}: masked"))
    return out


def nice_ticks(vmin: float, vmax: float, most: int = 6) -> list[float]:
    """Ticks on a 1-2-2.5-5 step between ``vmin`` and ``vmax`` (both finite, vmin < vmax),
    2 to ``most`` of them, zero included when in range; works at any magnitude."""
    span = vmax - vmin
    raw = span / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = 10 * power
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * power
        if span / step <= (most - 1) * (1 + 1e-9):
            break
    first = math.ceil(vmin / step - 1e-9)
    values: list[float] = []
    k = first
    while k * step <= vmax + span * 1e-9 and len(values) < most + 2:
        values.append(0.0 if k == 0 else k * step)
        k += 1
    return values


def log_ticks(vmin: float, vmax: float, most: int = 6) -> list[float]:
    """Powers of ten (and 2, 5 times them when there is room) within the range."""
    lo, hi = math.floor(math.log10(vmin)), math.ceil(math.log10(vmax))
    for mults in ((1, 2, 5), (1,)):
        values = [m * 10.0 ** e for e in range(lo, hi + 1) for m in mults
                  if vmin * (1 - 1e-9) <= m * 10.0 ** e <= vmax * (1 + 1e-9)]
        if len(values) <= most:
            return values
    step = max(1, math.ceil((hi - lo) / (most - 1)))
    return [10.0 ** e for e in range(lo, hi + 1, step) if vmin <= 10.0 ** e <= vmax]


def tick_labels(values: Sequence[float]) -> list[str]:
    """Labels for ticks, all in one style: plain decimals with just enough places
    (0.0001, 0.00025), or compact scientific notation (2e-7, 1.5e308) for very small or
    very large values, rather than rows of zeros or 309 digits."""
    top = max((abs(v) for v in values), default=0.0)
    if top == 0:
        return ["0" for _ in values]
    if 1e-4 <= top < 1e5:
        places = 0
        while places < 12 and any(abs(round(v, places) - v) > 1e-9 * top for v in values):
            places += 1
        return [_trim(f"{v:.{places}f}") for v in values]
    return [_sci(v) for v in values]


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _sci(value: float) -> str:
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{_trim(mantissa)}e{int(exponent)}"
