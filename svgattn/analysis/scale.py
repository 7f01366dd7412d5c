"""The colour scale: how a figure's values become colours. A :class:`ColourScale` is a
:class:`~svgattn.analysis.norm.Norm` (values to positions 0..1) and a :class:`ColourMap`
(positions to colours, and the colour of masked cells), chosen from the data by
:func:`scale_for`. Colour maps by name are :mod:`svgattn.colours`; the ticks and words a
reader is given are :mod:`svgattn.layout.guide`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ..colours import palette
from ..errors import SpecError, quote
from .norm import NORMS, RELATIVE, Norm, Rows, _Range, measure

__all__ = ["ColourMap", "ColourScale", "Norm", "Rows", "Settings", "scale_for"]


class ColourMap(NamedTuple):
    """Positions 0..1 to colours. ``kind``: ``binary`` (every value is 0 or the maximum:
    the two swatches ``low`` and ``high``), ``sequential``, or ``diverging`` (signed
    values, centred on zero); ``masked``: the colour of masked cells (``None``: none)."""

    kind: str
    colours: tuple[str, ...]
    high: str = "#000000"
    low: str = "#ffffff"
    masked: str | None = None

    def coarser(self, levels: int) -> ColourMap:
        """The same map with ``levels`` colours (small multiples: fewer distinct paints,
        far fewer elements for a renderer to draw)."""
        if self.kind == "binary" or len(self.colours) <= levels:
            return self
        picks = np.linspace(0, len(self.colours) - 1, levels).round().astype(int)
        return self._replace(colours=tuple(self.colours[i] for i in picks))

    def gradient(self, count: int = 17) -> tuple[tuple[float, str], ...]:
        """Evenly spaced stops for the colour bar (its axis is the normalised one)."""
        picks = np.linspace(0, len(self.colours) - 1, count).round().astype(int)
        return tuple((i / (count - 1), self.colours[p]) for i, p in enumerate(picks))

    def at(self, t: float) -> str:
        """The colour at position ``t`` (0..1)."""
        return self.colours[int(np.rint(t * (len(self.colours) - 1)))]


@dataclass(frozen=True, eq=False)
class ColourScale:
    """How values become colours: a norm and a colour map; ``saturated`` says why values
    beyond the range take the end colour (``("sinks", largest)``: the range leaves the
    sink columns out; ``("vmax", largest)``: a maximum was asked for), for the caption."""

    norm: Norm
    cmap: ColourMap
    saturated: tuple[str, float] | None = None

    # what layout reads most, by name
    @property
    def kind(self) -> str:
        return self.cmap.kind

    @property
    def colours(self) -> tuple[str, ...]:
        return self.cmap.colours

    @property
    def high(self) -> str:
        return self.cmap.high

    @property
    def low(self) -> str:
        return self.cmap.low

    @property
    def masked(self) -> str | None:
        return self.cmap.masked

    @property
    def vmin(self) -> float:
        return self.norm.vmin

    @property
    def vmax(self) -> float:
        return self.norm.vmax

    @property
    def relative(self) -> str:
        return self.norm.relative

    @property
    def rows(self) -> Rows | None:
        return self.norm.rows

    def normalise(self, values: np.ndarray | float) -> np.ndarray:
        return self.norm.normalise(values)

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
                t = self.norm.normalise(self.norm.relative_values(block, start))
                t *= levels
                np.rint(t, out=t)
                if flat_in.ndim == 3:
                    flat_out[m, start:start + step] = t
                else:
                    flat_out[m] = t
        return self._mask(self.colours, out)

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

    def coarser(self, levels: int) -> ColourScale:
        """The same scale with ``levels`` colours."""
        return replace(self, cmap=self.cmap.coarser(levels))

    def colour(self, value: float) -> str:
        """The colour of a value already made relative (a bar's value)."""
        return self.cmap.at(float(self.norm.normalise(np.array([value]))[0]))

    def gradient(self, count: int = 17) -> tuple[tuple[float, str], ...]:
        return self.cmap.gradient(count)


class Settings(NamedTuple):
    """What a figure asks of its colour scale: the theme's maps and colours and the
    figure's colour options (docs: "Colour")."""

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
    found = measure(values, rows, relative, sinks)
    if signed:
        scale = _diverging(found, settings)
    else:
        scale = _sequential(found, settings, binary, relative)
    masked = rows is not None and rows.causal and bool((rows.visible < np.asarray(values)
                                                        .shape[-1]).any())
    if masked:
        scale = replace(scale, cmap=scale.cmap.coarser(255)._replace(masked=settings.masked))
    return replace(scale, norm=scale.norm._replace(relative=relative, rows=rows))


def _diverging(found: _Range, s: Settings) -> ColourScale:
    """A difference: centred on zero."""
    m = max(abs(found.top), abs(found.top_low)) if math.isfinite(found.top) else 0.0
    hi = s.vmax if s.vmax is not None else (-s.vmin if s.vmin is not None else (m or 1.0))
    lo = s.vmin if s.vmin is not None else -hi
    if not lo < 0 < hi:
        raise SpecError("vmin/vmax: a difference is drawn centred on zero; give vmin < 0 < "
                        "vmax (or only vmax)")
    if s.norm != "linear":
        raise SpecError("norm: a difference is drawn on a linear scale; drop --norm")
    return ColourScale(Norm(lo, hi, "linear", s.gamma),
                       ColourMap("diverging", palette(s.diverging), s.high, s.low))


def _sequential(found: _Range, s: Settings, binary: bool, relative: str) -> ColourScale:
    top = found.top if math.isfinite(found.top) else 0.0
    full = found.full if math.isfinite(found.full) else 0.0
    hi = s.vmax if s.vmax is not None else (top if top > 0 else (full if full > 0 else 1.0))
    saturated: tuple[str, float] | None = None
    if s.vmax is None and full > hi * (1 + 1e-9):
        saturated = ("sinks", full)
    elif s.vmax is not None and full > s.vmax * (1 + 1e-9):
        saturated = ("vmax", full)
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
        return ColourScale(Norm(0.0, hi, "linear", s.gamma),
                           ColourMap("binary", (s.low, s.high), s.high, s.low), saturated)
    return ColourScale(Norm(lo, hi, s.norm, s.gamma),
                       ColourMap("sequential", palette(s.colormap), s.high, s.low), saturated)
