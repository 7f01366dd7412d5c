"""What a figure shows, derived once and shared by every view: the selected heads and
layers, cleaned labels, the combined (or difference) matrix, links, groups, sinks, the
caption. Views only lay this out.

Two ways in: :func:`from_attention` (real attention, any source, with a :class:`Request`
saying what to show) and :func:`from_explicit` (a spec file or ``Diagram(tokens, weights,
heads)``: the matrix and the heads' links are given).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..data import Attention, Explicit
from ..errors import SpecError, quote
from ..text.safe import visible, xml_safe
from ..units import integer_text
from . import tokens as tok
from .combine import combine, describe, rollout
from .difference import Subtrahend
from .groups import find_groups, group_heads
from .links import LinkRule, links_from_weights, warn_if_unlinked
from .reduce import Reduction, Span, identity
from .select import focused_heads, parse_selection
from .sinks import is_causal, sink_columns

GROUPS_UP_TO = 1024  # token groups are looked for in matrices up to this many rows


@dataclass(frozen=True, eq=False)
class HeadData:
    """One head: its display name, its own colour (or ``None`` for the theme's), the
    query-token rows it links to in the flow view, and its own weights if known."""

    name: str
    color: str | None
    links: tuple[int, ...]
    weights: np.ndarray | None = None
    layer: str = ""


@dataclass(frozen=True)
class Group:
    """Tokens ``start..stop-1`` attend among themselves; ``heads`` (indices) form it."""

    start: int
    stop: int
    heads: tuple[int, ...]


@dataclass(frozen=True)
class Request:
    """What to show of real attention (README "Real attention"): the figure options the
    analysis reads."""

    layer: object = None
    heads: object = None
    layers: object = None
    combine: str = "mean"
    links: LinkRule | None = None
    keep_sinks: bool = False
    hide_special: bool = False
    merge_words: bool = False
    leading_space: str = "hide"
    groups: bool = True
    title: str | None = None
    default_heads: str = "focused"
    minus: Attention | None = None
    minus_layer: object = None
    minus_head: object = None
    window: object = None
    pool: object = None

    @classmethod
    def of(cls, options: dict[str, Any], default_heads: str,
           minus: Attention | None = None) -> Request:
        """A request from validated figure options (absent ones take their defaults)."""
        names = {f for f in cls.__dataclass_fields__ if f not in ("default_heads", "minus")}
        given = {k: v for k, v in options.items() if k in names and v is not None}
        return cls(**given, default_heads=default_heads, minus=minus)


@dataclass(frozen=True, eq=False)
class FigureData:
    """The analysed figure (read-only arrays). ``matrix`` is query x key; ``stack`` is
    ``[layers, heads, query, key]`` of the selected layers and heads (small multiples).
    ``query_spans``/``key_spans`` are the original positions each row/column covers (a
    window or pooling shows fewer), so a token named by position is found either way."""

    query_tokens: tuple[str, ...]  # raw strings: what options such as focus match
    key_tokens: tuple[str, ...]
    query_labels: tuple[str, ...]  # what is drawn
    key_labels: tuple[str, ...]
    matrix: np.ndarray
    heads: tuple[HeadData, ...]
    stack_of: Callable[[], np.ndarray]  # the small multiples, made when a view asks
    stack_layers: tuple[str, ...]
    stack_heads: tuple[str, ...]
    title: str | None = None
    matrix_caption: str = ""  # where ``matrix`` came from (views that draw it say so)
    notes: tuple[str, ...] = ()  # selection and label notes every view states
    groups: tuple[Group, ...] = ()
    sinks: tuple[int, ...] = ()  # key columns the colour scale ignores
    signed: bool = False  # a difference: diverging colours centred on zero
    causal: bool = False  # no query attends to a later key
    key_spaced: tuple[bool, ...] = ()  # running text: a space before each key token
    query_spans: tuple[Span, ...] = ()
    key_spans: tuple[Span, ...] = ()
    total: tuple[int, int] = (0, 0)  # query and key tokens of the whole input

    @property
    def stack(self) -> np.ndarray:
        """``[layers, heads, query, key]`` of the selected layers and heads."""
        return self.stack_of()

    @property
    def cross(self) -> bool:
        return self.query_labels != self.key_labels or self.matrix.shape[0] != \
            self.matrix.shape[1]

    @property
    def caption(self) -> tuple[str, ...]:
        """The caption of a view that draws ``matrix``: its provenance, then the notes."""
        return tuple(x for x in (self.matrix_caption, *self.notes) if x)

    def index(self, ref: object, field_: str, where: str, *, query: bool = True) -> int:
        """The row (``query``) or column a token names: by raw string or label (an
        ambiguous one asks for a position), or by its position in the whole input
        (negative counts from the end), which a window or pooling does not change."""
        raw = self.query_tokens if query else self.key_tokens
        labels = self.query_labels if query else self.key_labels
        if isinstance(ref, str) and integer_text(ref) and ref not in raw and ref not in labels:
            ref = int(ref)
        if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
            return self._at(int(ref), field_, where, query)
        if not isinstance(ref, str):
            raise SpecError(f"{where}: {field_}: {quote(ref)} is neither a token nor a position")
        for names in (raw, labels):
            hits = [i for i, t in enumerate(names) if t == ref]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise SpecError(f"{where}: {field_}: token {quote(ref)} occurs {len(hits)} times "
                                f"(at {hits[:8]}); name it by position instead")
        shown = ", ".join(quote(t, 16) for t in labels[:8]) + (" ..." if len(labels) > 8 else "")
        raise SpecError(f"{where}: {field_}: {quote(ref)} is not one of the tokens; tokens are "
                        f"{shown}")

    def _at(self, position: int, field_: str, where: str, query: bool) -> int:
        spans = self.query_spans if query else self.key_spans
        n = self.total[0 if query else 1] or len(spans)
        if not -n <= position < n:
            raise SpecError(f"{where}: {field_}: position {position} is out of range; tokens are "
                            f"numbered 0..{n - 1}")
        position %= n
        for row, (start, stop) in enumerate(spans):
            if start <= position < stop:
                return row
        raise SpecError(f"{where}: {field_}: token {position} is outside the tokens shown "
                        f"({spans[0][0]}\u2013{spans[-1][1] - 1}); widen the window or name "
                        "another token")


def _frozen(array: np.ndarray, *, owned: bool = False) -> np.ndarray:
    """A read-only float64 array. The caller's arrays are copied (freezing them would
    change the caller's object); one computed here (``owned``) is not: a 4096-token
    matrix is 128 MB."""
    out = np.ascontiguousarray(array, dtype=np.float64)
    if not owned and (out is array or (out.base is not None and not out.flags.writeable)):
        out = out.copy()
    out.setflags(write=False)
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view (no copy)."""
    view = array.view()
    view.setflags(write=False)
    return view


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
            square: bool, where: str) -> tuple[np.ndarray, str]:
    """The combined matrix of the whole input, and where it came from."""
    names = [att.head_names[h] for h in pick.heads]
    total = len(att.head_names)
    if request.combine == "rollout":
        if not square:
            raise SpecError(f"{where}: combine: rollout needs self-attention; this input is "
                            "cross-attention")
        return (rollout(weights[: pick.layer + 1][:, pick.heads]),
                describe("rollout", att.layer_names[pick.layer], names, total,
                         att.layer_names[0]))
    return (combine(weights[pick.layer], request.combine, pick.heads),
            describe(request.combine, att.layer_names[pick.layer], names, total))


