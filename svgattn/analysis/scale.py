"""The colour scale: how a figure's weights become colours, its range, its norm, its ticks
and the words a caption uses about it. Colour maps themselves are :mod:`svgattn.colours`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..captions import Essential, number
from ..colours import colour_name, palette
from ..errors import SpecError, quote

NORMS = ("linear", "log", "power")


RELATIVE = ("weight", "uniform", "row")


@dataclass(frozen=True, eq=False)
class Rows:
    """What colouring needs to know of a matrix's rows: how many columns each row's
    queries can see (``visible``: the rest are masked, a causal model's future), how many
    key positions of the whole input they see (``seen``: a uniform share is 1/seen), and
    the sink columns (left out of ranges and row maxima)."""

    visible: np.ndarray  # per row: columns 0..visible-1 are visible
    seen: np.ndarray  # per row: key positions its queries can see (mean over a pooled row)
    sinks: tuple[int, ...] = ()
    causal: bool = False


@dataclass(frozen=True, eq=False)
class ColourScale:
    """How weights become colours.

    ``kind``: ``binary`` (every weight is 0 or the maximum: two swatches), ``sequential``
    or ``diverging`` (signed values, centred on zero). ``relative``: a weight is shown as
    it is (``weight``), times the keys its query can see (``uniform``: 1 is the share
    uniform attention gives), or over its row's strongest weight outside sinks (``row``).
    ``norm``: ``linear``, ``log`` or ``power`` (``t ** gamma``). Values beyond
    ``vmin``/``vmax`` take the end colours; masked cells (``rows``), ``masked``.
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
    relative: str = "weight"
    rows: Rows | None = None
    masked: str | None = None  # the colour of masked cells (None: none are)

    def normalise(self, values: np.ndarray | float) -> np.ndarray:
        """Positions 0..1 on the colour bar (NaN-free, clipped), in float64, of values
        already made relative; computed in place, one temporary the size of ``values``."""
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
        the colours fit a byte: a 4096-token matrix is then 16 MB, not 128). ``values``
        is ``[..., row, column]``; masked cells take the last colour."""
        if self.kind == "binary":
            out = (np.asarray(values) >= self.vmax).astype(np.uint8)
            return self._mask((self.low, self.high), out)
        levels = len(self.colours) - 1
        values = np.asarray(values)
        out = np.empty(values.shape, dtype=np.uint8 if levels < 255 else np.int32)
        flat_in = values.reshape(-1, *values.shape[-2:]) if values.ndim >= 2 else values[None]
        flat_out = out.reshape(flat_in.shape)
        rows = flat_in.shape[-2] if flat_in.ndim == 3 else 1
        step = max(1, (1 << 20) // max(1, flat_in.shape[-1]))  # a million values at a time
        for m in range(flat_in.shape[0]):
            for start in range(0, rows, step):
                block = flat_in[m, start:start + step] if flat_in.ndim == 3 else flat_in[m]
                t = self.normalise(self.relative_values(block, start))
                t *= levels
                np.rint(t, out=t)
                if flat_in.ndim == 3:
                    flat_out[m, start:start + step] = t
                else:
                    flat_out[m] = t
        return self._mask(self.colours, out)

    def relative_values(self, block: np.ndarray, start: int = 0) -> np.ndarray:
        """``block`` (rows ``start``.. of a matrix) as the colours show it: the weights,
        or relative to uniform attention or to each row's strongest weight."""
        if self.relative == "weight" or self.rows is None or block.ndim != 2:
            return block
        r = self.rows
        n = len(block)
        if self.relative == "uniform":
            return block * r.seen[start:start + n, None]
        return block / _row_max(block, r.visible[start:start + n], r.sinks)[:, None]

    def _mask(self, colours: tuple[str, ...],
              index: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        """Masked cells (a causal model's future) get a colour of their own, last."""
        if self.masked is None or self.rows is None or not self.rows.causal or index.ndim < 2:
            return colours, index
        columns = np.arange(index.shape[-1])
        flat = index.reshape(-1, *index.shape[-2:])
        step = max(1, (1 << 20) // max(1, index.shape[-1]))
        for start in range(0, index.shape[-2], step):  # a block of rows at a time
            hidden = columns[None, :] >= self.rows.visible[start:start + step, None]
            for m in range(flat.shape[0]):
                np.copyto(flat[m, start:start + step], len(colours), where=hidden)
        return (*colours, self.masked), index

    def words(self) -> list[str]:
        """What a caption must say about these colours: how the range was chosen, what a
        relative colour means, which colour marks masked cells."""
        note = self.note[:1].upper() + self.note[1:]
        out: list[str] = [Essential(note) if isinstance(self.note, Essential) else note] \
            if self.note else []
        norm = {"log": "; log scale", "power": f"; power scale (gamma {self.gamma:g})"}.get(
            self.norm, "")
        if self.relative == "uniform":
            out.append(Essential("Colours: each weight times the number of keys its query can "
                                 f"see (1 is a uniform share){norm}",
                                 f"Colour: weight \u00d7 keys seen (1: uniform){norm}"))
        elif self.relative == "row":
            out.append(Essential(f"Colours: each weight over its row's strongest weight{norm}"))
        if self.masked is not None:
            name = colour_name(self.masked).capitalize()
            out.append(Essential(f"{name}: masked (a query cannot see later keys)",
                                 f"{name}: masked"))
        return out

    def coarser(self, levels: int) -> ColourScale:
        """The same scale with ``levels`` colours (small multiples: fewer distinct paints,
        far fewer elements for a renderer to draw)."""
        if self.kind == "binary" or len(self.colours) <= levels:
            return self
        picks = np.linspace(0, len(self.colours) - 1, levels).round().astype(int)
        return replace(self, colours=tuple(self.colours[i] for i in picks))

    def colour(self, value: float) -> str:
        """The colour of a value already made relative (a tick of the colour bar)."""
        t = self.normalise(np.array([value]))
        return self.colours[int(np.rint(t[0] * (len(self.colours) - 1)))]

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
    relative: str = "weight"
    masked: str = "#d9d9d9"


@dataclass
class _Range:
    """What the data spans, visible cells only: the largest value outside sinks, the
    largest anywhere, the smallest, and the smallest positive."""

    top: float = -math.inf
    top_low: float = math.inf  # the smallest value outside sinks
    full: float = -math.inf
    low: float = math.inf
    positive: float = math.inf
    only: set[float] | None = None  # the distinct values, while there are at most two

    def add(self, block: np.ndarray, hidden: np.ndarray | None, sinks: Sequence[int]) -> None:
        shown = block if hidden is None else np.where(hidden, np.nan, block)
        with np.errstate(invalid="ignore"):
            if not np.isfinite(shown).any():
                return
            self.full = max(self.full, float(np.nanmax(shown)))
            self.low = min(self.low, float(np.nanmin(shown)))
            positive = shown[shown > 0]
            if positive.size:
                self.positive = min(self.positive, float(positive.min()))
            keep = np.array(shown, dtype=np.float64)
            if sinks:
                keep[..., [c for c in sinks if c < keep.shape[-1]]] = np.nan
            if np.isfinite(keep).any():
                self.top = max(self.top, float(np.nanmax(keep)))
                self.top_low = min(self.top_low, float(np.nanmin(keep)))
            if self.only is None or len(self.only) <= 2:
                found = _few(shown[np.isfinite(shown)])
                self.only = found if self.only is None else self.only | found


def _few(values: np.ndarray) -> set[float]:
    """The distinct values while there are at most two, else three of them: one pass, no
    sort (a set of a million distinct weights cost 0.6 s and 100 MiB at N = 1024)."""
    if not values.size:
        return set()
    lo, hi = float(values.min()), float(values.max())
    between = values[(values != lo) & (values != hi)]
    return {lo, hi} if not between.size else {lo, float(between[0]), hi}


def _measure(values: np.ndarray, rows: Rows | None, relative: str,
             sinks: Sequence[int]) -> _Range:
    """The range of ``values`` as coloured (made relative, masked cells aside), read a
    block of rows at a time (a 4096-token matrix is never copied whole)."""
    probe = ColourScale("sequential", 0.0, 1.0, ("#000000", "#ffffff"), relative=relative,
                        rows=rows)
    found = _Range()
    v = np.asarray(values)
    if v.ndim < 2:
        found.add(np.asarray(v, dtype=np.float64), None, sinks)
        return found
    stack = v.reshape(-1, *v.shape[-2:])
    step = max(1, (1 << 20) // max(1, v.shape[-1]))
    columns = np.arange(v.shape[-1])
    for m in range(stack.shape[0]):
        for start in range(0, v.shape[-2], step):
            block = np.asarray(probe.relative_values(stack[m, start:start + step], start),
                               dtype=np.float64)
            hidden = None
            if rows is not None and rows.causal:
                hidden = columns[None, :] >= rows.visible[start:start + len(block), None]
            found.add(block, hidden, sinks)
    return found


def scale_for(values: np.ndarray, settings: Settings, *, signed: bool = False,
              sinks: Sequence[int] = (), binary: bool = True,
              rows: Rows | None = None) -> ColourScale:
    """The colour scale for ``values`` (``[..., row, key]``) with ``rows`` (what the rows
    can see, for masked cells and relative colours).

    Unless given, the range comes from the data with the ``sinks`` key columns left out
    (they saturate instead of washing the scale out; the note says so). Signed values (a
    difference) get the ``diverging`` map centred on zero. Data that is only 0 and its
    maximum, on a linear scale, is ``binary`` (two swatches) when ``binary`` is allowed.
    """
    if settings.norm not in NORMS:
        raise SpecError(f"norm: {quote(settings.norm)} is not one of {', '.join(NORMS)}")
    if settings.relative not in RELATIVE:
        raise SpecError(f"scale: {quote(settings.relative)} is not one of "
                        f"{', '.join(RELATIVE)}")
    relative = "weight" if signed else settings.relative
    found = _measure(values, rows, relative, sinks)
    if signed:
        scale = _diverging(found, settings)
    else:
        scale = _sequential(found, settings, binary, relative)
    masked = rows is not None and rows.causal and bool((rows.visible < np.asarray(values)
                                                        .shape[-1]).any())
    if masked:
        scale = replace(scale.coarser(255) if scale.kind != "binary" else scale,
                        masked=settings.masked)
    return replace(scale, relative=relative, rows=rows)


def _diverging(found: _Range, s: Settings) -> ColourScale:
    """A difference: centred on zero, its colours named in the note."""
    m = max(abs(found.top), abs(found.top_low)) if math.isfinite(found.top) else 0.0
    hi = s.vmax if s.vmax is not None else (-s.vmin if s.vmin is not None else (m or 1.0))
    lo = s.vmin if s.vmin is not None else -hi
    if not lo < 0 < hi:
        raise SpecError("vmin/vmax: a difference is drawn centred on zero; give vmin < 0 < "
                        "vmax (or only vmax)")
    if s.norm != "linear":
        raise SpecError("norm: a difference is drawn on a linear scale; drop --norm")
    colours = palette(s.diverging)
    words = Essential(f"{colour_name(colours[0])}: less, {colour_name(colours[-1])}: more")
    return ColourScale("diverging", lo, hi, colours, "linear", s.gamma, s.high, s.low, words)


def _sequential(found: _Range, s: Settings, binary: bool, relative: str) -> ColourScale:
    top = found.top if math.isfinite(found.top) else 0.0
    full = found.full if math.isfinite(found.full) else 0.0
    hi = s.vmax if s.vmax is not None else (top if top > 0 else (full if full > 0 else 1.0))
    note = ""
    what = "weights" if relative == "weight" else "values"
    if s.vmax is None and full > hi * (1 + 1e-9):
        note = f"colour scale ignores the sink columns ({what} up to {number(full)} saturate)"
    elif s.vmax is not None and full > s.vmax * (1 + 1e-9):
        note = f"colours saturate at {s.vmax:g} ({what} up to {number(full)})"
    if s.norm == "log":
        floor = 0.1 if relative == "uniform" else hi * 1e-3  # a tenth of a uniform share
        lo = s.vmin if s.vmin is not None else max(
            found.positive if math.isfinite(found.positive) else hi, floor)
        if not 0 < lo < hi:
            raise SpecError("vmin: a log scale needs 0 < vmin < vmax")
    else:
        low = found.low if math.isfinite(found.low) else 0.0
        lo = s.vmin if s.vmin is not None else min(0.0, low)
        if not lo < hi:
            raise SpecError(f"vmin/vmax: vmin ({lo:g}) must be below vmax ({hi:g})")
    if (binary and s.vmin is None and s.norm == "linear" and lo == 0 and relative == "weight"
            and found.only is not None and found.only <= {0.0, hi}):
        return ColourScale("binary", 0.0, hi, (s.low, s.high), "linear", s.gamma, s.high,
                           s.low, note)
    return ColourScale("sequential", lo, hi, palette(s.colormap), s.norm, s.gamma, s.high, s.low,
                       note)


def _row_max(block: np.ndarray, visible: np.ndarray, sinks: Sequence[int]) -> np.ndarray:
    """Each row's largest weight among its visible columns, sinks aside (1 when none)."""
    work = np.array(block, dtype=np.float64)
    columns = np.arange(work.shape[1])
    work[columns[None, :] >= visible[:, None]] = 0.0
    if sinks:
        work[:, [s for s in sinks if s < work.shape[1]]] = 0.0
    top = work.max(axis=1)
    top[top <= 0] = 1.0
    return top


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


