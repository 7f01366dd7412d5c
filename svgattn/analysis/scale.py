"""Map weights to colours and pick colour-bar ticks."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

# Continuous colours are quantised to this many levels: invisible steps (< 0.4 %), and
# equal colours can then be merged into runs by the cell writer.
LEVELS = 256


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def ramp(stops: Sequence[str], levels: int = LEVELS) -> list[str]:
    """``levels`` colours interpolated linearly (in sRGB, as SVG gradients do) between
    evenly spaced ``stops``; the colour bar's gradient uses the same stops."""
    rgb = np.array([_rgb(s) for s in stops], dtype=float)
    pos = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, levels)
    channels = [np.interp(t, pos, rgb[:, c]) for c in range(3)]
    ints = np.rint(np.stack(channels, axis=1)).astype(int)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in ints.tolist()]


def cell_colors(matrix: np.ndarray, vmax: float, binary: bool, high: str, low: str,
                stops: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Return (palette, index matrix): cell ``(r, c)`` is drawn in ``palette[index[r, c]]``."""
    if binary:
        return [low, high], (matrix >= vmax).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):  # a tiny vmax overflows: saturate
        scaled = np.clip(matrix / vmax, 0.0, 1.0)
    levels = np.rint(np.nan_to_num(scaled, nan=1.0) * (LEVELS - 1)).astype(np.int64)
    return ramp(stops), levels


def head_colour(palette: Sequence[str], index: int) -> str:
    """Colour of head ``index``: the palette in order; past its end, the palette again,
    darker on the second round and lighter on the third, so up to three times as many
    heads as colours stay distinguishable."""
    base = _rgb(palette[index % len(palette)])
    round_ = (index // len(palette)) % 3
    if round_ == 0:
        return palette[index % len(palette)]
    target, share = ((0, 0, 0), 0.4) if round_ == 1 else ((255, 255, 255), 0.45)
    r, g, b = (round(c + (t - c) * share) for c, t in zip(base, target, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def nice_ticks(vmax: float, most: int = 6) -> list[float]:
    """Ticks from 0 to at most ``vmax`` on a 1-2-2.5-5 step, 2 to ``most`` of them; works
    for any finite positive ``vmax`` (1e-300 and 1e300 alike)."""
    raw = vmax / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = 10 * power
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * power
        if vmax / step <= (most - 1) * (1 + 1e-9):
            break
    count = math.floor(vmax / step * (1 + 1e-9))
    return [i * step for i in range(count + 1)]


def tick_labels(values: Sequence[float]) -> list[str]:
    """Labels for evenly spaced ticks, all in one style: plain decimals with just enough
    places for the step (0.0001, 0.00025), or, for very small or very large values,
    compact scientific notation (2e-7, 1.5e308) rather than rows of zeros or 309 digits."""
    top = max((abs(v) for v in values), default=0.0)
    step = min((b - a for a, b in itertools.pairwise(values) if b > a), default=top)
    if top == 0:
        return ["0" for _ in values]
    if 1e-4 <= top < 1e5:
        places = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
        # a 2.5 step needs one place more than its power of ten
        if step > 0 and abs(round(step * 10**places) - step * 10**places) > 1e-6:
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


def contrast_text(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (WCAG relative luminance)."""
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(fill))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"
