"""Which tokens a head connects to in the flow view, derived from its own attention.

Rule (documented in the README): normalise each non-empty row of the head's matrix to
sum to 1, then score each row token:

- square matrices (self-attention): the mean attention the token receives, i.e. the
  mean of its column; connected when the score is at least ``threshold / n_keys``
  (``threshold = 1``: the token receives at least a uniform share);
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
                ignore_self: bool = False) -> np.ndarray:
    """Per row token, the mean attention received by that token (square matrices) or the
    row's peak weight (rectangular), from row-normalised weights. Computed 256 rows at a
    time: a 4096-token head needs 8 MB of temporaries, not 256."""
    q, k = weights.shape
    square = q == k
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


ROWS = 256


def links_from_weights(weights: np.ndarray, rule: LinkRule | None = None) -> list[int]:
    """Row tokens a head connects to: score >= threshold / n_keys, or the top ``k``."""
    rule = rule or LinkRule()
    threshold, top_k, ignore = rule.threshold, rule.top_k, rule.ignore
    scores = link_scores(weights, ignore, rule.ignore_self)
    if ignore and len(scores) == weights.shape[1]:
        scores[list(ignore)] = 0.0
    if top_k is not None:
        order = np.argsort(-scores, kind="stable")[:top_k]
        return sorted(int(i) for i in order if scores[i] > 0)
    uniform = 1.0 / weights.shape[1]
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
