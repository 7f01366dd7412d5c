"""The colour scale: how a figure's weights become colours, its range, its norm, its ticks
and the words a caption uses about it. Colour maps themselves are :mod:`svgattn.colours`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..colours import colour_name, palette
from ..errors import SpecError, quote

NORMS = ("linear", "log", "power")


@dataclass(frozen=True)
class ColourScale:
    """How weights become colours.

    ``kind``: ``binary`` (every weight is 0 or the maximum: two swatches), ``sequential``
    or ``diverging`` (signed values, centred on zero). ``norm``: ``linear``, ``log`` or
    ``power`` (``t ** gamma``). Values beyond ``vmin``/``vmax`` take the end colours.
    """

    kind: str
    vmin: float
    vmax: float
    colours: tuple[str, ...]
    norm: str = "linear"
    gamma: float = 0.5
    high: str = "#000000"
    low: str = "#ffffff"
    note: str = ""  # how the range was chosen, for the caption

    def normalise(self, values: np.ndarray | float) -> np.ndarray:
        """Positions 0..1 on the colour bar (NaN-free, clipped), in float64; computed in
        place, one temporary the size of ``values``."""
        t = np.array(values, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.norm == "log":
                lo, hi = math.log10(self.vmin), math.log10(self.vmax)
                np.maximum(t, self.vmin, out=t)
                np.log10(t, out=t)
                t -= lo
                t /= hi - lo
            else:
                t -= self.vmin
                t /= self.vmax - self.vmin
            np.nan_to_num(t, copy=False, nan=1.0, posinf=1.0, neginf=0.0)
            np.clip(t, 0.0, 1.0, out=t)
            if self.norm == "power":
                np.power(t, self.gamma, out=t)
        return t

    def index(self, values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        """(colours, index array): value ``v`` is painted ``colours[index]`` (uint8 when
        the colours fit a byte: a 4096-token matrix is then 16 MB, not 128)."""
        if self.kind == "binary":
            return (self.low, self.high), (np.asarray(values) >= self.vmax).astype(np.uint8)
        levels = len(self.colours) - 1
        values = np.asarray(values)
        out = np.empty(values.shape, dtype=np.uint8 if levels < 256 else np.int32)
        flat_in, flat_out = values.reshape(-1), out.reshape(-1)
        step = 1 << 20  # a million values at a time: the float64 temporary stays at 8 MB
        for start in range(0, flat_in.size, step):
            t = self.normalise(flat_in[start:start + step])
            t *= levels
            np.rint(t, out=t)
            flat_out[start:start + step] = t
        return self.colours, out

    def coarser(self, levels: int) -> ColourScale:
        """The same scale with ``levels`` colours (small multiples: fewer distinct paints,
        far fewer elements for a renderer to draw)."""
        if self.kind == "binary" or len(self.colours) <= levels:
            return self
        picks = np.linspace(0, len(self.colours) - 1, levels).round().astype(int)
        return replace(self, colours=tuple(self.colours[i] for i in picks))

    def colour(self, value: float) -> str:
        colours, index = self.index(np.array([value]))
        return colours[int(index[0])]

    def gradient(self, count: int = 17) -> tuple[tuple[float, str], ...]:
        """Evenly spaced stops for the colour bar (its axis is the normalised one)."""
        picks = np.linspace(0, len(self.colours) - 1, count).round().astype(int)
        return tuple((i / (count - 1), self.colours[p]) for i, p in enumerate(picks))

    def ticks(self, most: int = 6) -> list[tuple[float, float, str]]:
        """(value, position 0..1, label) of round-valued ticks."""
        if self.norm == "log":
            values = log_ticks(self.vmin, self.vmax, most)
        else:
            values = nice_ticks(self.vmin, self.vmax, most)
        labels = tick_labels(values)
        return [(v, float(self.normalise(v)), s) for v, s in zip(values, labels, strict=True)]


@dataclass(frozen=True)
class Settings:
    """What a figure asks of its colour scale: the theme's maps and colours and the
    figure's colour options (README "Colour")."""

    colormap: str | Sequence[str] = "Blues"
    diverging: str | Sequence[str] = "RdBu_r"
    high: str = "#0072b2"
    low: str = "#eeeeee"
    vmin: float | None = None
    vmax: float | None = None
    norm: str = "linear"
    gamma: float = 0.5


