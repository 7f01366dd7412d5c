"""Long sequences: a window of tokens, and pooling over blocks of tokens.

A :class:`Reduction` is applied to what a figure shows (the combined matrix, each drawn
head, the small multiples) after everything that needs the whole input (rollout, sinks,
the choice of heads) has seen it. It remembers which original positions each row and
column covers, so tokens named by position (``--focus 150``) mean the same token with or
without a window.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..blocks import DISPLAY
from ..errors import SpecError, quote

_WINDOW = re.compile(r"^\s*(-?[0-9]*)\s*:\s*(-?[0-9]*)\s*$", re.ASCII)
_POOL = re.compile(r"^\s*(?:(mean|max)\s*:\s*)?([0-9]+)\s*$", re.ASCII)
Span = tuple[int, int]  # original positions start..stop-1
# rows start..stop-1 (original positions) of a matrix, every key: what a figure's matrix is
# computed from a block at a time
Read = Callable[[int, int], np.ndarray]
ROWS = 1 << 20  # values read at a time


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
    smaller): the mean (in float64) or the max (in the input's float precision: a max is
    exact) of each block. A lazy array (:mod:`svgattn.blocks`) is pooled a block of rows
    at a time."""
    if not isinstance(weights, np.ndarray):
        return _pool_lazy(weights, size, method)
    kept = np.float32 if weights.dtype == np.float32 and method == "max" else np.float64
    rows = _pool_axis(weights, size, -2, method, kept)
    out = _pool_axis(rows, size, -1, method, kept)
    if method == "mean":
        q, k = weights.shape[-2:]
        counts = np.outer(np.minimum(np.arange(0, q, size) + size, q) - np.arange(0, q, size),
                          np.minimum(np.arange(0, k, size) + size, k) - np.arange(0, k, size))
        out /= counts
    return out


def _pool_axis(values: np.ndarray, size: int, axis: int, method: str,
               dtype: type) -> np.ndarray:
    """Blocks of ``size`` along ``axis`` (-2 or -1) reduced to one: their max, or their
    sum. Whole blocks are reduced by ``size`` strided slices, in memory order (a reshape
    and a reduction over a short inner axis is ten times slower); a last, shorter block on
    its own."""
    n = values.shape[axis]
    whole = n - n % size
    tail: tuple[Any, ...] = (slice(None),) * (-1 - axis)  # the axes after ``axis``

    def at(index: Any) -> tuple[Any, ...]:
        return (Ellipsis, index, *tail)

    shape = list(values.shape)
    shape[axis] = -(-n // size)
    out: np.ndarray = np.empty(shape, dtype=dtype)
    if whole:
        split = list(values.shape)
        split[axis:axis + 1 if axis != -1 else None] = [whole // size, size]
        blocks = values[at(slice(0, whole))].reshape(split)
        first = out[at(slice(0, whole // size))]
        first[...] = blocks[at(0)]
        for i in range(1, size):
            if method == "max":
                np.maximum(first, blocks[at(i)], out=first)
            else:
                np.add(first, blocks[at(i)], out=first)
    if whole < n:
        rest = values[at(slice(whole, n))]
        out[at(-1)] = rest.max(axis=axis) if method == "max" else rest.sum(axis=axis,
                                                                         dtype=dtype)
    return out


def _pool_lazy(weights: object, size: int, method: str) -> np.ndarray:
    """:func:`pool` of a lazy ``[..., query, key]``, a block of whole pooled rows at a time."""
    lazy: object = weights
    shape = lazy.shape  # type: ignore[attr-defined]
    q, k = shape[-2:]
    step = max(1, ROWS // max(1, k * math.prod(shape[:-2])) // size) * size
    blocks = [pool(np.asarray(lazy[..., a:a + step, :]), size, method)  # type: ignore[index]
              for a in range(0, q, step)]
    return np.concatenate(blocks, axis=-2)


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
    fitted: bool = False  # pooled because the input is longer than DISPLAY, not asked for

    @classmethod
    def of(cls, window: object, pool_: object, q: int, k: int, square: bool,
           where: str, *, fit: bool = False) -> Reduction:
        """The window and pooling asked for; with ``fit`` (a view that draws the matrix),
        an input longer than :data:`DISPLAY` tokens and no ``pool`` given is max-pooled to
        at most that many cells a side (the strongest weight of each block: a one-token
        sink, diagonal or stripe stays visible)."""
        q_window = parse_window(window, q, where) if window is not None else (0, q)
        k_window = (q_window if square else
                    parse_window(window, k, where) if window is not None else (0, k))
        method, size = parse_pool(pool_, where) if pool_ is not None else ("mean", 1)
        shortest = min(q_window[1] - q_window[0], k_window[1] - k_window[0])
        longest = max(q_window[1] - q_window[0], k_window[1] - k_window[0])
        if pool_ is None and fit and longest > DISPLAY and -(-longest // DISPLAY) < shortest:
            return cls((q, k), q_window, k_window, "max", -(-longest // DISPLAY), True)
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
        """``[..., query, key]`` windowed (a view) and pooled. A lazy array
        (:mod:`svgattn.blocks`) stays lazy when only windowed, and is pooled a block at a
        time."""
        (qa, qb), (ka, kb) = self.q_window, self.k_window
        out = values[..., qa:qb, ka:kb]
        return pool(out, self.size, self.method) if self.size > 1 else out

    def rows(self, read: Read | np.ndarray, dtype: type = np.float64) -> np.ndarray:
        """The matrix a figure shows, windowed and pooled, made from ``read`` (rows
        ``a..b-1`` of the whole input, every key) a block of rows at a time: a full-size
        matrix is never held when it is pooled. ``dtype``: what ``read`` gives. A matrix
        already made is windowed and pooled as it is (:meth:`matrix`)."""
        if isinstance(read, np.ndarray):
            return np.asarray(self.matrix(read))
        (qa, qb), (ka, kb) = self.q_window, self.k_window
        width = self.total[1]
        step = max(1, ROWS // max(1, width) // self.size) * self.size
        out_rows = -(-(qb - qa) // self.size)
        out_cols = -(-(kb - ka) // self.size)
        kept = np.float64 if self.size > 1 and self.method == "mean" else dtype
        out: np.ndarray = np.empty((out_rows, out_cols), dtype=kept)
        for a in range(qa, qb, step):
            block = read(a, min(a + step, qb))[:, ka:kb]
            at = (a - qa) // self.size
            shown = pool(block, self.size, self.method) if self.size > 1 else block
            out[at:at + len(shown)] = shown
        return out

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
            parts.append(f"pooled: {self.method} over {self.size}x{self.size} token blocks" +
                         (f" (at most {DISPLAY:,} cells a side are drawn; --pool 1 draws "
                          "every token)" if self.fitted else ""))
        return "; ".join(parts)


def identity(q: int, k: int) -> Reduction:
    return Reduction((q, k), (0, q), (0, k))
