"""Attention sinks: key tokens that soak up attention without carrying meaning.

A sink column ([CLS], [SEP], a BOS token, or the first token of a causal model that takes
most of every row's attention) washes a colour scale out: every other cell looks pale.
By default the colour scale ignores sink columns (they saturate) and links never end on
them; the analysis itself still sees the real weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FIRST_TOKEN_SHARE = 0.3  # a causal model's first token is a sink above this mean share
# ... or, in a long sequence (where uniform attention gives it almost nothing), above this
# share that is also LIFT_SINK times what uniform attention over the visible keys gives it
LONG_SINK_SHARE = 0.1
LIFT_SINK = 10.0


def sink_columns(key_tokens: Sequence[str], weights: np.ndarray, causal: bool) -> list[int]:
    """Key columns that are sinks: special tokens, and in a causal model the first token
    when it receives on average more than 30 % of the attention of the later rows, or
    more than 10 % where that is ten times a uniform share (row ``i`` sees ``i + 1`` keys:
    in 1,000 tokens uniform attention gives the first 0.7 %, and 29 % is a sink).
    ``weights`` is ``[..., query, key]``."""
    from .tokens import is_special  # real attention's: a figure by hand has no sinks

    sinks = [i for i, t in enumerate(key_tokens) if is_special(t)]
    if causal and weights.shape[-1] > 2 and 0 not in sinks:
        mean = first_share(weights)
        n = weights.shape[-2]
        uniform = float(np.mean(1.0 / np.arange(2, n + 1)))  # rows 1 .. n-1
        if mean > FIRST_TOKEN_SHARE or (mean > LONG_SINK_SHARE and mean > LIFT_SINK * uniform):
            sinks.insert(0, 0)
    return sinks


def first_share(weights: np.ndarray) -> float:
    """The mean share of its row's attention the first key takes, over rows 1.. of every
    head of ``[..., query, key]``, read a block of rows at a time."""
    n = weights.shape[-2]
    if hasattr(weights, "surveys"):  # a lazy array (svgattn.blocks): one pass per head, kept
        found = weights.surveys()
        return sum(s.first for s in found) / max(1, len(found) * (n - 1))
    heads = weights.reshape(-1, *weights.shape[-2:])
    count = int(np.prod(weights.shape[:-2], dtype=np.int64)) if weights.ndim > 2 else 1
    step = max(1, (1 << 20) // max(1, weights.shape[-1]))
    total = 0.0
    for h in range(count):
        head = heads[h]
        for start in range(1, n, step):
            rows = np.asarray(head[start:start + step], dtype=np.float64)
            sums = rows.sum(axis=-1)
            total += float(np.divide(rows[:, 0], sums, out=np.zeros_like(sums),
                                     where=sums > 0).sum())
    return total / max(1, count * (n - 1))


def is_causal(weights: np.ndarray) -> bool:
    """True when no query attends to a later key (``[..., n, n]``, n > 1); checked in
    blocks of rows so a long sequence costs no full-size temporary."""
    n = weights.shape[-1]
    if weights.shape[-2] != n or n < 2:
        return False
    if hasattr(weights, "surveys"):  # a lazy array (svgattn.blocks)
        known = getattr(weights, "causal", None)  # a model's own mask
        return bool(known) if known is not None else not any(
            s.later for s in weights.surveys())
    columns = np.arange(n)
    for start in range(0, n, 256):
        rows = weights[..., start:start + 256, :]
        later = columns[None, :] > np.arange(start, start + rows.shape[-2])[:, None]
        if np.any(rows[..., later]):
            return False
    return True
