"""Aggregate attention across heads and layers into the one matrix a figure shows."""

from __future__ import annotations

import numpy as np

from ..errors import SpecError, quote
from .reduce import Read, Reduction, identity

METHODS = ("mean", "max", "sum", "rollout")


def combine(weights: np.ndarray, method: str = "mean",
            heads: list[int] | None = None, reduce: Reduction | None = None) -> np.ndarray:
    """Combine ``[n, query, key]`` (or the ``heads`` among them) into one ``[query, key]``:
    ``mean`` keeps rows stochastic, ``max`` shows the strongest head per cell, ``sum``
    adds heads up. Added in float64 a block of rows at a time and kept in the input's
    precision (float32 heads give a float32 matrix: a 4096-token one is 64 MB, and no
    full-size float64 temporary is made). With ``reduce``, the windowed and pooled matrix
    is made as the rows are combined (a full-size one is never held)."""
    q, k = weights.shape[-2:]
    dtype = np.float32 if weights.dtype == np.float32 else np.float64
    return (reduce or identity(q, k)).rows(combined_rows(weights, method, heads), dtype)


def combined_rows(weights: np.ndarray, method: str = "mean",
                  heads: list[int] | None = None) -> Read:
    """What :func:`combine` reads: rows ``a..b-1`` of the combination, in float64 (one
    head: as it is)."""
    if method not in ("mean", "max", "sum"):
        raise SpecError(f"combine: {quote(method)} is not one of {', '.join(METHODS)}")
    chosen = list(range(weights.shape[0])) if heads is None else list(heads)

    def read(start: int, stop: int) -> np.ndarray:
        if len(chosen) == 1:  # one head is itself: no float64 copy
            return np.asarray(weights[chosen[0], start:stop])
        block = np.array(weights[chosen[0], start:stop], dtype=np.float64)
        for h in chosen[1:]:
            if method == "max":
                np.maximum(block, weights[h, start:stop], out=block)
            else:
                block += weights[h, start:stop]
        if method == "mean" and len(chosen) > 1:
            block /= len(chosen)
        return block

    return read


def rollout(layers: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of ``[layers, heads, n, n]``: per layer the
    heads are averaged, the residual connection added (``(1 - r) A + r I``), rows are
    renormalised, and the layers multiplied from the first to the last. Row ``i`` of the
    result is how much each input token flows into position ``i`` at the top layer.
    Computed in float64 whatever the input (float32 sums differ in the last bits from one
    CPU to another)."""
    n = layers.shape[-1]
    if layers.shape[-2] != n:
        raise SpecError("combine: rollout needs self-attention (a square matrix); cross-"
                        "attention has no path through the layers")
    flow = np.eye(n)
    identity = np.eye(n)
    for layer in layers:
        a = (1 - residual) * combine(layer, "mean") + residual * identity
        sums = a.sum(axis=-1, keepdims=True)
        a = np.divide(a, sums, out=np.zeros_like(a), where=sums > 0)
        flow = a @ flow
    return flow


def describe(method: str, layer: str, heads: list[str], total: int,
             first_layer: str | None = None) -> str:
    """Provenance of the matrix, drawn under the figure."""
    which = "all heads" if len(heads) == total else "heads " + ", ".join(heads)
    if method == "rollout":
        return (f"Matrix: attention rollout of {which} from layer {first_layer} to {layer} "
                "(heads averaged, residual added, rows renormalised)")
    if len(heads) == 1:
        return f"Matrix: head {heads[0]} of layer {layer}"
    return f"Matrix: {method} of {which} ({len(heads)}) of layer {layer}"


def summary(method: str, layer: str, heads: list[str], total: int,
            first_layer: str | None = None) -> str:
    """The provenance in a few words (a short caption's)."""
    which = f"{len(heads)} heads" if len(heads) > 1 else f"head {heads[0]}"
    if method == "rollout":
        return f"Rollout of {which}, layers {first_layer}\u2013{layer}"
    if len(heads) == 1:
        return f"Head {heads[0]}, layer {layer}"
    return f"{method.capitalize()} of {which}, layer {layer}"
