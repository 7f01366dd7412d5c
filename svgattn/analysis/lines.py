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


def select_lines(stack: np.ndarray, sinks: Sequence[int], *, focus: int | None = None,
                 threshold: float = 0.05, vmax: float | None = None,
                 top: int | None = None) -> LineSelection:
    """The lines of ``stack`` (``[heads, query, key]``): per head, weights of at least
    ``threshold`` times its strongest (only row ``focus`` if given), never to a sink
    column; above :data:`LONG_ROWS` tokens, or with ``top``, each head's ``top``
    strongest (default :data:`DEFAULT_TOP`), and only the tokens they join."""
    keep = [c for c in range(stack.shape[-1]) if c not in set(sinks)] or \
        list(range(stack.shape[-1]))
    shown = stack if focus is None else stack[:, [focus]]
    full = tuple(float(vmax or (float(head[..., keep].max()) if head.size else 0.0) or 1.0)
                 for head in shown)
    long = max(stack.shape[1:]) > LONG_ROWS or top is not None
    count = (top or DEFAULT_TOP) if long else None
    lines = tuple(tuple(_pairs(weights, focus, threshold * f, keep, count))
                  for weights, f in zip(stack, full, strict=True))
    if long:
        queries = sorted({i for head in lines for i, _ in head})
        keys = sorted({j for head in lines for _, j in head})
        if focus is not None and focus not in queries:
            queries = sorted([*queries, focus])
    else:
        queries, keys = list(range(stack.shape[1])), list(range(stack.shape[2]))
    return LineSelection(lines, tuple(queries), tuple(keys), full, threshold, count, long)


def _pairs(weights: np.ndarray, focus: int | None, floor: float, keep: list[int],
           strongest: int | None) -> list[Pair]:
    """One head's lines: every weight at least ``floor`` (and 1e-12), only row ``focus``
    if given; with ``strongest``, the K strongest outside the columns ``keep`` leaves
    out, strongest first."""
    floor = max(floor, 1e-12)
    view = weights if focus is None else weights[[focus]]
    if strongest is None:
        masked = np.where(view[:, keep] >= floor, 1, 0)
        i, j = np.nonzero(masked)
        j = np.asarray(keep)[j] if len(j) else j
    else:
        masked = np.where(view[:, keep] >= floor, view[:, keep], -1.0)
        flat = masked.ravel()
        k = min(strongest, int(np.count_nonzero(flat >= 0)))
        best = np.argpartition(-flat, k - 1)[:k] if k else np.zeros(0, np.int64)
        best = best[np.argsort(-flat[best], kind="stable")]
        i, j = np.divmod(best, len(keep))
        j = np.asarray(keep)[j] if len(j) else j
    rows = i if focus is None else np.full(len(i), focus)
    return [(int(a), int(b)) for a, b in zip(rows, j, strict=True)]


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
