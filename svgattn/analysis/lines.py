"""Which lines a head view draws: every weight above a share of the strongest, one query's
lines, or, for long sequences, each head's strongest lines (sink columns aside); and the
lines of a grid's small thumbnails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LONG_ROWS = 48  # more tokens than this: only the strongest lines and the tokens they join
DEFAULT_TOP = 12  # strongest lines per head kept for a long sequence
THUMB_LINES = 256  # a lines thumbnail draws at most this many lines

Pair = tuple[int, int]  # (query row, key column)


@dataclass(frozen=True)
class LineSelection:
    """The lines of a head view: per head its (query, key) pairs and the weight drawn at
    full strength (the head's strongest outside sinks, or the ``vmax`` asked for); the
    query rows and key columns they join (every token when not ``long``)."""

    lines: tuple[tuple[Pair, ...], ...]
    queries: tuple[int, ...]
    keys: tuple[int, ...]
    full: tuple[float, ...]  # per head: the weight drawn at full strength
    threshold: float
    top: int | None  # strongest lines kept per head (long sequences), else None
    long: bool


def select_lines(stack: Sequence[np.ndarray], sinks: Sequence[int], *,
                 focus: int | None = None, threshold: float = 0.05,
                 vmax: float | None = None, top: int | None = None) -> LineSelection:
    """The lines of ``stack`` (one ``[query, key]`` matrix per head): per head, weights of
    at least ``threshold`` times its strongest (only row ``focus`` if given), never to a
    sink column; above :data:`LONG_ROWS` tokens, or with ``top``, each head's ``top``
    strongest (default :data:`DEFAULT_TOP`), and only the tokens they join. Read a block
    of rows at a time: a 4096-token head is never copied."""
    q, k = stack[0].shape
    sink = np.zeros(k, dtype=bool)
    sink[[c for c in sinks if c < k]] = True
    if sink.all():
        sink[:] = False
    full = tuple(float(vmax or _strongest(head, focus, sink) or 1.0) for head in stack)
    long = max(q, k) > LONG_ROWS or top is not None
    count = (top or DEFAULT_TOP) if long else None
    lines = tuple(tuple(_pairs(head, focus, threshold * f, sink, count))
                  for head, f in zip(stack, full, strict=True))
    if long:
        queries = sorted({i for head in lines for i, _ in head})
        keys = sorted({j for head in lines for _, j in head})
        if focus is not None and focus not in queries:
            queries = sorted([*queries, focus])
    else:
        queries, keys = list(range(q)), list(range(k))
    return LineSelection(lines, tuple(queries), tuple(keys), full, threshold, count, long)


def _blocks(weights: np.ndarray, focus: int | None) -> list[tuple[int, np.ndarray]]:
    """(first row, rows) of ``weights``, 256 rows at a time (only ``focus`` if given)."""
    if focus is not None:
        return [(focus, weights[focus:focus + 1])]
    return [(s, weights[s:s + 256]) for s in range(0, weights.shape[0], 256)]


def _strongest(weights: np.ndarray, focus: int | None, sink: np.ndarray) -> float:
    best = 0.0
    for _, block in _blocks(weights, focus):
        if block.size and (~sink).any():
            best = max(best, float(block[:, ~sink].max()))
    return best


def _pairs(weights: np.ndarray, focus: int | None, floor: float, sink: np.ndarray,
           strongest: int | None) -> list[Pair]:
    """One head's lines: every weight at least ``floor`` (and 1e-12) outside sink columns,
    only row ``focus`` if given; with ``strongest``, the K strongest, strongest first."""
    floor = max(floor, 1e-12)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for start, block in _blocks(weights, focus):
        keep = (block >= floor) & ~sink[None, :]
        i, j = np.nonzero(keep)
        v = block[i, j]
        if strongest is not None and len(v) > strongest:  # this block's best only
            best = np.argpartition(-v, strongest - 1)[:strongest]
            i, j, v = i[best], j[best], v[best]
        rows.append(i + start)
        cols.append(j)
        vals.append(v)
    i, j, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    if strongest is not None:
        order = np.lexsort((j, i, -v))[:strongest]  # strongest first, ties in order
        i, j = i[order], j[order]
    return [(int(a), int(b)) for a, b in zip(i, j, strict=True)]


def thumbnail_lines(normalised: np.ndarray, sinks: Sequence[int],
                    floor: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of a grid thumbnail's lines: weights at least ``floor`` on the
    shared colour scale (``normalised``, 0..1); for long sequences the
    :data:`THUMB_LINES` strongest outside the sink columns, in row order."""
    i, j = np.nonzero(normalised >= floor)
    if len(i) > THUMB_LINES:  # long sequences: the strongest lines only, sinks aside
        rest = ~np.isin(j, list(sinks))
        i, j = i[rest], j[rest]
        if len(i) > THUMB_LINES:
            best = np.sort(np.argpartition(-normalised[i, j], THUMB_LINES - 1)[:THUMB_LINES])
            i, j = i[best], j[best]
    return i, j
