"""How values become positions on a colour bar: a range, a norm (linear, log, power) and
what a value is relative to (the weight itself, uniform attention over the keys its query
sees, or its row's strongest weight); and the range of data as it will be coloured.
Colours themselves are the colour map's (:mod:`svgattn.analysis.scale`); ticks and the
words a caption says about a scale are layout's (:mod:`svgattn.layout.guide`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

NORMS = ("linear", "log", "power")
RELATIVE = ("weight", "uniform", "row")


class Rows(NamedTuple):
    """What colouring needs to know of a matrix's rows: how many columns each row's
    queries can see (``visible``: the rest are masked, a causal model's future), how many
    key positions of the whole input they see (``seen``: a uniform share is 1/seen), and
    the sink columns (left out of ranges and row maxima)."""

    visible: np.ndarray  # per row: columns 0..visible-1 are visible
    seen: np.ndarray  # per row: key positions its queries can see (mean over a pooled row)
    sinks: tuple[int, ...] = ()
    causal: bool = False


class Norm(NamedTuple):
    """Positions 0..1 of values: ``kind`` ``linear``, ``log`` or ``power`` (``t ** gamma``)
    over [``vmin``, ``vmax``], values made ``relative`` first (``weight``: as they are;
    ``uniform``: times the keys their query can see, 1 being a uniform share; ``row``: over
    their row's strongest weight outside sinks), with ``rows`` saying what each row sees."""

    vmin: float
    vmax: float
    kind: str = "linear"
    gamma: float = 0.5
    relative: str = "weight"
    rows: Rows | None = None

    def normalise(self, values: np.ndarray | float) -> np.ndarray:
        """Positions 0..1 on the colour bar (NaN-free, clipped), in float64, of values
        already made relative; computed in place, one temporary the size of ``values``."""
        t = np.array(values, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.kind == "log":
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
            if self.kind == "power":
                np.power(t, self.gamma, out=t)
        return t

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



class _Range:
    """What the data spans, visible cells only: the largest value outside sinks, the
    largest anywhere, the smallest, and the smallest positive (a plain class: it is
    filled in as blocks are read)."""

    def __init__(self) -> None:
        self.top = -math.inf
        self.top_low = math.inf  # the smallest value outside sinks
        self.full = -math.inf
        self.low = math.inf
        self.positive = math.inf
        self.only: set[float] | None = None  # the distinct values, while at most two

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


def measure(values: np.ndarray, rows: Rows | None, relative: str,
             sinks: Sequence[int]) -> _Range:
    """The range of ``values`` as coloured (made relative, masked cells aside), read a
    block of rows at a time (a 4096-token matrix is never copied whole)."""
    probe = Norm(0.0, 1.0, relative=relative, rows=rows)
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
