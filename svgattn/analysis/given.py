"""A figure given by hand (a spec file, ``Diagram(tokens, weights, heads)``): the matrix
and the heads' links are given, or a head's links are derived from its own weights
(docs: "How links are derived from a head's own weights")."""

from __future__ import annotations

import numpy as np

from ..data import Explicit
from ..text.safe import visible
from .figure import FigureData, Group, HeadData, frozen
from .groups import find_groups, group_heads
from .links import LinkRule, links_from_weights, warn_if_unlinked
from .sinks import is_causal


def from_explicit(given: Explicit, *, title: str | None = None, caption: str | None = None,
                  links: LinkRule | None = None, groups: bool = False,
                  where: str = "Diagram") -> FigureData:
    """A figure whose matrix and heads are given (spec files, ``Diagram(...)``): heads
    given weights instead of tokens link by ``links`` (docs: "How links are derived")."""
    rule = links or LinkRule()
    head_data = []
    for h in given.heads:
        own = None if h.weights is None else frozen(h.weights)
        linked = h.links if h.links is not None else (
            tuple(links_from_weights(own, rule)) if own is not None else ())
        head_data.append(HeadData(h.name, h.color, tuple(linked), own))
    warn_if_unlinked([h.weights for h in given.heads if h.links is None], rule, where)
    own_weights = [h.weights for h in head_data if h.weights is not None]
    stack = (np.stack(own_weights)[None] if own_weights else np.asarray(given.matrix)[None, None])
    stack.setflags(write=False)
    found: tuple[Group, ...] = ()
    if groups:
        found = tuple(Group(lo, hi, tuple(group_heads((lo, hi), [h.links for h in head_data])))
                      for lo, hi in find_groups(np.asarray(given.matrix)))
    q, k = given.query_tokens, given.key_tokens
    square = tuple(q) == tuple(k)
    spans = (tuple((i, i + 1) for i in range(len(q))), tuple((j, j + 1) for j in range(len(k))))
    return FigureData(
        query_tokens=tuple(q), key_tokens=tuple(k),
        query_labels=tuple(visible(t) for t in q), key_labels=tuple(visible(t) for t in k),
        matrix=frozen(given.matrix), heads=tuple(head_data), stack_of=lambda r, c: stack[r, c],
        stack_layers=("",),
        stack_heads=tuple(h.name for h in head_data if h.weights is not None) or ("",),
        title=title or None, groups=found,
        causal=square and is_causal(np.asarray(given.matrix)),
        key_spaced=(False,) + (True,) * (len(k) - 1), matrix_caption=caption or "",
        query_spans=spans[0], key_spans=spans[1], total=(len(q), len(k)))
