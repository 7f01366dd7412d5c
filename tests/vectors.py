"""Query and key vectors for tests of the neuron view, with attention that is exactly their
softmax (computed here in float64, independently of svgattn)."""

from __future__ import annotations

import numpy as np


def exact(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(queries, keys) of any attention ``[..., query, key]`` without exact zeros except
    masked cells: keys one-hot (dim = key count), queries sqrt(dim) x log(weight), so that
    softmax(q.k / sqrt(dim)) over the unmasked keys is the (row-normalised) weights."""
    keys_n = weights.shape[-1]
    with np.errstate(divide="ignore"):
        q = np.where(weights > 0, np.log(np.where(weights > 0, weights, 1.0)), 0.0)
    queries = q * np.sqrt(keys_n)
    keys = np.broadcast_to(np.eye(keys_n), (*weights.shape[:-2], keys_n, keys_n)).copy()
    return queries, keys


def softmax(scores: np.ndarray, causal: bool) -> np.ndarray:
    if causal:
        n = scores.shape[-1]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def causal(n: int, heads: int = 2, dim: int = 32, kv_heads: int | None = None, seed: int = 0,
           layers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights [layers, heads, n, n] float32, queries, keys) of a causal model with a
    first-token sink (dimension 0) and content keys; keys have ``kv_heads`` heads
    (grouped-query attention: head h reads kv head h // (heads // kv_heads))."""
    kv = kv_heads or heads
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 1, (layers, heads, n, dim))
    k = rng.normal(0, 1, (layers, kv, n, dim))
    q[..., 0] = 3.0 + rng.random((layers, heads, n))  # every query looks for the sink ...
    k[..., 0] = -1.0
    k[:, :, 0, 0] = 4.0  # ... which the first token carries
    expanded = np.repeat(k, heads // kv, axis=1)
    scores = np.einsum("lhqd,lhkd->lhqk", q, expanded) / np.sqrt(dim)
    weights = softmax(scores, causal=True).astype(np.float32)
    return weights, q.astype(np.float32), k.astype(np.float32)
