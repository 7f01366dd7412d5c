"""Which layers and heads a figure shows: indices, names, ranges, and the default rule."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import SpecError, quote
from ..units import integer_text

DEFAULT_FOCUSED = 4
_RANGE = re.compile(r"^\s*(-?[0-9]+)\s*-\s*(-?[0-9]+)\s*$", re.ASCII)


def parse_selection(value: Any, names: Sequence[str], what: str, where: str) -> list[int] | None:
    """Indices from ``None`` (the caller's default), ``"all"``, an index, a name, a range
    ``"0-3"`` or a comma list of those (``"0-3,7,L2"``), or a list of them."""
    n = len(names)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "all":
        return list(range(n))
    if isinstance(value, str) and not value.strip():
        parts: list[Any] = []
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if any(p == "" for p in parts):
            raise SpecError(f"{where}: {what}: {quote(value)} has an empty entry; write e.g. "
                            "0,1,2 or 0-3 or all")
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        parts = [value]
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        parts = list(value)
    else:
        raise SpecError(f"{where}: {what}: {quote(value)} is not a selection; write e.g. 0,1,2 "
                        "or 0-3 or all")
    if not parts:
        raise SpecError(f"{where}: {what}: the list is empty; give indices or names such as "
                        f"0,1,2 (or all, or leave it out for the default)")
    out: list[int] = []
    for part in parts:
        if isinstance(part, str) and (m := _RANGE.match(part)):
            lo, hi = (index_of(int(g), names, what, where) for g in m.groups())
            if hi < lo:
                raise SpecError(f"{where}: {what}: range {quote(part)} runs backwards; write "
                                "the lower index first")
            out.extend(range(lo, hi + 1))
        else:
            out.append(index_of(part, names, what, where))
    if len(set(out)) != len(out):
        raise SpecError(f"{where}: {what}: an entry is listed twice; list each once")
    return out


def index_of(ref: Any, names: Sequence[str], what: str, where: str) -> int:
    """One index (negative counts from the end) or name."""
    n = len(names)
    if isinstance(ref, str) and integer_text(ref):
        ref = int(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -n <= ref < n:
            return int(ref) % n
        raise SpecError(f"{where}: {what}: {ref} is out of range; there are {n} {what} "
                        f"(0..{n - 1})")
    if isinstance(ref, str) and ref in names:
        return list(names).index(ref)
    shown = ", ".join(names[:6]) + (" ..." if n > 6 else "")
    raise SpecError(f"{where}: {what}: {quote(ref)} is neither an index (0..{n - 1}) nor one "
                    f"of the names {shown}")


def entropy(rows: np.ndarray) -> np.ndarray:
    """Mean row entropy (nats) of ``[..., query, key]`` after renormalising rows."""
    return _entropy_sums(np.asarray(rows, dtype=np.float64)).mean(axis=-1)


def _entropy_sums(rows: np.ndarray) -> np.ndarray:
    """Each row's entropy (nats) after renormalising it (float64 ``[..., query, key]``,
    changed in place)."""
    sums = rows.sum(axis=-1, keepdims=True)
    np.divide(rows, sums, out=rows, where=sums > 0)
    rows[np.broadcast_to(sums <= 0, rows.shape)] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(rows > 0, rows, 1.0))
    logs *= rows
    return -logs.sum(axis=-1)


def head_entropy(head: np.ndarray, sinks: Sequence[int] = ()) -> float:
    """The mean row entropy of one head ``[query, key]`` with the ``sinks`` columns
    removed, read a block of rows at a time (an 8,192-token head is never held in float64,
    nor whole when it is computed or read as it is asked for)."""
    q, k = head.shape
    drop = [c for c in sinks if 0 <= c < k]
    if len(drop) == k:
        drop = []
    step = max(1, (1 << 20) // max(1, k))
    total = 0.0
    for start in range(0, q, step):
        block = np.array(head[start:start + step], dtype=np.float64)
        if drop:
            block[:, drop] = 0.0
        total += float(_entropy_sums(block).sum())
    return total / max(1, q)


def focused_heads(layer: np.ndarray, sinks: Sequence[int] = (),
                  k: int = DEFAULT_FOCUSED) -> list[int]:
    """The default heads of views that draw heads one by one: the ``k`` most focused
    heads of ``layer`` ``[heads, query, key]``, i.e. the lowest mean row entropy once the
    sink columns are removed (a head that only attends to [CLS] is not "focused"), in index
    order. Fewer than ``k + 1`` heads: all of them."""
    heads = layer.shape[0]
    if heads <= k:
        return list(range(heads))
    scores = np.array([head_entropy(layer[h], sinks) for h in range(heads)])
    return sorted(np.argsort(scores, kind="stable")[:k].tolist())