def from_attention(att: Attention, request: Request | None = None) -> FigureData:
    """Analyse real attention for a figure (README "Real attention"). Arrays are read
    where they lie: only the selected layer's heads and the combined matrix are copied
    (a 4096-token head is 64 MB in float32). A window or pooling applies to what is shown,
    after the rollout, the sinks and the choice of heads have seen the whole input."""
    request = request or Request()
    where = att.source
    prepared = tok.prepare(att.weights, list(att.query_tokens), list(att.key_tokens),
                           request.hide_special, request.merge_words, request.leading_space,
                           where)
    weights, notes = prepared.weights, list(prepared.notes)
    q_raw, k_raw = prepared.query_raw, prepared.key_raw
    square = q_raw == k_raw
    li = att.layer_index(request.layer)
    causal = square and is_causal(weights[li])
    sinks = [] if request.keep_sinks else sink_columns(k_raw, weights[li], causal)
    reduce = Reduction.of(request.window, request.pool, len(q_raw), len(k_raw), square, where)
    if reduce.active:
        notes.append(reduce.note() + (" of the rollout over every token"
                                      if request.combine == "rollout" else ""))
    pick = _select(att, weights, request, li, sinks, where)
    notes += pick.notes
    matrix, caption = _matrix(att, weights, request, pick, square, where)
    signed = False
    if request.minus is not None or request.minus_layer is not None or \
            request.minus_head is not None:
        other = Subtrahend(att, request, prepared, pick.layer, pick.heads, where)
        matrix = matrix - other.matrix(matrix.shape)
        signed = True
        caption += "; " + other.caption()
    if causal and not signed:
        caption += "; causal: cells above the diagonal are 0"
    return _figure(att, request, prepared, weights, pick, reduce, matrix, caption, notes,
                   sinks, signed, causal)


