"""One number per head: what it does, not only where it looks (the heads view).

Each score reads one head's ``[query, key]`` self-attention (rows as given: a row that
put weight on padding or a dropped token keeps its total) and the tokens:

- ``sink``: the mean share of a query's attention on the first token (queries 1..n-1);
  attention sinks (Xiao et al. 2023, "Efficient Streaming Language Models with Attention
  Sinks");
- ``previous``: the mean attention from each token to the token before it (TransformerLens
  ``head_detector``'s previous-token pattern);
- ``self``: the mean attention from each token to itself;
- ``local``: the mean distance, in tokens, between a query and what it attends to (the sum
  of weight x distance per row, averaged over rows): low for local heads;
- ``entropy``: the mean entropy of a row, in bits (0: one key; log2 of the keys seen:
  uniform);
- ``induction``: for each token that occurred before, the attention it gives to the tokens
  that followed its earlier occurrences (Olsson et al. 2022, "In-context Learning and
  Induction Heads"; TransformerLens's induction pattern on a repeated sequence), averaged
  over such tokens;
- ``duplicate``: for the same tokens, the attention to their earlier occurrences
  (TransformerLens's duplicate-token pattern).

Induction and duplicate need a token that repeats; on a repeated random sequence
(``[r1..rn, r1..rn]``) they are exactly TransformerLens's patterns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError


@dataclass(frozen=True)
class Score:
    name: str
    meaning: str  # the colour bar's label
    kind: str = "share"  # share: a fraction of a row's attention, mapped 0..1
    low: bool = False  # the heads worth naming have the lowest values (focused, local)

    @property
    def named(self) -> str:
        """How the caption introduces the heads it names."""
        return {"entropy": "Most focused (lowest entropy)",
                "local": "Most local (shortest mean distance)"}.get(
                    self.name, f"Strongest {self.name}")


SCORES = {
    "sink": Score("sink", "share of attention on the first token"),
    "previous": Score("previous", "attention to the previous token"),
    "self": Score("self", "attention to itself"),
    "local": Score("local", "mean distance attended, in tokens", "tokens", low=True),
    "entropy": Score("entropy", "row entropy in bits (0: all on one key)", "bits", low=True),
    "induction": Score("induction", "attention to the token after an earlier copy"),
    "duplicate": Score("duplicate", "attention to earlier copies of the token"),
}
NEEDS_REPEATS = ("induction", "duplicate")


def repeats(tokens: Sequence[str]) -> list[tuple[int, list[int]]]:
    """(position, earlier positions of the same token) for every token seen before."""
    seen: dict[str, list[int]] = {}
    out = []
    for i, t in enumerate(tokens):
        if t in seen:
            out.append((i, list(seen[t])))
        seen.setdefault(t, []).append(i)
    return out


def parse_scores(value: object, tokens: Sequence[str]) -> list[str]:
    """The scores asked for (``all``: every one the tokens allow), validated."""
    text = "all" if value is None else str(value)
    if text.strip() == "all":
        names = [s for s in SCORES if s not in NEEDS_REPEATS or repeats(tokens)]
    else:
        names = [p.strip() for p in text.split(",")]
    unknown = [n for n in names if n not in SCORES]
    if unknown or not names or len(set(names)) != len(names):
        raise SpecError(f"score: {text!r} is not a list of scores; choose from "
                        f"{', '.join(SCORES)} (comma-separated, each once) or all")
    if any(n in NEEDS_REPEATS for n in names) and not repeats(tokens):
        raise SpecError("score: induction and duplicate need a token that repeats; give a "
                        "prompt with repeats (a sentence said twice) or other scores")
    return names


def uniform_entropy(tokens: int, causal: bool) -> float:
    """The entropy score of a head spreading every query evenly over the keys it sees:
    the highest a head can score (log2 n; causal: the mean of log2 1..n)."""
    if not causal:
        return math.log2(tokens)
    return float(np.log2(np.arange(1, tokens + 1)).mean())


def score_range(name: str, values: np.ndarray, uniform: float) -> tuple[float, float]:
    """The colour scale of a score's map: shares on 0..1 whatever the heads reach (a
    head at 0.15 is not drawn as strong), entropy up to ``uniform`` (the
    :func:`uniform_entropy` of the inputs: the darkest cell is a head that spreads
    evenly), mean distance up to the largest found."""
    kind = SCORES[name].kind
    if kind == "share":
        return 0.0, 1.0
    if kind == "bits":
        return 0.0, max(uniform, float(values.max()), 1e-12)
    return 0.0, max(float(values.max()), 1e-12)


def head_score(name: str, weights: np.ndarray, tokens: Sequence[str]) -> float:
    """One score (the module's definitions) of one head's ``[query, key]`` weights."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    rows = np.arange(n)
    if name == "sink":
        return float(w[1:, 0].mean()) if n > 1 else 0.0
    if name == "previous":
        return float(w[rows[1:], rows[1:] - 1].mean()) if n > 1 else 0.0
    if name == "self":
        return float(np.diagonal(w).mean())
    if name == "local":
        return float((w * np.abs(rows[:, None] - rows[None, :])).sum(axis=1).mean())
    if name == "entropy":
        p = np.where(w > 0, w, 1.0)
        return float(-(w * np.log2(p)).sum(axis=1).mean())
    pairs = repeats(tokens)
    if name == "duplicate":
        return float(np.mean([w[i, earlier].sum() for i, earlier in pairs]))
    if name == "induction":
        return float(np.mean([w[i, [e + 1 for e in earlier if e + 1 < i]].sum()
                              for i, earlier in pairs]))
    raise SpecError(f"score: {name!r} is not a score; choose from {', '.join(SCORES)}")