def scale_for(values: np.ndarray, settings: Settings, *, signed: bool = False,
              sinks: Sequence[int] = (), binary: bool = True) -> ColourScale:
    """The colour scale for ``values`` (``[..., key]``).

    Unless given, the range comes from the data with the ``sinks`` key columns left out
    (they saturate instead of washing the scale out; the note says so). Signed values (a
    difference) get the ``diverging`` map centred on zero. Data that is only 0 and its
    maximum, on a linear scale, is ``binary`` (two swatches) when ``binary`` is allowed.
    """
    v = np.asarray(values, dtype=np.float64)
    keep = [c for c in range(v.shape[-1]) if c not in set(sinks)] if v.ndim else []
    core = v[..., keep] if keep and len(keep) < v.shape[-1] else v
    if settings.norm not in NORMS:
        raise SpecError(f"norm: {quote(settings.norm)} is not one of {', '.join(NORMS)}")
    if signed:
        return _diverging(core, settings)
    return _sequential(v, core, settings, binary)


def _diverging(core: np.ndarray, s: Settings) -> ColourScale:
    """A difference: centred on zero, its colours named in the note."""
    m = float(np.abs(core).max()) if core.size else 0.0
    hi = s.vmax if s.vmax is not None else (-s.vmin if s.vmin is not None else (m or 1.0))
    lo = s.vmin if s.vmin is not None else -hi
    if not lo < 0 < hi:
        raise SpecError("vmin/vmax: a difference is drawn centred on zero; give vmin < 0 < "
                        "vmax (or only vmax)")
    if s.norm != "linear":
        raise SpecError("norm: a difference is drawn on a linear scale; drop --norm")
    colours = palette(s.diverging)
    words = f"{colour_name(colours[0])}: less, {colour_name(colours[-1])}: more"
    return ColourScale("diverging", lo, hi, colours, "linear", s.gamma, s.high, s.low, words)


def _sequential(v: np.ndarray, core: np.ndarray, s: Settings, binary: bool) -> ColourScale:
    top = float(core.max()) if core.size else 0.0
    full = float(v.max()) if v.size else 0.0
    hi = s.vmax if s.vmax is not None else (top if top > 0 else (full if full > 0 else 1.0))
    note = ""
    if s.vmax is None and full > hi * (1 + 1e-9):
        note = f"colour scale ignores the sink column(s) (weights up to {full:.3g} saturate)"
    elif s.vmax is not None and full > s.vmax * (1 + 1e-9):
        note = f"colours saturate at {s.vmax:g} (weights up to {full:.3g})"
    if s.norm == "log":
        positive = v[v > 0]
        lo = s.vmin if s.vmin is not None else max(float(positive.min()) if positive.size
                                                   else hi, hi * 1e-3)
        if not 0 < lo < hi:
            raise SpecError("vmin: a log scale needs 0 < vmin < vmax")
    else:
        lo = s.vmin if s.vmin is not None else min(0.0, float(v.min()) if v.size else 0.0)
        if not lo < hi:
            raise SpecError(f"vmin/vmax: vmin ({lo:g}) must be below vmax ({hi:g})")
    if (binary and s.vmin is None and s.norm == "linear" and lo == 0
            and bool(np.isin(v, (0.0, hi)).all())):
        return ColourScale("binary", 0.0, hi, (s.low, s.high), "linear", s.gamma, s.high,
                           s.low, note)
    return ColourScale("sequential", lo, hi, palette(s.colormap), s.norm, s.gamma, s.high, s.low,
                       note)


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


