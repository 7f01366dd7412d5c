"""Which tokens a head connects to in the flow view, derived from its own attention.

Rule (documented in the docs), scoring each row token:

- square matrices (self-attention): normalise each non-empty row to sum to 1; the score
  is the mean attention the token receives, i.e. the mean of its column; connected when
  the score is at least ``threshold / n_keys`` (``threshold = 1``: a uniform share);
- causal attention (every query sees only the keys up to itself): how many queries
  attend to the token well above uniform. Each query's weight is compared with a uniform
  share over the keys it can see (sinks aside; no row renormalised, so a row that gave a
  sink 95 % keeps its 5 %); it counts from 0 at ``FLOOR`` (2) uniform shares or less to
  1 at ``STRONG`` (16) or more, on a log scale. Uniform or random-looking attention
  scores about 0 everywhere, and a positional head (each query on the token before it)
  scores every token alike: totals over queries favour early keys (seen by every query,
  each adding its noise), means over the queries that see a key favour late ones (seen
  by one, which then weighs thousands of uniform shares), and this count favours neither.
  Connected when the score is at least ``threshold`` queries; a head none of whose
  tokens scores ``STANDOUT`` times its median token links none (its caption says no
  token stands out);
- rectangular matrices (cross-attention, rows are queries): the row's peak weight;
  connected when it is at least ``2 * threshold / n_keys`` (the query is focused);
- with ``top_k``, the ``k`` best-scoring tokens instead (ties keep token order);
- ``ignore`` (attention sinks such as [CLS], [SEP], BOS) zeroes those key columns before
  normalising and never links them; ``ignore_self`` zeroes the diagonal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, quote


@dataclass(frozen=True)
class LinkRule:
    """How links are derived from a head's weights: the ``top_k`` best-scoring tokens, or
    every token scoring at least ``threshold`` times the uniform share; ``ignore`` lists
    key columns (sinks) that neither count nor link."""

    threshold: float = 1.0
    top_k: int | None = None
    ignore: tuple[int, ...] = ()
    ignore_self: bool = False
    causal: bool = False  # score by queries attending well above uniform (the module's rule)

    @classmethod
    def parse(cls, text: object) -> LinkRule:
        """``top:3`` or ``threshold:1.5``."""
        if isinstance(text, LinkRule):
            return text
        kind, _, value = str(text).partition(":")
        try:
            if kind == "top" and 1 <= int(value) <= 10_000:
                return cls(top_k=int(value))
            # A threshold is a multiple of the uniform share 1/n: above n nothing can link.
            if kind == "threshold" and math.isfinite(float(value)) and \
                    0 < float(value) <= 10_000:
                return cls(threshold=float(value))
        except ValueError:
            pass
        raise SpecError(f"links: {quote(text)} is not a rule; write top:K (K from 1, e.g. top:3)"
                        " or threshold:X (X a positive multiple of the uniform share, e.g. "
                        "threshold:1.5)")

    def describe(self) -> str:
        return f"top:{self.top_k}" if self.top_k else f"threshold:{self.threshold:g}"


def link_scores(weights: np.ndarray, ignore: tuple[int, ...] = (),
                ignore_self: bool = False, causal: bool = False) -> np.ndarray:
    """Per row token (the module's rule): the mean attention received of row-normalised
    weights (square), the queries attending well above uniform (``causal``), or the row's
    peak weight
    (rectangular). Computed 256 rows at a time: a 4096-token head needs 8 MB of
    temporaries, not 256."""
    q, k = weights.shape
    square = q == k
    if square and causal:
        return _causal_strength(weights, ignore, ignore_self)
    out = np.zeros(k if square else q)
    for start in range(0, q, ROWS):
        block = np.array(weights[start:start + ROWS], dtype=np.float64)
        if ignore:  # attention sinks ([CLS], BOS, ...) neither count nor get linked
            block[:, list(ignore)] = 0.0
        if ignore_self and square:
            at = np.arange(len(block))
            block[at, at + start] = 0.0
        sums = block.sum(axis=1, keepdims=True)
        np.divide(block, sums, out=block, where=sums > 0)
        block[(sums <= 0).ravel()] = 0.0
        if square:
            out += block.sum(axis=0)
        else:
            out[start:start + len(block)] = block.max(axis=1) / 2
    return out / q if square else out


STRONG = 16.0  # a query counts fully towards a key it gives this many uniform shares ...
FLOOR = 2.0  # ... and not at all up to this many (random-looking rows stay below it)


def _causal_strength(weights: np.ndarray, ignore: tuple[int, ...],
                     ignore_self: bool) -> np.ndarray:
    """How many queries attend to each key of causal attention well above uniform (the
    module's rule), 256 rows at a time."""
    n = weights.shape[0]
    sink = np.zeros(n, dtype=bool)
    sink[list(ignore)] = True
    visible = np.cumsum(~sink)  # keys 0..i outside sinks
    if ignore_self:
        visible = visible - (~sink)
    out = np.zeros(n)
    scale = math.log(STRONG / FLOOR)
    for start in range(0, n, ROWS):
        block = np.array(weights[start:start + ROWS], dtype=np.float64)
        block[:, sink] = 0.0
        if ignore_self:
            at = np.arange(len(block))
            block[at, at + start] = 0.0
        seen = visible[start:start + len(block)]
        share = np.divide(block.sum(axis=1), seen, out=np.zeros(len(block)), where=seen > 0)
        lift = np.divide(block, FLOOR * share[:, None], out=np.zeros_like(block),
                         where=share[:, None] > 0)
        above = lift > 1.0  # up to FLOOR uniform shares counts nothing
        np.log(lift, out=lift, where=above)
        lift[~above] = 0.0
        np.minimum(lift, scale, out=lift)
        out += lift.sum(axis=0) / scale
    return out


ROWS = 256
STANDOUT = 1.25  # a causal head links only tokens scoring this much above its median


def stands_out(scores: np.ndarray) -> bool:
    """Does any token score clearly above the head's typical token (``STANDOUT`` times
    the median of those scoring at all)? A previous-token or diagonal head scores every
    token alike: linking three of them would invent a preference."""
    counted = scores[scores > 0]
    return bool(len(counted)) and float(counted.max()) >= STANDOUT * float(np.median(counted))


def links_from_weights(weights: np.ndarray, rule: LinkRule | None = None) -> list[int]:
    """Row tokens a head connects to: score >= threshold / n_keys, or the top ``k``."""
    rule = rule or LinkRule()
    threshold, top_k, ignore = rule.threshold, rule.top_k, rule.ignore
    scores = link_scores(weights, ignore, rule.ignore_self, rule.causal)
    if ignore and len(scores) == weights.shape[1]:
        scores[list(ignore)] = 0.0
    if rule.causal and not stands_out(scores):
        return []  # a positional head: any k tokens would be an arbitrary pick
    if top_k is not None:
        order = np.argsort(-scores, kind="stable")[:top_k]
        return sorted(int(i) for i in order if scores[i] > 0)
    uniform = 1.0 if rule.causal and weights.shape[0] == weights.shape[1] \
        else 1.0 / weights.shape[1]
    return [int(i) for i in np.flatnonzero(scores >= threshold * uniform - 1e-12)]


def warn_if_unlinked(weights: list[np.ndarray | None], rule: LinkRule, where: str) -> None:
    """Warn when heads given their own weights all link no token under ``rule`` (a
    flow figure would then have heads with no connector, for no visible reason)."""
    import warnings

    from ..errors import InputWarning

    own = [w for w in weights if w is not None]
    if own and not any(links_from_weights(w, rule) for w in own):
        warnings.warn(InputWarning(f"{where}: links: {rule.describe()} links no token to any "
                                   "head; lower the threshold or use top:K"), stacklevel=4)
