"""Aggregate attention across heads (and layers) into the one matrix the figure shows."""

from __future__ import annotations

import numpy as np

from ..errors import SpecError

METHODS = ("mean", "max", "sum")


def combine(weights: np.ndarray, method: str = "mean") -> np.ndarray:
    """Combine ``[n, query, key]`` into ``[query, key]``: ``mean`` keeps rows stochastic,
    ``max`` shows the strongest head per cell, ``sum`` adds heads up."""
    if method not in METHODS:
        raise SpecError(f"combine: {method!r} is not one of {', '.join(METHODS)}")
    if method == "mean":
        return weights.mean(axis=0)
    if method == "max":
        return weights.max(axis=0)
    return weights.sum(axis=0)


def describe(method: str, layer: str, heads: list[str], total: int) -> str:
    """Provenance line drawn under the figure: which heads the matrix came from."""
    if len(heads) == 1:
        return f"Matrix: head {heads[0]} of layer {layer}"
    which = "all heads" if len(heads) == total else "heads " + ", ".join(heads)
    return f"Matrix: {method} of {which} ({len(heads)}) of layer {layer}"
