"""Long sequences: a window of tokens, and pooling over blocks of tokens.

A :class:`Reduction` is applied to what a figure shows (the combined matrix, each drawn
head, the small multiples) after everything that needs the whole input (rollout, sinks,
the choice of heads) has seen it. It remembers which original positions each row and
column covers, so tokens named by position (``--focus 150``) mean the same token with or
without a window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, quote

_WINDOW = re.compile(r"^\s*(-?[0-9]*)\s*:\s*(-?[0-9]*)\s*$", re.ASCII)
_POOL = re.compile(r"^\s*(?:(mean|max)\s*:\s*)?([0-9]+)\s*$", re.ASCII)
Span = tuple[int, int]  # original positions start..stop-1


def parse_window(text: object, n: int, where: str) -> Span:
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


def thumbnails(stack: np.ndarray, cells: int) -> tuple[np.ndarray, int]:
    """Small multiples of at most ``cells`` cells a side: longer sequences max-pooled over
    blocks (a thin diagonal or a sink column stays visible, where sampling would drop
    it); (the stack, the block size)."""
    block = -(-max(stack.shape[-2:]) // cells)
    return (pool(stack, block, "max"), block) if block > 1 else (stack, 1)


def pooled_spans(spans: tuple[Span, ...], block: int) -> tuple[Span, ...]:
    """The original positions each block of ``block`` rows (or columns) covers."""
    return tuple((spans[i][0], spans[min(i + block, len(spans)) - 1][1])
                 for i in range(0, len(spans), block))


def pooled_labels(start: int, stop: int, size: int) -> list[str]:
    """Labels of the blocks pooled from tokens ``start``..``stop - 1``: the positions each
    covers (``12–15``)."""
    return [f"{a}\u2013{min(a + size, stop) - 1}" for a in range(start, stop, size)]


@dataclass(frozen=True)
class Reduction:
    """A token window and pooling over blocks, for queries and keys (for cross-attention
    each axis within its own length)."""

    total: tuple[int, int]
    q_window: Span
    k_window: Span
    method: str = "mean"
    size: int = 1

    @classmethod
    def of(cls, window: object, pool_: object, q: int, k: int, square: bool,
           where: str) -> Reduction:
        q_window = parse_window(window, q, where) if window is not None else (0, q)
        k_window = (q_window if square else
                    parse_window(window, k, where) if window is not None else (0, k))
        method, size = parse_pool(pool_, where) if pool_ is not None else ("mean", 1)
        shortest = min(q_window[1] - q_window[0], k_window[1] - k_window[0])
        if size > 1 and size >= shortest:
            raise SpecError(f"{where}: pool: blocks of {size} are not smaller than the "
                            f"{shortest} tokens{' of the window' if window else ''}; choose a "
                            f"block size below {shortest} (e.g. {max(2, shortest // 64)})")
        return cls((q, k), q_window, k_window, method, size)

    @property
    def active(self) -> bool:
        return self.size > 1 or self.q_window != (0, self.total[0]) or \
            self.k_window != (0, self.total[1])

    def matrix(self, values: np.ndarray) -> np.ndarray:
        """``[..., query, key]`` windowed (a view) and pooled."""
        (qa, qb), (ka, kb) = self.q_window, self.k_window
        out = values[..., qa:qb, ka:kb]
        return pool(out, self.size, self.method) if self.size > 1 else out

    def spans(self, *, query: bool) -> tuple[Span, ...]:
        """The original positions each shown row (``query``) or column covers."""
        a, b = self.q_window if query else self.k_window
        return tuple((s, min(s + self.size, b)) for s in range(a, b, self.size))

    def tokens(self, raw: list[str], labels: list[str], *, query: bool) -> tuple[list[str],
                                                                               list[str]]:
        """The tokens shown: windowed; pooled blocks named by their first token and the
        positions they cover (``the 8–15``)."""
        a, b = self.q_window if query else self.k_window
        raw, labels = raw[a:b], labels[a:b]
        if self.size > 1:
            positions = pooled_labels(a, b, self.size)
            shown = [f"{labels[k * self.size]} {p}" for k, p in enumerate(positions)]
            return positions, shown
        return raw, labels

    def spacing(self, spaced: list[bool]) -> list[bool]:
        a, b = self.k_window
        spaced = spaced[a:b]
        return spaced[:: self.size] if self.size > 1 else spaced

    def columns(self, columns: list[int]) -> list[int]:
        """Original key columns (sinks) as shown columns: those inside the window."""
        a, b = self.k_window
        return sorted({(s - a) // self.size for s in columns if a <= s < b})

    def note(self) -> str:
        parts = []
        (qa, qb), (ka, kb) = self.q_window, self.k_window
        if (qa, qb) != (0, self.total[0]) or (ka, kb) != (0, self.total[1]):
            parts.append(f"tokens {qa}\u2013{qb - 1} of {self.total[0]}" if (qa, qb) == (ka, kb)
                         else f"queries {qa}\u2013{qb - 1}, keys {ka}\u2013{kb - 1}")
        if self.size > 1:
            parts.append(f"pooled: {self.method} over {self.size}x{self.size} token blocks")
        return "; ".join(parts)


def identity(q: int, k: int) -> Reduction:
    return Reduction((q, k), (0, q), (0, k))
