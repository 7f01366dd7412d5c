"""Attention a token receives: what the text view shades and ``labels = "top:K"`` ranks."""

from __future__ import annotations

import numpy as np


def received(matrix: np.ndarray) -> np.ndarray:
    """Each key token's attention received, averaged over the queries (``[query, key]``)."""
    return np.asarray(matrix, dtype=np.float64).mean(axis=0)


def ranking(matrix: np.ndarray, axis: int) -> np.ndarray:
    """A score per row (``axis`` 0) or column (1) for picking the most attended tokens:
    the attention received; a cross-attention query (rows of another sequence) by its
    strongest weight."""
    values = np.asarray(matrix, dtype=np.float64)
    if axis == 0 and values.shape[0] != values.shape[1]:
        return values.max(axis=1)
    return received(values)
