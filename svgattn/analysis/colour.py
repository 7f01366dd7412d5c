"""Colour: colour maps, the scale that maps weights to colours, ticks, head colours.

Named colour maps come from the `cmap` library (the matplotlib, ColorBrewer, cmocean,
crameri ... catalogues without matplotlib), imported only when a figure needs one.
A theme names a map (``colormap = "viridis"``) or gives its own stops.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..errors import SpecError, quote

# Continuous colours are quantised to this many levels: invisible steps (< 0.4 %), and
# equal colours can then be merged into runs by the cell writer.
LEVELS = 256
NORMS = ("linear", "log", "power")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:+-]{0,63}$")
# Short names resolved in this catalogue first (cmap warns when a short name is ambiguous).
_PREFERRED = ("colorbrewer", "bids", "matplotlib", "cmocean", "crameri", "colorcet")


def _hex(rgb: Sequence[float]) -> str:
    r, g, b = (round(max(0.0, min(1.0, float(c))) * 255) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@lru_cache(maxsize=64)
def named_map(name: str, levels: int = LEVELS) -> tuple[str, ...]:
    """``levels`` colours of the named map (``viridis``, ``Blues``, ``RdBu_r`` ...), from
    the lowest to the highest value; ``_r`` reverses a map."""
    if not _NAME.match(name):
        raise SpecError(f"colormap: {quote(name)} is not a colour-map name such as viridis, "
                        "Blues or RdBu_r")
    import cmap  # a well-kept catalogue of colour maps; imported only when needed

    base, reverse = (name[:-2], True) if name.endswith("_r") else (name, False)
    candidates = [base] if ":" in base else [f"{c}:{base}" for c in _PREFERRED] + [base]
    for candidate in candidates:
        try:
            lut = cmap.Colormap(candidate).lut(levels)
        except (ValueError, KeyError, TypeError):
            continue
        colours = tuple(_hex(row) for row in lut)
        return colours[::-1] if reverse else colours
    raise SpecError(f"colormap: {quote(name)} is not a known colour map; try viridis, cividis, "
                    "magma, Blues, Greys (sequential) or RdBu_r, PuOr (diverging)")


def interpolate(stops: Sequence[str], levels: int = LEVELS) -> tuple[str, ...]:
    """``levels`` colours interpolated linearly (in sRGB, as SVG gradients do) between
    evenly spaced ``stops``."""
    rgb = np.array([_rgb(s) for s in stops], dtype=float)
    pos = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, levels)
    channels = [np.interp(t, pos, rgb[:, c]) for c in range(3)]
    ints = np.rint(np.stack(channels, axis=1)).astype(int)
    return tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in ints.tolist())


def palette(colormap: str | Sequence[str], levels: int = LEVELS) -> tuple[str, ...]:
    """A colour map given by name or by its stops, as ``levels`` colours."""
    if isinstance(colormap, str):
        return named_map(colormap, levels)
    return interpolate(colormap, levels)


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


def scale_for(values: np.ndarray, *, colormap: str | Sequence[str],
              diverging: str | Sequence[str], high: str, low: str, signed: bool = False,
              sinks: Sequence[int] = (), vmin: float | None = None, vmax: float | None = None,
              norm: str = "linear", gamma: float = 0.5, binary: bool = True) -> ColourScale:
    """The colour scale for ``values`` (``[..., key]``).

    Unless given, the range comes from the data with the ``sinks`` key columns left out
    (they saturate instead of washing the scale out; the note says so). Signed values (a
    difference) get the ``diverging`` map centred on zero. Data that is only 0 and its
    maximum, on a linear scale, is ``binary`` (two swatches) when ``binary`` is allowed.
    """
    v = np.asarray(values, dtype=np.float64)
    keep = [c for c in range(v.shape[-1]) if c not in set(sinks)] if v.ndim else []
    core = v[..., keep] if keep and len(keep) < v.shape[-1] else v
    note = ""
    if norm not in NORMS:
        raise SpecError(f"norm: {quote(norm)} is not one of {', '.join(NORMS)}")
    if signed:
        m = float(np.abs(core).max()) if core.size else 0.0
        hi = vmax if vmax is not None else (-vmin if vmin is not None else (m or 1.0))
        lo = vmin if vmin is not None else -hi
        if not lo < 0 < hi:
            raise SpecError("vmin/vmax: a difference is drawn centred on zero; give vmin < 0 < "
                            "vmax (or only vmax)")
        if norm != "linear":
            raise SpecError("norm: a difference is drawn on a linear scale; drop --norm")
        return ColourScale("diverging", lo, hi, palette(diverging), "linear", gamma, high, low)
    top = float(core.max()) if core.size else 0.0
    full = float(v.max()) if v.size else 0.0
    hi = vmax if vmax is not None else (top if top > 0 else (full if full > 0 else 1.0))
    if vmax is None and full > hi * (1 + 1e-9):
        note = f"colour scale ignores the sink column(s) (weights up to {full:.3g} saturate)"
    elif vmax is not None and full > vmax * (1 + 1e-9):
        note = f"colours saturate at {vmax:g} (weights up to {full:.3g})"
    if norm == "log":
        positive = v[v > 0]
        lo = vmin if vmin is not None else max(float(positive.min()) if positive.size else hi,
                                               hi * 1e-3)
        if not 0 < lo < hi:
            raise SpecError("vmin: a log scale needs 0 < vmin < vmax")
    else:
        lo = vmin if vmin is not None else min(0.0, float(v.min()) if v.size else 0.0)
        if not lo < hi:
            raise SpecError(f"vmin/vmax: vmin ({lo:g}) must be below vmax ({hi:g})")
    is_binary = (binary and vmin is None and norm == "linear" and lo == 0
                 and bool(np.isin(v, (0.0, hi)).all()))
    if is_binary:
        return ColourScale("binary", 0.0, hi, (low, high), "linear", gamma, high, low, note)
    return ColourScale("sequential", lo, hi, palette(colormap), norm, gamma, high, low, note)


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


def head_colour(colours: Sequence[str], index: int) -> str:
    """Colour of head ``index``: the palette in order; past its end, the palette again,
    darker on the second round and lighter on the third, so up to three times as many
    heads as colours stay distinguishable."""
    base = _rgb(colours[index % len(colours)])
    round_ = (index // len(colours)) % 3
    if round_ == 0:
        return colours[index % len(colours)]
    target, share = ((0, 0, 0), 0.4) if round_ == 1 else ((255, 255, 255), 0.45)
    r, g, b = (round(c + (t - c) * share) for c, t in zip(base, target, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def contrast_text(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (WCAG relative luminance)."""
    lum = luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def luminance(colour: str) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """Perceptual distance (CIE76 delta E) between two colours."""
    return math.dist(lab(a), lab(b))


def pairwise_min_distance(colours: Sequence[str]) -> float:
    return min((distance(a, b) for a, b in itertools.combinations(colours, 2)), default=math.inf)
