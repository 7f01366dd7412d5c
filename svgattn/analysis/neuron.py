"""Why a head attends where it does (the neuron view): for one query token, its query
vector q, each key vector k, their elementwise products q * k, the scores q.k x scaling
and the softmax over the keys the query may see, after checking that this softmax
reproduces the attention the source gave (a wrong capture is refused, never drawn).

Masked keys are those the given attention puts exactly zero weight on (a causal model's
future, padding): softmax gives zero only to a masked score (or one below e^-745, which
then changes no weight above the tolerance either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError

TOLERANCE = 1e-3  # default: the largest |softmax(q.k x s + mask) - attention| accepted
BLOCK = 256  # query rows checked at a time (a 4,096-token head: 8 MB a block in float64)


@dataclass(frozen=True, eq=False)
class HeadVectors:
    """One head's query vectors ``[query, dim]``, key vectors ``[key, dim]`` (grouped-query
    keys already those of the head's group) and the factor q.k is multiplied by."""

    queries: np.ndarray
    keys: np.ndarray
    scaling: float
    source: str = "attention"  # where they came from, for errors


@dataclass(frozen=True, eq=False)
class Explained:
    """One query of one head, explained: rows are the keys it may see (``keys``: their
    columns in the matrix), columns the dimensions kept (``dims``)."""

    query: int
    keys: np.ndarray  # key columns shown, in order
    dims: np.ndarray  # dimensions shown, in order
    q: np.ndarray  # [dims]
    k: np.ndarray  # [keys, dims]
    products: np.ndarray  # [keys, dims]: q * k
    scores: np.ndarray  # [keys]: the full q.k x scaling (every dimension)
    softmax: np.ndarray  # [keys]
    given: np.ndarray  # [keys]: the attention row as the source gave it
    spread_kept: float  # share of the products' spread over keys in the kept dimensions
    error: float  # the largest |softmax - attention| over the whole head
    checked: int  # rows of the head the check could tell by (two open keys or more)
    rows: int  # rows of the head
    masked: int  # keys of the row left out as masked
    dim_total: int
    scaling: float


def check(vectors: HeadVectors, weights: np.ndarray, tolerance: float,
          where: str) -> tuple[float, int]:
    """(the largest difference between softmax(q.k x scaling + mask) and ``weights`` over
    every row of the head, how many rows could tell: those with two keys or more open); a
    :class:`SpecError` naming the head and the worst cell when it exceeds ``tolerance``,
    when the scores overflow, or when no row could tell (a row with one open key is 1
    there whatever q and k are)."""
    q = np.asarray(vectors.queries, dtype=np.float64)
    k = np.asarray(vectors.keys, dtype=np.float64)
    worst, spot, telling = 0.0, (0, 0), 0
    for start in range(0, q.shape[0], BLOCK):
        given = np.asarray(weights[start:start + BLOCK], dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            scores = q[start:start + BLOCK] @ k.T * vectors.scaling
        if not np.isfinite(scores[given != 0]).all():
            raise SpecError(f"{where}: q.k x {vectors.scaling:.4g} overflows (the vectors or the "
                            "scaling are far larger than a model's); give the q and k the "
                            "weights came from and their scaling")
        telling += int(((given != 0).sum(axis=1) >= 2).sum())
        diff = np.abs(softmax(scores, given) - given)
        if diff.size and float(diff.max()) > worst:
            worst = float(diff.max())
            i, j = np.unravel_index(int(np.argmax(diff)), diff.shape)
            spot = (start + int(i), int(j))
    if worst > tolerance:
        raise SpecError(
            f"{where}: softmax(q.k x {vectors.scaling:.4g} + mask) differs from the attention by "
            f"{worst:.3g} (query {spot[0]}, key {spot[1]}), over the tolerance of "
            f"{tolerance:g}: these q and k are not the ones the weights came from (q and k "
            "before a rotary embedding, another layer or head, or a model that adds a position"
            " bias such as ALiBi); give the rotated vectors (hook_rot_q/hook_rot_k), the "
            "right scaling, or raise --tolerance for half-precision data")
    if not telling:
        raise SpecError(f"{where}: every query puts all its attention on one key, which any q "
                        "and k reproduce: these vectors cannot be checked against the "
                        "attention; choose another head (or save the weights in float32)")
    return worst, telling


def softmax(scores: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Row softmax of ``scores`` over the keys ``given`` does not mask (zero weight)."""
    open_ = given != 0
    masked = np.where(open_, scores, -np.inf)
    top = np.max(masked, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.where(open_, np.exp(masked - top), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def explain(vectors: HeadVectors, weights: np.ndarray, query: int, dims: int | None,
            tolerance: float, where: str) -> Explained:
    """Explain row ``query`` of a head whose attention is ``weights`` ``[query, key]``,
    after :func:`check`; ``dims``: keep the dimensions whose products vary most over the
    keys (a product the same for every key shifts every score alike and changes no
    weight), in their order; ``None``: all."""
    error, telling = check(vectors, weights, tolerance, f"{vectors.source}: {where}")
    given_row = np.asarray(weights[query], dtype=np.float64)
    keys = np.flatnonzero(given_row != 0)
    if not len(keys):
        raise SpecError(f"focus: query {query} attends to no key (a padding row); choose "
                        "another token")
    q = np.asarray(vectors.queries[query], dtype=np.float64)
    k = np.asarray(vectors.keys[keys], dtype=np.float64)
    products = q[None, :] * k
    scores = products.sum(axis=1) * vectors.scaling
    total = q.shape[0]
    spread = products.std(axis=0) if len(keys) > 1 else np.abs(products[0])
    if dims is None or dims >= total:
        kept = np.arange(total)
    else:
        kept = np.sort(np.argsort(-spread, kind="stable")[:dims])
    share = float(spread[kept].sum() / spread.sum()) if spread.sum() > 0 else 1.0
    return Explained(query=query, keys=keys, dims=kept, q=q[kept], k=k[:, kept],
                     products=products[:, kept], scores=scores,
                     softmax=softmax(scores[None], given_row[keys][None])[0],
                     given=given_row[keys], spread_kept=share, error=error,
                     checked=telling, rows=int(weights.shape[0]),
                     masked=len(given_row) - len(keys), dim_total=total,
                     scaling=vectors.scaling)


def focused_head(weights: Sequence[np.ndarray | None], sinks: Sequence[int]) -> int:
    """The head (index into ``weights``, one ``[query, key]`` each) that attends most
    narrowly: the lowest attention entropy, sinks aside."""
    from .select import head_entropy

    if len(weights) < 2:
        return 0
    scores = [head_entropy(w, sinks) if w is not None else np.inf for w in weights]
    return int(np.argmin(scores))  # the first of equals, as a stable sort


def default_query(tokens: Sequence[str], weights: np.ndarray | None) -> int:
    """The query row explained by default: the last token that is not a special token
    and attends to something (padding rows attend to nothing)."""
    from .tokens import is_special

    def attends(i: int) -> bool:
        return weights is None or bool(np.any(np.asarray(weights[i]) != 0))

    # from the end: a long input's rows are computed one by one only until one is found
    order = range(len(tokens) - 1, -1, -1)
    found = next((i for i in order if not is_special(tokens[i]) and attends(i)), None)
    if found is None:
        found = next((i for i in order if attends(i)), len(tokens) - 1)
    return found
