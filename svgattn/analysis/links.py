"""Which tokens a head connects to in the flow view, derived from its own attention.

Rule (documented in the README), scoring each row token:

- square matrices (self-attention): normalise each non-empty row to sum to 1; the score
  is the mean attention the token receives, i.e. the mean of its column; connected when
  the score is at least ``threshold / n_keys`` (``threshold = 1``: a uniform share);
- causal attention (every query sees only the keys up to itself): how many times more
  attention the token receives than uniform attention over the keys each query can see
  would give it, ``(o + m) / (e + m)``: ``o`` the weight it receives, ``e`` what uniform
  attention over each row's visible keys (sinks aside) would give it, and ``m`` one
  average row's weight, so a token seen by a few queries is not ranked on one weight.
  Uniform attention scores 1 everywhere: no position is favoured by construction, and no
  row is renormalised (a row that gave a sink 95 % keeps its 5 %). Connected when the
  score is at least ``threshold``;
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
    causal: bool = False  # score by the causal lift (the module's rule)

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
    weights (square), the causal lift (``causal``), or the row's peak weight
    (rectangular). Computed 256 rows at a time: a 4096-token head needs 8 MB of
    temporaries, not 256."""
    q, k = weights.shape
    square = q == k
    if square and causal:
        return _causal_lift(weights, ignore, ignore_self)
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


def _causal_lift(weights: np.ndarray, ignore: tuple[int, ...], ignore_self: bool) -> np.ndarray:
    """``(o + m) / (e + m)`` per key of causal attention (the module's rule)."""
    n = weights.shape[0]
    sink = np.zeros(n, dtype=bool)
    sink[list(ignore)] = True
    received = np.zeros(n)
    mass = np.zeros(n)
    for start in range(0, n, ROWS):
        block = np.array(weights[start:start + ROWS], dtype=np.float64)
        block[:, sink] = 0.0
        if ignore_self:
            at = np.arange(len(block))
            block[at, at + start] = 0.0
        received += block.sum(axis=0)
        mass[start:start + len(block)] = block.sum(axis=1)
    visible = np.cumsum(~sink)  # keys 0..i outside sinks
    if ignore_self:
        visible = visible - (~sink)
    share = np.divide(mass, visible, out=np.zeros(n), where=visible > 0)
    expected = np.cumsum(share[::-1])[::-1]  # key j: what rows i >= j give it uniformly
    expected[sink] = 0.0
    prior = float(mass.mean())
    if prior <= 0:
        return np.zeros(n)
    return (received + prior) / (expected + prior)


ROWS = 256


def links_from_weights(weights: np.ndarray, rule: LinkRule | None = None) -> list[int]:
    """Row tokens a head connects to: score >= threshold / n_keys, or the top ``k``."""
    rule = rule or LinkRule()
    threshold, top_k, ignore = rule.threshold, rule.top_k, rule.ignore
    scores = link_scores(weights, ignore, rule.ignore_self, rule.causal)
    if ignore and len(scores) == weights.shape[1]:
        scores[list(ignore)] = 0.0
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
