"""Derive a figure from real attention: a :class:`Request` (the figure options the
analysis reads) run through stages: tokens (hide special tokens, merge word pieces),
causality and sinks, the window and pooling, the heads and layers shown, the combined
matrix (or rollout, or a difference), then links and groups of what is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..captions import MODES
from ..data import Attention
from ..errors import SpecError
from ..patches import Patches
from ..text.safe import visible
from . import tokens as tok
from .combine import combined_rows, describe, rollout, summary
from .difference import Subtrahend
from .figure import FigureData, Group, HeadData, frozen, readonly
from .groups import find_groups, group_heads
from .links import LinkRule, links_from_weights
from .neuron import HeadVectors
from .reduce import DISPLAY, Read, Reduction
from .request import Request
from .select import focused_heads, parse_selection
from .sinks import is_causal, sink_columns

GROUPS_UP_TO = 1024  # token groups are looked for in matrices up to this many rows
ROLLOUT_UP_TO = DISPLAY  # a rollout multiplies n x n matrices: n**3 per layer


@dataclass
class _Selection:
    """The heads and layers a figure shows, and what the caption must say about them."""

    layer: int
    heads: list[int]
    layers: list[int]
    notes: list[str] = field(default_factory=list)


def _select(att: Attention, weights: np.ndarray, request: Request, li: int, sinks: list[int],
            where: str) -> _Selection:
    head_names = list(att.head_names)
    chosen = parse_selection(request.heads, head_names, "heads", where)
    notes = []
    if chosen is None:
        if request.default_heads == "focused" and request.combine != "rollout":
            chosen = focused_heads(weights[li], sinks)
            if len(chosen) < len(head_names):
                notes.append(f"heads {', '.join(head_names[h] for h in chosen)}: the "
                             f"{len(chosen)} most focused of {len(head_names)} (lowest "
                             "attention entropy)")
        else:
            chosen = list(range(len(head_names)))
    layers = parse_selection(request.layers, att.layer_names, "layers", where)
    return _Selection(li, chosen, layers if layers is not None else
                      list(range(len(att.layer_names))), notes)


def _matrix(att: Attention, weights: np.ndarray, request: Request, pick: _Selection,
            square: bool, where: str) -> tuple[Read | np.ndarray, type, str]:
    """What the figure's matrix is made from (rows of the whole input, read a block at a
    time), its precision, and where it came from."""
    names = [att.head_names[h] for h in pick.heads]
    total = len(att.head_names)
    if request.combine == "rollout":
        if not square:
            raise SpecError(f"{where}: combine: rollout needs self-attention; this input is "
                            "cross-attention")
        n = weights.shape[-1]
        if n > ROLLOUT_UP_TO:
            raise SpecError(f"{where}: combine: rollout multiplies {n:,} x {n:,} matrices, "
                            f"layer by layer; it takes at most {ROLLOUT_UP_TO:,} tokens: "
                            "shorten the text, or combine by mean")
        flow = rollout(weights[: pick.layer + 1][:, pick.heads])
        return (flow, np.float64,
                describe("rollout", att.layer_names[pick.layer], names, total,
                         att.layer_names[0]))
    return (combined_rows(weights[pick.layer], request.combine, pick.heads),
            np.float32 if weights.dtype == np.float32 else np.float64,
            describe(request.combine, att.layer_names[pick.layer], names, total))


@dataclass
class _Stages:
    """What the stages derived from the whole input, before the window and pooling."""

    prepared: tok.Prepared
    reduce: Reduction
    pick: _Selection
    sinks: list[int]
    causal: bool
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    caption: str = ""
    short: str = ""
    signed: bool = False
    notes: list[str] = field(default_factory=list)


def from_attention(att: Attention, request: Request | None = None) -> FigureData:
    """Analyse real attention for a figure (docs: "Real attention"). Arrays are read
    where they lie: only the selected layer's heads and the combined matrix are copied
    (a 4096-token head is 64 MB in float32). A window or pooling applies to what is shown,
    after the rollout, the sinks and the choice of heads have seen the whole input."""
    request = request or Request()
    where = att.source
    prepared = tok.prepare(att.weights, list(att.query_tokens), list(att.key_tokens),
                           request.hide_special, request.merge_words, request.leading_space,
                           where)
    weights = prepared.weights
    square = prepared.query_raw == prepared.key_raw
    li = att.layer_index(request.layer)
    causal = square and is_causal(weights[li])
    sinks = [] if request.keep_sinks else sink_columns(prepared.key_raw, weights[li], causal)
    reduce = Reduction.of(request.window, request.pool, len(prepared.query_raw),
                          len(prepared.key_raw), square, where, fit=request.fit)
    notes = list(prepared.notes)
    if att.generated is not None:
        notes.append(f"tokens {att.generated}\u2013{att.shape[2] - 1} are generated (where a "
                     "view labels tokens, in colour; on a matrix, after a line)")
    if reduce.active:
        notes.append(reduce.note() + (" of the rollout over every token"
                                      if request.combine == "rollout" else ""))
    pick = _select(att, weights, request, li, sinks, where)
    stages = _Stages(prepared, reduce, pick, sinks, causal, notes=notes + pick.notes)
    read, dtype, stages.caption = _matrix(att, weights, request, pick, square, where)
    stages.short = summary(request.combine, att.layer_names[pick.layer],
                           [att.head_names[h] for h in pick.heads], len(att.head_names),
                           att.layer_names[0])
    if request.minus is not None or request.minus_layer is not None or \
            request.minus_head is not None:
        other = Subtrahend(att, request, prepared, pick.layer, pick.heads, where)
        read = other.subtracted_from(read, weights.shape[-1])
        dtype = np.float64
        stages.signed = True
        stages.caption += "; " + other.caption()
        stages.short += "; " + other.caption()
    stages.matrix = reduce.rows(read, dtype)
    if causal and not stages.signed:
        stages.caption += "; causal: each query sees the keys up to itself"
        stages.short += "; causal"
    return _figure(att, request, stages)


def _figure(att: Attention, request: Request, st: _Stages) -> FigureData:
    """The figure data of what is shown: the reduced (windowed, pooled) selection."""
    reduce, pick, weights = st.reduce, st.pick, st.prepared.weights
    q_raw, q_labels = reduce.tokens(st.prepared.query_raw, st.prepared.query_labels,
                                    query=True)
    k_raw, k_labels = reduce.tokens(st.prepared.key_raw, st.prepared.key_labels, query=False)
    shown_sinks = reduce.columns(st.sinks) if reduce.active else st.sinks
    rule = replace(request.links or LinkRule(top_k=3), ignore=tuple(shown_sinks),
                   causal=st.causal)
    layer = att.layer_names[pick.layer]

    def link(shown: np.ndarray) -> tuple[int, ...]:
        return tuple(links_from_weights(shown, rule))

    def read(h: int) -> Callable[[], np.ndarray]:
        return lambda: weights[pick.layer, h]

    heads = [HeadData(f"{layer} {att.head_names[h]}", None, layer=layer,
                      make=_head(reduce, read(h)), link=link) for h in pick.heads]
    matrix = st.matrix
    found: tuple[Group, ...] = ()
    if request.groups and not st.signed and matrix.shape[0] <= GROUPS_UP_TO:
        found = tuple(Group(lo, hi, tuple(group_heads((lo, hi), [h.links for h in heads])))
                      for lo, hi in find_groups(matrix))
    rows = pick.layers if len(pick.layers) else [pick.layer]
    names = [att.head_names[h] for h in pick.heads]
    return FigureData(
        vectors=_vectors(att, st, pick.layer, pick.heads),
        query_tokens=tuple(q_raw), key_tokens=tuple(k_raw),
        query_labels=tuple(visible(t) for t in q_labels),
        key_labels=tuple(visible(t) for t in k_labels), matrix=frozen(matrix, owned=True),
        heads=tuple(heads),
        stack_of=lambda r, c: reduce.matrix(weights[rows[r], pick.heads[c]]),
        stack_layers=tuple(att.layer_names[i] for i in pick.layers),
        stack_heads=tuple(names),
        title=request.title or None, groups=found,
        sinks=tuple(shown_sinks), signed=st.signed, causal=st.causal,
        key_spaced=tuple(reduce.spacing(st.prepared.key_spaced)),
        matrix_caption=st.caption, short_caption=st.short,
        headline="" if request.caption in (None, *MODES) else str(request.caption),
        notes=(*att.notes, *(n[:1].upper() + n[1:] for n in st.notes if n)),
        query_spans=reduce.spans(query=True), key_spans=reduce.spans(query=False),
        total=reduce.total, pooling=(reduce.method, reduce.size),
        generated=_generated(att, st), patches=_patches(att, st))


def _patches(att: Attention, st: _Stages) -> Patches | None:
    """The source's grid of patches, when the tokens shown are the source's own."""
    if att.patches is None or st.reduce.active or \
            st.prepared.query_raw != list(att.query_tokens) or \
            st.prepared.key_raw != list(att.key_tokens):
        return None
    return att.patches


def _generated(att: Attention, st: _Stages) -> tuple[int | None, int | None]:
    """The first shown row and column of generated tokens (a pooled block that holds the
    last prompt token is the prompt's)."""
    boundary = att.generated
    if boundary is None:
        return None, None
    square = st.prepared.query_raw == st.prepared.key_raw

    def first(origin: tuple[int, ...], spans: tuple[tuple[int, int], ...]) -> int | None:
        start = next((i for i, o in enumerate(origin) if o >= boundary), None)
        if start is None:
            return None
        return next((r for r, (a, _) in enumerate(spans) if a >= start), None)

    row = first(st.prepared.query_origin, st.reduce.spans(query=True))
    column = first(st.prepared.key_origin, st.reduce.spans(query=False)) if square else None
    return row, column


def _head(reduce: Reduction, read: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """How a head's weights as shown (windowed, pooled) are made, when a view first asks:
    a view that draws only the combined matrix never computes them (nor reads them: a long
    input's head is computed or read from its file only then)."""
    def make() -> np.ndarray:
        shown = reduce.matrix(read())
        return readonly(shown) if isinstance(shown, np.ndarray) else shown
    return make


def _vectors(att: Attention, st: _Stages, layer: int,
             heads: list[int]) -> tuple[HeadVectors, ...] | None:
    """The query and key vectors of the heads shown, when the rows and columns shown are
    the source's own tokens (vectors of merged, hidden or pooled tokens do not exist)."""
    if att.queries is None or att.scaling is None or st.reduce.active or \
            st.prepared.query_raw != list(att.query_tokens) or \
            st.prepared.key_raw != list(att.key_tokens):
        return None
    out = []
    for h in heads:
        found = att.vectors(layer, h)
        assert found is not None
        out.append(HeadVectors(found[0], found[1], att.scaling[layer], att.source))
    return tuple(out)
