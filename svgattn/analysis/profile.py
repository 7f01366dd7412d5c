"""Per-layer profiles (the profile view): one number per head for each series, read layer by
layer. A series is a head score (:mod:`svgattn.analysis.head_scores`: sink, previous,
entropy ...) or the share of attention a head gives to keys of one token string (Clark et
al. 2019, "What Does BERT Look At?": [CLS], [SEP], "." and ","), averaged over the
queries, and over the inputs when there are several."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, quote
from .figure import FigureData
from .head_scores import SCORES, allowed, head_scores


@dataclass(frozen=True)
class Series:
    """One line of a profile: its name, its unit (``share``, ``bits``, ``tokens``), and
    its values per (layer, head), the mean over the inputs."""

    name: str
    kind: str
    values: np.ndarray  # [layers, heads]
    inputs: int = 0  # how many inputs it is the mean of (0: all of them)

    @property
    def means(self) -> np.ndarray:
        return self.values.mean(axis=1)


def token_shares(data: FigureData, token: str) -> np.ndarray:
    """Each head's mean share of a query's attention on the keys that are ``token`` (the
    raw string or its label), ``[layers, heads]``."""
    keys = [j for j, (raw, label) in enumerate(zip(data.key_tokens, data.key_labels,
                                                   strict=True)) if token in (raw, label)]
    out = np.zeros((len(data.stack_layers), len(data.stack_heads)))
    if not keys:
        return out
    for r in range(len(data.stack_layers)):
        for c in range(len(data.stack_heads)):
            weights = np.asarray(data.stack_of(r, c), dtype=np.float64)
            out[r, c] = float(weights[:, keys].sum(axis=1).mean())
    return out


def profile(inputs: Sequence[FigureData], scores: object, tokens: Sequence[str],
            where: str) -> list[Series]:
    """The series asked for: token shares first (in the order given), then scores."""
    first = inputs[0]
    if any((d.stack_layers, d.stack_heads) != (first.stack_layers, first.stack_heads)
           for d in inputs):
        raise SpecError(f"{where}: inputs: they hold other layers or heads; average inputs of "
                        "one model, with the same --layers and --heads")
    out = []
    for token in tokens:
        having = [d for d in inputs if token in (*d.key_tokens, *d.key_labels)]
        if not having:
            raise SpecError(f"{where}: to: {quote(token)} is not a token of the input; tokens "
                            f"are {', '.join(quote(t, 12) for t in first.key_labels[:8])} ...")
        # the mean over the inputs that have the token: one without it says nothing of it
        values = sum((token_shares(d, token) for d in having[1:]),
                     token_shares(having[0], token)) / len(having)
        shown = token if token[:1] in "[<" else f"\"{token}\""
        out.append(Series(f"to {shown}", "share", values, len(having)))
    names = [] if scores in (None, "none", "") else \
        allowed(scores, [d.key_tokens for d in inputs])
    if names and any(d.query_tokens != d.key_tokens for d in inputs):
        raise SpecError(f"{where}: score: head scores read self-attention; this input is "
                        "cross-attention (give to instead)")
    for name in names:
        values = np.zeros((len(first.stack_layers), len(first.stack_heads)))
        for d in inputs:
            for r in range(values.shape[0]):
                for c in range(values.shape[1]):
                    found = head_scores(d.stack_of(r, c), d.key_tokens, [name])[name]
                    if not math.isfinite(found):
                        raise SpecError(f"{where}: score: the {name} score of "
                                        f"{d.stack_layers[r]} {d.stack_heads[c]} is not finite"
                                        "; check the input")
                    values[r, c] += found / len(inputs)
        out.append(Series(name, SCORES[name].kind, values))
    if not out:
        raise SpecError(f"{where}: score: nothing to draw; give scores (sink, previous, ...) "
                        "or tokens with to")
    return out


def parse_tokens(value: object, where: str) -> list[str]:
    """``to``: a list of token strings (spec, API) or one string of them separated by
    spaces (the command line: ``--to "[CLS] [SEP] . ,"``)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split()
    if not all(isinstance(t, str) and t for t in items):
        raise SpecError(f"{where}: to: give token strings, e.g. \"[CLS] [SEP] . ,\"")
    return list(items)
