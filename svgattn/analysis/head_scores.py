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
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from .figure import FigureData


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


BLOCK_CELLS = 1 << 20  # scores read a block of about a million weights at a time


def head_score(name: str, weights: np.ndarray, tokens: Sequence[str]) -> float:
    """One score (the module's definitions) of one head's ``[query, key]`` weights."""
    return head_scores(weights, tokens, [name])[name]


def head_scores(weights: np.ndarray, tokens: Sequence[str],
                names: Sequence[str]) -> dict[str, float]:
    """The scores ``names`` of one head's ``[query, key]`` weights, in one pass over blocks
    of rows (an 8,192-token head is 256 MB in float32: never copied whole, nor converted;
    a head computed from a model's q and k is computed once)."""
    unknown = [n for n in names if n not in SCORES]
    if unknown:
        raise SpecError(f"score: {unknown[0]!r} is not a score; choose from "
                        f"{', '.join(SCORES)}")
    n, k = weights.shape
    pairs = dict(repeats(tokens)) if any(s in names for s in NEEDS_REPEATS) else {}
    sums = dict.fromkeys(("sink", "previous", "self", "local", "entropy"), 0.0)
    copies: dict[str, list[float]] = {"duplicate": [], "induction": []}
    step = max(1, BLOCK_CELLS // max(1, k))
    columns = np.arange(k, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, step):
            block = np.asarray(weights[start:start + step], dtype=np.float64)
            rows = np.arange(start, start + len(block))
            _add_block(sums, block, rows, columns, names)
            for i in (r for r in rows.tolist() if r in pairs):
                earlier = pairs[i]
                copies["duplicate"].append(float(block[i - start, earlier].sum()))
                later = [e + 1 for e in earlier if e + 1 < i]
                copies["induction"].append(float(block[i - start, later].sum()))
    counts = {"sink": n - 1, "previous": min(n - 1, k), "self": min(n, k), "local": n,
              "entropy": n}
    out = {name: (sums[name] / counts[name] if counts[name] > 0 else 0.0)
           for name in counts if name in names}
    for name in NEEDS_REPEATS:
        if name in names:
            out[name] = float(np.mean(copies[name])) if copies[name] else float("nan")
    return {name: out[name] for name in names}


def _add_block(sums: dict[str, float], block: np.ndarray, rows: np.ndarray,
               columns: np.ndarray, names: Sequence[str]) -> None:
    """Add one block of rows (``rows`` are their positions) to the running sums."""
    k = block.shape[1]
    if "sink" in names:
        sums["sink"] += float(block[rows >= 1, 0].sum())
    if "previous" in names:
        r = rows[(rows >= 1) & (rows - 1 < k)]
        sums["previous"] += float(block[r - rows[0], r - 1].sum())
    if "self" in names:
        r = rows[rows < k]
        sums["self"] += float(block[r - rows[0], r].sum())
    if "local" in names:
        distance = np.abs(rows[:, None].astype(np.float64) - columns[None, :])
        sums["local"] += float((block * distance).sum())
    if "entropy" in names:
        p = np.where(block > 0, block, 1.0)
        sums["entropy"] += float(-(block * np.log2(p)).sum())


def score_maps(inputs: Sequence[FigureData], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Each score's layers x heads map, the mean over the inputs (one head at a time);
    a score that is not finite (weights far from probabilities) is refused, naming it."""
    first = inputs[0]
    maps = {s: np.zeros((len(first.stack_layers), len(first.stack_heads))) for s in names}
    for d in inputs:
        for r in range(len(d.stack_layers)):
            for c in range(len(d.stack_heads)):
                found = head_scores(d.stack_of(r, c), d.key_tokens, names)
                for s in names:
                    if not math.isfinite(found[s]):
                        raise SpecError(
                            f"score: the {s} score of {d.stack_layers[r]} {d.stack_heads[c]} "
                            f"is not a finite number (its weights are far from attention "
                            "probabilities); check the input, or choose other scores")
                    maps[s][r, c] += found[s] / len(inputs)
    return maps


def allowed(value: object, inputs: Sequence[Sequence[str]]) -> list[str]:
    """The scores asked for over several inputs' tokens, whatever their order: ``all`` is
    every score every input allows; induction and duplicate, named, need repeats in each."""
    text = "all" if value is None else str(value)
    if text.strip() == "all":
        return [s for s in SCORES if s not in NEEDS_REPEATS or all(repeats(t) for t in inputs)]
    for tokens in inputs:
        names = parse_scores(text, tokens)
    return names
