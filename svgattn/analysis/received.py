"""Attention a token receives: what the text view shades and ``labels = "top:K"`` ranks.

In causal attention a query sees only the keys up to itself: averaging a key over every
query shades the text by position (the first tokens are seen by all), and averaging over
the queries that see it favours the last tokens (seen by one, often itself). So causal
attention is measured relative to uniform attention over the keys each query can see,
as links are (:mod:`svgattn.analysis.links`): 1 everywhere for uniform attention.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .links import link_scores


def received(matrix: np.ndarray, causal: bool = False) -> np.ndarray:
    """Each key token's attention received (``[query, key]``): averaged over every query,
    or for ``causal`` attention, how many times what uniform attention over each query's
    visible keys would give it."""
    values = np.asarray(matrix)  # read in blocks below: a 4096-token matrix is not copied
    if not causal or values.shape[0] != values.shape[1]:
        return values.mean(axis=0, dtype=np.float64)
    return link_scores(values, (), causal=True)


def ranking(matrix: np.ndarray, axis: int, causal: bool = False,
            sinks: Sequence[int] = ()) -> np.ndarray:
    """A score per row (``axis`` 0) or column (1) for picking the most attended tokens:
    the attention received (for causal attention, how many times more than uniform
    attention over the visible keys gives, as links are scored); a cross-attention query
    (rows of another sequence) by its strongest weight."""
    values = np.asarray(matrix)
    if axis == 0 and values.shape[0] != values.shape[1]:
        return values.max(axis=1).astype(np.float64)
    if causal and values.shape[0] == values.shape[1]:
        return link_scores(values, tuple(sinks), causal=True)
    return received(values)
