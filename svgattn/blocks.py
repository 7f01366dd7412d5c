"""Attention weights that are computed or read a block of rows at a time.

A model run on 8,192 tokens makes ``[heads, n, n]`` of 2.4 GB a layer in float32; a
32,768-token ``.npy`` is 4 GiB. Neither is ever held whole: a :class:`Lazy` array stands
where a ``[layers, heads, query, key]`` array would, and computes (from the queries and
keys the model used: :class:`FromVectors`) or reads (from a file: :class:`FromFile`) only
the rows asked for. It answers numpy's indexing the analysis uses:

- ``w[l, h, a:b]`` (rows of one head), ``w[l, :, a:b]`` (those rows of every head),
  ``w[..., a:b, :]``: an array, computed now;
- ``w[l]``, ``w[l, h]``, ``w[l][heads]``: a lazy view of a layer or a head, nothing computed;
- ``np.asarray(view)``: the whole view, computed (a head at a time is what the analysis
  ever asks for whole).

Small results come back as arrays at once (at most :data:`EAGER` values): a short
sequence's analysis runs as on an array.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

EAGER = 1 << 24  # values: a view this small is computed at once (64 MB in float32)
# cells a side a figure draws at most unless --pool is given: a longer input is max-pooled
# as it is computed (svgattn.analysis.reduce), and limits count what that holds
DISPLAY = 4096
ROWS = 1 << 20  # values of one block computed at a time


class Source(Protocol):
    """What a lazy array reads from: its shape ``(layers, heads, query, key)``, its dtype
    (float32 or float64), and the rows ``a..b`` of head ``h`` of layer ``l`` as
    ``[b - a, key]``."""

    shape: tuple[int, int, int, int]
    dtype: np.dtype
    causal: bool | None  # known to be causal (a model's mask), not (False), or unknown

    def rows(self, layer: int, head: int, start: int, stop: int) -> np.ndarray: ...


class Survey(NamedTuple):
    """What one pass over a head's rows finds, for the checks and analyses that need the
    whole input (computed once per head, then kept): the first weight that is not finite
    or negative (``(row, key, value)``), the largest weight, whether a query attends to a
    later key (not causal), and the first key's share of each row summed over rows 1..
    (a causal model's sink)."""

    bad: tuple[int, int, float] | None
    largest: float
    later: bool
    first: float


def survey(source: Source, layer: int, head: int) -> Survey:
    """:class:`Survey` of one head of ``source``, a block of rows at a time, kept on the
    source (a second figure or analysis of the same head reads nothing)."""
    kept: dict[tuple[int, int], Survey] = source.__dict__.setdefault("_surveys", {})
    if (layer, head) in kept:
        return kept[(layer, head)]
    _, _, n_q, n_k = source.shape
    bad: tuple[int, int, float] | None = None
    largest, later, first = -math.inf, False, 0.0
    offset = n_k - n_q  # queries are the last n_q of the key positions
    for start, stop in row_blocks(n_q, n_k):
        block = source.rows(layer, head, start, stop)
        lo, hi = float(block.min()), float(block.max())
        if bad is None and not (math.isfinite(lo) and math.isfinite(hi) and lo >= 0):
            wrong = ~np.isfinite(block) | (block < 0)
            r, c = (int(i) for i in np.argwhere(wrong)[0])
            bad = (start + r, c, float(block[r, c]))
        largest = max(largest, hi)
        if not later and n_q == n_k:
            edge = stop + offset  # keys from here on are later than every row of the block
            beyond = block[:, edge:]
            later = bool(beyond.size and beyond.max() > 0) or bool(
                np.triu(block[:, start + offset:edge], 1).any())
        sums = block.sum(axis=-1, dtype=np.float64)
        shares = np.divide(block[:, 0], sums, out=np.zeros_like(sums), where=sums > 0)
        first += float(shares[1:].sum() if start == 0 else shares.sum())
    kept[(layer, head)] = Survey(bad, largest, later, first)
    return kept[(layer, head)]


class Lazy:
    """A ``[layers, heads, query, key]`` array (or a view of it, some axes fixed) whose
    values come from a :class:`Source` when indexed (module docstring)."""

    def __init__(self, source: Source, layers: Sequence[int] | None = None,
                 heads: Sequence[int] | None = None, rows: Sequence[int] | None = None,
                 columns: Any = None, fixed: tuple[bool, bool] = (False, False)) -> None:
        L, H, Q, K = source.shape
        self.source = source
        self.dtype = source.dtype
        self.layers = list(range(L)) if layers is None else list(layers)
        self.heads = list(range(H)) if heads is None else list(heads)
        self.row_index = range(Q) if rows is None else rows
        self.columns = columns  # an index into the key axis, or None for every key
        self.fixed = fixed  # whether the layer and head axes were indexed away
        width = K if columns is None else len(np.arange(K)[columns])
        axes = ([] if fixed[0] else [len(self.layers)]) + \
            ([] if fixed[1] else [len(self.heads)])
        self.shape: tuple[int, ...] = (*axes, len(self.row_index), width)

    # --- numpy's face ------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def causal(self) -> bool | None:
        return self.source.causal if self.columns is None and isinstance(
            self.row_index, range) and self.row_index.start == 0 else None

    def __len__(self) -> int:
        return self.shape[0]

    def surveys(self) -> list[Survey]:
        """:func:`survey` of each head of this view (of whole heads only)."""
        if self.columns is not None or self.row_index != range(self.source.shape[2]):
            raise ValueError("a survey reads whole heads; index the layer and head only")
        return [survey(self.source, layer, head)
                for layer in (self.layers[:1] if self.fixed[0] else self.layers)
                for head in (self.heads[:1] if self.fixed[1] else self.heads)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.empty(self.shape, dtype=self.dtype)
        count = (1 if self.fixed[0] else len(self.layers)) * \
            (1 if self.fixed[1] else len(self.heads))
        flat = out.reshape(count, *self.shape[-2:])
        k = 0
        for layer in ([self.layers[0]] if self.fixed[0] else self.layers):
            for head in ([self.heads[0]] if self.fixed[1] else self.heads):
                flat[k] = self._head_rows(layer, head, self.row_index)
                k += 1
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key: Any) -> Any:
        axes = self._normalise(key)
        layers, heads = list(self.layers), list(self.heads)
        fixed = list(self.fixed)
        free = [i for i, f in enumerate(self.fixed) if not f]  # 0: layers, 1: heads
        rows: Any = self.row_index
        columns: Any = None
        for axis, index in zip([*free, 2, 3], axes, strict=False):
            if axis == 0:
                layers, fixed[0] = _pick(layers, index)
            elif axis == 1:
                heads, fixed[1] = _pick(heads, index)
            elif axis == 2:
                rows = _rows(rows, index)
            else:
                columns = index
        one_row = isinstance(rows, int)
        one_column = isinstance(columns, (int, np.integer))
        if one_column:  # an integer key: that axis goes too
            columns = slice(int(columns) % self.shape[-1], int(columns) % self.shape[-1] + 1)
        picked: Sequence[int] = [rows] if isinstance(rows, int) else rows
        view = Lazy(self.source, layers, heads, picked, self._columns(columns),
                    (fixed[0], fixed[1]))
        if one_row or one_column:
            out = np.asarray(view)
            return out[(..., 0 if one_row else slice(None), 0 if one_column else slice(None))]
        return np.asarray(view) if view.size <= EAGER else view

    # --- helpers -----------------------------------------------------------------------
    def _normalise(self, key: Any) -> list[Any]:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = self.ndim - (len(key) - 1)
            key = (*key[:at], *(slice(None),) * fill, *key[at + 1:])
        if len(key) > self.ndim:
            raise IndexError(f"too many indices for a {self.ndim}-dimensional lazy array")
        return list(key)

    def _columns(self, index: Any) -> Any:
        if index is None or (isinstance(index, slice) and index == slice(None)):
            return self.columns
        if self.columns is None:
            return index
        return np.arange(self.source.shape[3])[self.columns][index]

    def _head_rows(self, layer: int, head: int, rows: Sequence[int] | range) -> np.ndarray:
        """Rows ``rows`` of one head, a block at a time, key columns applied."""
        width = self.source.shape[3]
        step = max(1, ROWS // max(1, width))
        if isinstance(rows, range) and rows.step == 1:
            parts = [self.source.rows(layer, head, a, min(a + step, rows.stop))
                     for a in range(rows.start, rows.stop, step)]
        else:
            wanted = np.asarray(list(rows), dtype=np.int64)
            parts = [self.source.rows(layer, head, int(i), int(i) + 1) for i in wanted]
        block = np.concatenate(parts) if parts else np.zeros((0, width), self.dtype)
        return block if self.columns is None else block[:, self.columns]


def _pick(values: list[int], index: Any) -> tuple[list[int], bool]:
    """``values`` indexed (an integer fixes the axis)."""
    if isinstance(index, (int, np.integer)):
        return [values[int(index)]], True
    return list(np.asarray(values)[index].tolist()), False


def _rows(rows: Sequence[int] | range, index: Any) -> Any:
    if isinstance(index, (int, np.integer)):
        return rows[int(index)]
    if isinstance(index, slice):
        return rows[index]
    return [rows[int(i)] for i in np.asarray(index).tolist()]


def row_blocks(count: int, width: int) -> list[tuple[int, int]]:
    """(start, stop) of blocks of rows of about :data:`ROWS` values each."""
    step = max(1, ROWS // max(1, width))
    return [(a, min(a + step, count)) for a in range(0, count, step)]


class Mask:
    """What a model let each query see: ``causal`` (keys after a query's position are
    hidden; the queries are the last of the key positions), ``window`` (only the last
    ``window`` keys before it: sliding-window attention), ``keys`` (a bool per key: False
    for padding), or ``full`` (a bool ``[query, key]``: True where a query may attend)."""

    def __init__(self, causal: bool = False, window: int | None = None,
                 keys: np.ndarray | None = None, full: np.ndarray | None = None) -> None:
        if full is not None and window is None and keys is None and not causal:
            n_q, n_k = full.shape
            if full.all():  # nothing hidden (a bidirectional model's mask)
                full = None
            elif np.array_equal(full, np.tri(n_q, n_k, n_k - n_q, dtype=bool)):
                causal, full = True, None  # eager's causal mask, known for what it is
        self.causal, self.window, self.keys, self.full = causal, window, keys, full

    def hidden(self, start: int, stop: int, n_q: int, n_k: int) -> np.ndarray | None:
        """Where rows ``start..stop-1`` may not attend (``None``: nowhere)."""
        out: np.ndarray | None = None
        if self.causal or self.window is not None:
            position = np.arange(start, stop)[:, None] + (n_k - n_q)
            columns = np.arange(n_k)[None, :]
            out = columns > position if self.causal else np.zeros((stop - start, n_k), bool)
            if self.window is not None:
                out |= columns <= position - self.window
        if self.keys is not None:
            out = ~self.keys[None, :] if out is None else out | ~self.keys[None, :]
        if self.full is not None:
            rows = ~self.full[start:stop]
            out = rows if out is None else out | rows
        return out


class FromVectors:
    """Weights the model computed, computed again from its queries and keys:
    ``softmax(q k^T x scaling + bias, softcapped, masked)`` in float32, for layer ``l``
    from ``queries[l]`` ``[heads, query, dim]`` and ``keys[l]`` ``[kv_heads, key, dim]``
    (grouped-query attention: head ``h`` reads kv head ``h // (heads // kv_heads)``);
    ``sinks[l]``: learned sink logits per head, in the softmax but not drawn (gpt-oss)."""

    def __init__(self, queries: Sequence[np.ndarray], keys: Sequence[np.ndarray],
                 scaling: Sequence[float], masks: Sequence[Mask],
                 softcap: Sequence[float | None] | None = None,
                 bias: Sequence[np.ndarray | None] | None = None,
                 sinks: Sequence[np.ndarray | None] | None = None) -> None:
        self.queries, self.keys = list(queries), list(keys)
        self.scaling, self.masks = list(scaling), list(masks)
        none: list[Any] = [None] * len(self.queries)
        self.softcap = list(softcap) if softcap is not None else none
        self.bias = list(bias) if bias is not None else none
        self.sinks = list(sinks) if sinks is not None else none
        heads, n_q, _ = self.queries[0].shape
        self.shape = (len(self.queries), heads, n_q, self.keys[0].shape[1])
        self.dtype = np.dtype(np.float32)
        self.causal: bool | None = all(m.causal and m.keys is None and m.full is None
                                       for m in self.masks) or None

    def rows(self, layer: int, head: int, start: int, stop: int) -> np.ndarray:
        n_q, n_k = self.shape[2:]
        mask = self.masks[layer]
        # causal: keys after the block's last query are hidden from every row of it, so
        # their scores are never computed (half the work over a whole head)
        width = min(n_k, stop + n_k - n_q) if mask.causal else n_k
        q = self.queries[layer][head, start:stop]
        group = self.queries[layer].shape[0] // self.keys[layer].shape[0]
        k = self.keys[layer][head // group, :width]
        scores = np.matmul(q, k.T, dtype=np.float32)
        scores *= np.float32(self.scaling[layer])
        bias = self.bias[layer]
        if bias is not None:
            scores += bias[head if bias.shape[0] > 1 else 0, start:stop, :width]
        cap = self.softcap[layer]
        if cap:
            np.tanh(scores / np.float32(cap), out=scores)
            scores *= np.float32(cap)
        hidden = mask.hidden(start, stop, n_q, n_k)
        if hidden is not None:
            scores[hidden[:, :width]] = -np.inf
        sink = self.sinks[layer]
        out = softmax(scores, None if sink is None else float(sink[head]))
        if width == n_k:
            return out
        full = np.zeros((stop - start, n_k), dtype=np.float32)
        full[:, :width] = out
        return full


def position_biased(source: FromVectors) -> bool:
    """Whether ``source`` adds a bias to q.k beyond masking (T5's relative position bias;
    its cross-attention's bias is zeros and the mask's minimum): its weights are then not
    softmax(q.k) alone, which the neuron view shows."""
    low = np.finfo(np.float32).min / 2
    for bias in source.bias:
        if bias is not None:
            kept = bias[np.isfinite(bias) & (bias > low)]
            if kept.size and np.any(kept != 0):
                return True
    return False


def softmax(scores: np.ndarray, sink: float | None = None) -> np.ndarray:
    """Row softmax in place (float32); a row with nothing to attend to is all zeros.
    ``sink``: one more logit in every row's softmax, left out of the result."""
    top = scores.max(axis=-1, keepdims=True)
    if sink is not None:
        np.maximum(top, np.float32(sink), out=top)
    empty = ~np.isfinite(top)
    top[empty] = 0.0
    scores -= top
    np.exp(scores, out=scores)
    sums = scores.sum(axis=-1, keepdims=True)
    if sink is not None:
        sums += np.exp(np.float32(sink) - top)
    sums[sums == 0] = 1.0
    scores /= sums
    return scores


class FromFile:
    """Weights read from an array's data in a file as they are asked for (``offset``: where
    the C-ordered data of ``shape`` starts: ``[layers, heads, query, key]``, or
    ``[layers, batch, heads, query, key]`` read at ``batch``), with ``os.pread``: what was
    read is not kept in the process (a memory map would keep every page it touched)."""

    def __init__(self, path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...],
                 batch: int | None = None) -> None:
        self.path, self.offset, self.file_dtype = path, offset, dtype
        self.full = tuple(shape)
        self.batch = batch
        dims = self.full[:1] + self.full[2:] if len(self.full) == 5 else self.full
        self.shape: tuple[int, int, int, int] = (dims[0], dims[1], dims[2], dims[3])
        self.dtype = np.dtype(np.float64 if dtype.kind != "f" or dtype.itemsize > 4
                              else np.float32)  # as an array read whole would be
        self.causal: bool | None = None
        # opened now and kept: a file replaced later (renamed over) is not read instead
        self._fd = os.open(self.path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def rows(self, layer: int, head: int, start: int, stop: int) -> np.ndarray:
        _, heads, n_q, n_k = self.shape
        item = self.file_dtype.itemsize
        if len(self.full) == 5:  # [layers, batch, heads, query, key]
            plane = (layer * self.full[1] + (self.batch or 0)) * heads + head
        else:
            plane = layer * heads + head
        first = (plane * n_q + start) * n_k
        count = (stop - start) * n_k
        buffer = bytearray(count * item)  # read straight into the array's memory: one copy
        got = os.preadv(self._fd, [buffer], self.offset + first * item)
        if got != count * item:
            from .errors import SpecError

            raise SpecError(f"{os.path.basename(self.path)}: the file changed or is "
                            "truncated; save the array again")
        block = np.frombuffer(buffer, dtype=self.file_dtype).reshape(stop - start, n_k)
        return block.astype(self.dtype, copy=False)


class Mapped:
    """Another source's weights with tokens hidden and word pieces merged
    (:func:`svgattn.analysis.tokens.prepare`): row ``i`` is the mean of the base's rows
    ``rows[i]``, column ``j`` the sum of its columns ``columns[j]``, after each row is
    renormalised over the columns kept (``renormalise``: hidden tokens' weight goes to the
    others), in float64."""

    def __init__(self, base: Source, rows: Sequence[Sequence[int]],
                 columns: Sequence[Sequence[int]], renormalise: bool) -> None:
        self.base, self.renormalise = base, renormalise
        self.groups = [list(g) for g in rows]
        self.picked = np.array([c for g in columns for c in g], dtype=np.int64)
        self.starts = np.cumsum([0, *[len(g) for g in columns[:-1]]]).astype(np.int64)
        self.shape = (base.shape[0], base.shape[1], len(self.groups), len(columns))
        self.dtype = np.dtype(np.float64)
        self.causal: bool | None = None

    def rows(self, layer: int, head: int, start: int, stop: int) -> np.ndarray:
        groups = self.groups[start:stop]
        lo = min(g[0] for g in groups)
        hi = max(g[-1] for g in groups) + 1
        block = np.asarray(self.base.rows(layer, head, lo, hi), dtype=np.float64)
        block = block[:, self.picked]
        if self.renormalise:
            sums = block.sum(axis=-1, keepdims=True)
            np.divide(block, sums, out=block, where=sums > 0)
            block[np.broadcast_to(sums <= 0, block.shape)] = 0.0
        columns = np.add.reduceat(block, self.starts, axis=1)
        chosen = columns[[i - lo for g in groups for i in g]]
        counts = np.array([len(g) for g in groups], dtype=np.float64)
        firsts = np.cumsum([0, *counts[:-1]]).astype(np.int64)
        return np.add.reduceat(chosen, firsts, axis=0) / counts[:, None]


def mapped(weights: Lazy, rows: Sequence[Sequence[int]], columns: Sequence[Sequence[int]],
           renormalise: bool) -> Lazy:
    """A whole lazy ``[layers, heads, query, key]`` with rows and columns regrouped
    (:class:`Mapped`)."""
    return Lazy(Mapped(weights.source, rows, columns, renormalise))