def _figure(att: Attention, request: Request, prepared: tok.Prepared, weights: np.ndarray,
            pick: _Selection, reduce: Reduction, matrix: np.ndarray, caption: str,
            notes: list[str], sinks: list[int], signed: bool, causal: bool) -> FigureData:
    """The figure data of a reduced (windowed, pooled) selection."""
    q_raw, q_labels = reduce.tokens(prepared.query_raw, prepared.query_labels, query=True)
    k_raw, k_labels = reduce.tokens(prepared.key_raw, prepared.key_labels, query=False)
    shown_sinks = reduce.columns(sinks) if reduce.active else sinks
    rule = replace(request.links or LinkRule(top_k=3), ignore=tuple(shown_sinks))
    layer = att.layer_names[pick.layer]
    heads = []
    for h in pick.heads:
        own = _readonly(np.asarray(reduce.matrix(weights[pick.layer, h])))
        heads.append(HeadData(xml_safe(f"{layer} {att.head_names[h]}"), None,
                              tuple(links_from_weights(own, rule)), own, layer))
    matrix = reduce.matrix(matrix)
    found: tuple[Group, ...] = ()
    if request.groups and not signed and matrix.shape[0] <= GROUPS_UP_TO:
        found = tuple(Group(lo, hi, tuple(group_heads((lo, hi), [h.links for h in heads])))
                      for lo, hi in find_groups(matrix))
    rows = pick.layers if len(pick.layers) else [pick.layer]
    names = [att.head_names[h] for h in pick.heads]
    return FigureData(
        query_tokens=tuple(q_raw), key_tokens=tuple(k_raw),
        query_labels=tuple(visible(t) for t in q_labels),
        key_labels=tuple(visible(t) for t in k_labels), matrix=_frozen(matrix, owned=True),
        heads=tuple(heads), stack_of=lambda: reduce.matrix(weights[rows][:, pick.heads]),
        stack_layers=tuple(xml_safe(att.layer_names[i]) for i in pick.layers),
        stack_heads=tuple(xml_safe(n) for n in names),
        title=None if not request.title else xml_safe(request.title), groups=found,
        sinks=tuple(shown_sinks), signed=signed, causal=causal,
        key_spaced=tuple(reduce.spacing(prepared.key_spaced)),
        matrix_caption=xml_safe(caption),
        notes=tuple(xml_safe(n[:1].upper() + n[1:]) for n in notes if n),
        query_spans=reduce.spans(query=True), key_spans=reduce.spans(query=False),
        total=reduce.total)


def from_explicit(given: Explicit, *, title: str | None = None, caption: str | None = None,
                  links: LinkRule | None = None, groups: bool = False,
                  where: str = "Diagram") -> FigureData:
    """A figure whose matrix and heads are given (spec files, ``Diagram(...)``): heads
    given weights instead of tokens link by ``links`` (README "How links are derived")."""
    rule = links or LinkRule()
    head_data = []
    for h in given.heads:
        own = None if h.weights is None else _frozen(h.weights)
        linked = h.links if h.links is not None else (
            tuple(links_from_weights(own, rule)) if own is not None else ())
        head_data.append(HeadData(xml_safe(h.name), h.color, tuple(linked), own))
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
    positions = identity(len(q), len(k))
    return FigureData(
        query_tokens=tuple(q), key_tokens=tuple(k),
        query_labels=tuple(visible(t) for t in q), key_labels=tuple(visible(t) for t in k),
        matrix=_frozen(given.matrix), heads=tuple(head_data), stack_of=lambda: stack,
        stack_layers=("",),
        stack_heads=tuple(h.name for h in head_data if h.weights is not None) or ("",),
        title=None if not title else xml_safe(title), groups=found,
        causal=square and is_causal(np.asarray(given.matrix)),
        key_spaced=(False,) + (True,) * (len(k) - 1), matrix_caption=xml_safe(caption or ""),
        query_spans=positions.spans(query=True), key_spans=positions.spans(query=False),
        total=positions.total)

