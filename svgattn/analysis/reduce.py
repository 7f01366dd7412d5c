"""Long sequences: a window of tokens, and pooling over blocks of tokens."""

from __future__ import annotations

import re

import numpy as np

from ..errors import SpecError, quote

_WINDOW = re.compile(r"^\s*(-?[0-9]*)\s*:\s*(-?[0-9]*)\s*$", re.ASCII)
_POOL = re.compile(r"^\s*(?:(mean|max)\s*:\s*)?([0-9]+)\s*$", re.ASCII)


def parse_window(text: object, n: int, where: str) -> tuple[int, int]:
    """``"A:B"`` (Python slice bounds, either may be empty or negative) -> (start, stop)."""
    m = _WINDOW.match(str(text)) if isinstance(text, (str, int)) else None
    if not m:
        raise SpecError(f"{where}: window: {quote(text)} is not A:B; write e.g. 0:128 or -256:")
    start, stop, _ = slice(int(m.group(1)) if m.group(1) else None,
                           int(m.group(2)) if m.group(2) else None).indices(n)
    if stop - start < 1:
        raise SpecError(f"{where}: window: {quote(text)} selects no token of {n}; give A < B")
    return start, stop


def parse_pool(text: object, where: str) -> tuple[str, int]:
    """``"4"`` or ``"mean:4"`` or ``"max:4"`` -> (method, block size)."""
    m = _POOL.match(str(text)) if isinstance(text, (str, int)) and not isinstance(
        text, bool) else None
    if not m or not 1 <= int(m.group(2)) <= 4096:
        raise SpecError(f"{where}: pool: {quote(text)} is not a block size; write e.g. 4 (mean "
                        "over 4x4 blocks) or max:4")
    return m.group(1) or "mean", int(m.group(2))


def pool(weights: np.ndarray, size: int, method: str = "mean") -> np.ndarray:
    """Pool ``[..., query, key]`` over ``size`` x ``size`` blocks (the last block may be
    smaller): the mean or the max of each block, by ``reduceat`` (no Python loop)."""
    q, k = weights.shape[-2:]
    if q % size == 0 and k % size == 0:  # whole blocks: a reshape is 7x faster
        shaped = weights.reshape(*weights.shape[:-2], q // size, size, k // size, size)
        if method == "max":
            return shaped.max(axis=(-3, -1)).astype(np.float64)
        return shaped.mean(axis=(-3, -1), dtype=np.float64)
    rows, cols = np.arange(0, q, size), np.arange(0, k, size)
    if method == "max":
        out = np.maximum.reduceat(np.maximum.reduceat(weights, rows, axis=-2), cols, axis=-1)
        return out.astype(np.float64)
    sums = np.add.reduceat(np.add.reduceat(weights, rows, axis=-2, dtype=np.float64), cols,
                           axis=-1)
    counts = np.outer(np.minimum(rows + size, q) - rows, np.minimum(cols + size, k) - cols)
    return sums / counts


def pooled_labels(start: int, stop: int, size: int) -> list[str]:
    """Labels of the blocks pooled from tokens ``start``..``stop - 1``: the positions each
    covers (``12–15``)."""
    return [f"{a}\u2013{min(a + size, stop) - 1}" for a in range(start, stop, size)]
