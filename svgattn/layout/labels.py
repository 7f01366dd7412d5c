"""Thinning labels of long sequences: never two labels on top of each other.

When rows (or columns) are closer than a label needs, only some are labelled: every k-th
(``labels = "auto"``), the ``top:K`` most attended tokens, or the tokens a user names
(``labels = "cat,it,17"``), named ones first; a label that would touch one already placed
is dropped. Type never shrinks below ``text.min_size`` for this: views thin first.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.received import ranking
from ..errors import SpecError, quote
from ..units import integer_text

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.figure import FigureData

# round strides: small ones exact, then 10, 20, 25, 50, 100 ... (labels at 0, 20, 40 ...)
_NICE = [1, 2, 3, 4, 5] + [m * 10**e for e in range(1, 7) for m in (1, 2, 2.5, 5)] + [10**7]
_NICE = [int(v) for v in _NICE]
_TOP = re.compile(r"^\s*top\s*:(.*)$")
_EVERY = re.compile(r"^\s*every\s*:(.*)$")


def thin(n: int, pitch: float, need: float, only: Sequence[int] | None = None,
         every: int | None = None) -> list[int]:
    """Indices (sorted) of the labels to draw among ``n`` placed ``pitch`` apart when each
    needs ``need``: all when they fit; else every k-th (k the least stride that fits, at
    least ``every``); or, with ``only``, those indices in their order of priority, skipping
    any that would touch one already placed."""
    if n == 0:
        return []
    gap = max(1, math.ceil(need / max(pitch, 1e-12) - 1e-9))
    if only is not None:
        candidates: Sequence[int] = only
    else:
        stride = max(gap, every or 1)
        if stride == 1:
            return list(range(n))
        if not every:  # a round stride: labels at 0, 20, 40 ... read better than 0, 19, 38
            stride = next(s for s in _NICE if s >= stride) if stride <= _NICE[-1] else stride
        gap = max(gap, 1)
        candidates = range(0, n, stride)
    chosen: list[int] = []
    for index in candidates:
        if not 0 <= index < n:
            continue
        at = bisect.bisect_left(chosen, index)
        if at < len(chosen) and chosen[at] == index:
            continue
        if (at > 0 and index - chosen[at - 1] < gap) or \
                (at < len(chosen) and chosen[at] - index < gap):
            continue
        chosen.insert(at, index)
    return chosen


def _count(text: str, rule: str, where: str) -> int:
    if not integer_text(text) or int(text) < 1:
        raise SpecError(f"{where}: labels: {rule}:{quote(text.strip())} needs a whole number of at "
                        f"least 1, e.g. {rule}:10")
    return int(text)


def priority(spec: object, data: FigureData, axis: int,
             where: str) -> tuple[list[int] | None, int | None]:
    """Resolve a ``labels`` option for the rows (``axis`` 0) or columns (1) of ``data``'s
    matrix: (the only indices to label, or ``None``; a least stride, or ``None``).

    ``auto`` (default): none first, the stride that fits; ``every:K``: every K-th;
    ``top:K``: the K tokens receiving the most attention; a comma list of tokens or
    positions in the whole input: exactly those."""
    if spec is None or (isinstance(spec, str) and spec.strip() in ("", "auto")):
        return None, None
    text = str(spec)
    if m := _EVERY.match(text):
        return None, _count(m.group(1), "every", where)
    if m := _TOP.match(text):
        k = _count(m.group(1), "top", where)
        n = len(data.query_tokens if axis == 0 else data.key_tokens)
        order = np.argsort(-ranking(data.matrix, axis, data.causal, data.sinks)[:n],
                           kind="stable")[:k]
        return [int(i) for i in order], None
    named: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        raw = data.query_tokens if axis == 0 else data.key_tokens
        labels = data.query_labels if axis == 0 else data.key_labels
        hits = [i for i, t in enumerate(raw) if t == part] or \
            [i for i, t in enumerate(labels) if t == part]  # every occurrence of a token
        if not hits and integer_text(part):
            hits = [data.index(int(part), "labels", where, query=axis == 0)]
        if not hits:
            raise SpecError(f"{where}: labels: {quote(part)} is not one of the tokens; write "
                            "auto, every:K, top:K or a comma list of tokens or positions")
        named.extend(hits)
    return named, None
