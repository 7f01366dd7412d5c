"""Attention a token receives: what the text view shades and ``labels = "top:K"`` ranks.

In causal attention a query sees only the keys up to itself: averaging a key over every
query shades the text by position (the first tokens are seen by all), and averaging over
the queries that see it, or comparing it with uniform attention, favours the last tokens
(seen by one, whose weight is then thousands of uniform shares). So causal attention is
counted as links are (:mod:`svgattn.analysis.links`): how many queries attend to the
token above uniform attention over the keys they can see, each counting up to one. Uniform
attention scores 0 everywhere, a previous-token head 1 everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .links import link_scores


def received(matrix: np.ndarray, causal: bool = False) -> np.ndarray:
    """Each key token's attention received (``[query, key]``): averaged over every query,
    or for ``causal`` attention, how many queries attend to it above uniform (the links'
    causal rule)."""
    values = np.asarray(matrix)  # read in blocks below: a 4096-token matrix is not copied
    if not causal or values.shape[0] != values.shape[1]:
        return values.mean(axis=0, dtype=np.float64)
    return link_scores(values, (), causal=True)


def ranking(matrix: np.ndarray, axis: int, causal: bool = False,
            sinks: Sequence[int] = ()) -> np.ndarray:
    """A score per row (``axis`` 0) or column (1) for picking the most attended tokens:
    the attention received (for causal attention, how many queries attend to it above
    uniform, as links are scored); a cross-attention query
    (rows of another sequence) by its strongest weight."""
    values = np.asarray(matrix)
    if axis == 0 and values.shape[0] != values.shape[1]:
        return values.max(axis=1).astype(np.float64)
    if causal and values.shape[0] == values.shape[1]:
        return link_scores(values, tuple(sinks), causal=True)
    return received(values)


OUTLIERS = 0.99  # the share of tokens colours are spread over when a few stand far out


def robust_top(values: np.ndarray, sinks: Sequence[int]) -> tuple[float, int, float] | None:
    """A colour maximum that a few outlying tokens (a second sink: in a long causal
    prompt the second token can draw nearly every query) do not wash out: (the 99th
    percentile, how many tokens lie above it, the largest), when the largest is more than
    twice that percentile among 100 tokens or more (sinks aside); ``None`` otherwise."""
    keep = np.ones(len(values), dtype=bool)
    keep[list(sinks)] = False
    rest = np.asarray(values, dtype=np.float64)[keep]
    if len(rest) < 100:
        return None
    top = float(np.quantile(rest, OUTLIERS))
    if top <= 0 or float(rest.max()) <= 2 * top:
        return None
    return top, int((rest > top).sum()), float(rest.max())


def busiest(values: np.ndarray, count: int) -> int:
    """The first of the ``count`` consecutive tokens that receive the most attention."""
    sums = np.convolve(np.nan_to_num(np.asarray(values, dtype=np.float64)), np.ones(count),
                       mode="valid")
    return int(np.argmax(sums))
