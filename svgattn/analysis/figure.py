"""What a figure shows, derived once and shared by every view: the selected heads and
layers, cleaned labels, the combined (or difference) matrix, links, groups, sinks, the
caption. Views only lay this out.

Two ways in: :func:`from_attention` (real attention, any source) and
:func:`from_explicit` (a spec file or ``Diagram(tokens, weights, heads)``: the matrix and
the heads' links are given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..data import Attention
from ..errors import SpecError, quote
from ..text.safe import visible, xml_safe
from ..units import integer_text
from . import tokens as tok
from .combine import combine, describe, rollout
from .groups import find_groups, group_heads
from .links import LinkRule, links_from_weights
from .select import focused_heads, index_of, parse_selection
from .sinks import is_causal, sink_columns


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


@dataclass(frozen=True, eq=False)
class FigureData:
    """The analysed figure (read-only arrays). ``matrix`` is query x key; ``stack`` is
    ``[layers, heads, query, key]`` of the selected layers and heads (small multiples)."""

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
    key_spaced: tuple[bool, ...] = ()  # running text: a space before each key token
    meta: dict[str, object] = field(default_factory=dict)

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


def token_index(ref: object, raw: Sequence[str], labels: Sequence[str], field_: str,
                where: str) -> int:
    """A token named by index, raw string or label; an ambiguous name asks for an index."""
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if not -len(raw) <= int(ref) < len(raw):
            raise SpecError(f"{where}: {field_}: index {ref} is out of range; tokens are "
                            f"numbered 0..{len(raw) - 1}")
        return int(ref) % len(raw)
    if not isinstance(ref, str):
        raise SpecError(f"{where}: {field_}: {quote(ref)} is neither a token nor an index")
    if integer_text(ref) and ref not in raw and ref not in labels:
        return token_index(int(ref), raw, labels, field_, where)
    for pool in (raw, labels):
        hits = [i for i, t in enumerate(pool) if t == ref]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise SpecError(f"{where}: {field_}: token {quote(ref)} occurs {len(hits)} times (at "
                            f"{hits[:8]}); name it by index instead")
    shown = ", ".join(quote(t, 16) for t in labels[:8]) + (" ..." if len(labels) > 8 else "")
    raise SpecError(f"{where}: {field_}: {quote(ref)} is not one of the tokens; tokens are "
                    f"{shown}")


def from_attention(att: Attention, *, layer: object = None, heads: object = None,
                   layers: object = None, combine_by: str = "mean",
                   links: LinkRule | None = None, keep_sinks: bool = False,
                   hide_special: bool = False, merge_words: bool = False,
                   leading_space: str = "hide", groups: bool = True, title: str | None = None,
                   default_heads: str = "focused", minus: Attention | None = None,
                   minus_layer: object = None, minus_head: object = None,
                   window: object = None, pool: object = None) -> FigureData:
    """Analyse real attention for a figure (README "Real attention"). Arrays are read
    where they lie: only the selected layer's heads and the combined matrix are copied
    (a 4096-token head is 64 MB in float32)."""
    where = att.source
    if leading_space not in ("hide", "mark"):
        raise SpecError(f"{where}: leading_space: {quote(leading_space)} is not hide or mark")
    li = att.layer_index(layer)
    weights = att.weights  # [L, H, Q, K], read-only, not copied
    q_raw, k_raw = list(att.query_tokens), list(att.key_tokens)

    # --- tokens: hide special tokens, merge word pieces, clean labels; window, pool -----
    weights, q_raw, k_raw, q_labels, k_labels, k_spaced, notes = _tokens(
        weights, q_raw, k_raw, hide_special, merge_words, leading_space, where)
    square = q_raw == k_raw
    causal = square and is_causal(weights[li])
    sinks = [] if keep_sinks else sink_columns(k_raw, weights[li], causal)
    transform = _Reduce(len(q_raw), len(k_raw), square, window, pool, where)
    if transform.active:
        weights = transform.weights(weights)
        q_raw, q_labels = transform.tokens(q_raw, q_labels, query=True)
        k_raw, k_labels = transform.tokens(k_raw, k_labels, query=False)
        k_spaced = transform.spacing(k_spaced)
        sinks = transform.sinks(sinks)
        notes.append(transform.note())

    # --- heads and layers ---------------------------------------------------------------
    head_names = list(att.head_names)
    chosen = parse_selection(heads, head_names, "heads", where)
    if chosen is None:
        if default_heads == "focused" and combine_by != "rollout":
            chosen = focused_heads(weights[li], sinks)
            if len(chosen) < len(head_names):
                notes.append(f"heads {', '.join(head_names[h] for h in chosen)}: the "
                             f"{len(chosen)} most focused of {len(head_names)} (lowest "
                             "attention entropy)")
        else:
            chosen = list(range(len(head_names)))
    layer_names = list(att.layer_names)
    stack_layers = parse_selection(layers, layer_names, "layers", where)
    if stack_layers is None:
        stack_layers = list(range(len(layer_names)))
    names = [head_names[h] for h in chosen]

    # --- the matrix ---------------------------------------------------------------------
    if combine_by == "rollout":
        if not square:
            raise SpecError(f"{where}: combine: rollout needs self-attention; this input is "
                            "cross-attention")
        matrix = rollout(weights[: li + 1][:, chosen])
        caption = describe("rollout", layer_names[li], names, len(head_names), layer_names[0])
    else:
        matrix = combine(weights[li], combine_by, chosen)
        caption = describe(combine_by, layer_names[li], names, len(head_names))
    signed = False
    if minus is not None or minus_layer is not None or minus_head is not None:
        if minus is not None:
            if minus.query_tokens != att.query_tokens or minus.key_tokens != att.key_tokens:
                raise SpecError(f"{where}: minus: {minus.source} has other tokens; a difference "
                                "needs attention over the same input")
            if minus.shape[:2] != att.shape[:2]:
                raise SpecError(f"{where}: minus: {minus.source} has {minus.shape[0]} layers x "
                                f"{minus.shape[1]} heads, this one {att.shape[0]} x "
                                f"{att.shape[1]}")
            other_weights = _tokens(minus.weights, list(minus.query_tokens),
                                    list(minus.key_tokens), hide_special, merge_words,
                                    leading_space, where)[0]
            if transform.active:
                other_weights = transform.weights(other_weights)
        else:
            other_weights = weights
        other = _subtrahend(att, other_weights, minus is not None, minus_layer, minus_head, li,
                            chosen, combine_by, where)
        if other.shape != matrix.shape:
            raise SpecError(f"{where}: minus: the other matrix is {other.shape[0]}x"
                            f"{other.shape[1]}, this one {matrix.shape[0]}x{matrix.shape[1]}; "
                            "compare attention over the same tokens")
        matrix = matrix - other
        signed = True
        caption += "; " + _minus_caption(minus, minus_layer, minus_head, att)
    if causal and not signed:
        caption += "; causal: cells above the diagonal are 0"

    # --- links and groups ---------------------------------------------------------------
    rule = links or LinkRule(top_k=3)
    rule = replace(rule, ignore=tuple(sinks))
    head_data = tuple(
        HeadData(xml_safe(f"{layer_names[li]} {head_names[h]}"), None,
                 tuple(links_from_weights(weights[li, h], rule)), _readonly(weights[li, h]),
                 layer_names[li]) for h in chosen)
    found: tuple[Group, ...] = ()
    if groups and not signed and matrix.shape[0] <= GROUPS_UP_TO:
        found = tuple(Group(lo, hi, tuple(group_heads((lo, hi), [h.links for h in head_data])))
                      for lo, hi in find_groups(matrix))
    rows = stack_layers if len(stack_layers) else [li]
    data = FigureData(
        query_tokens=tuple(q_raw), key_tokens=tuple(k_raw),
        query_labels=tuple(visible(t) for t in q_labels),
        key_labels=tuple(visible(t) for t in k_labels), matrix=_frozen(matrix, owned=True),
        heads=head_data, stack_of=lambda: weights[rows][:, chosen],
        stack_layers=tuple(xml_safe(layer_names[i]) for i in stack_layers),
        stack_heads=tuple(xml_safe(n) for n in names), title=None if not title else xml_safe(title),
        groups=found, sinks=tuple(sinks), signed=signed, key_spaced=tuple(k_spaced),
        matrix_caption=xml_safe(caption),
        notes=tuple(xml_safe(n[:1].upper() + n[1:]) for n in notes),
        meta={"layer": layer_names[li], "causal": causal, "combine": combine_by})
    return data


GROUPS_UP_TO = 1024  # token groups are looked for in matrices up to this many rows


class _Reduce:
    """A token window (``A:B``) and pooling over blocks (``mean:K``/``max:K``), applied to
    queries and keys alike (for cross-attention, to each axis within its length)."""

    def __init__(self, q: int, k: int, square: bool, window: object, pool: object,
                 where: str) -> None:
        from .reduce import parse_pool, parse_window

        self.active = window is not None or pool is not None
        self.q_window = parse_window(window, q, where) if window is not None else (0, q)
        self.k_window = (self.q_window if square else
                         parse_window(window, k, where) if window is not None else (0, k))
        self.method, self.size = parse_pool(pool, where) if pool is not None else ("mean", 1)
        self.total = (q, k)

    def weights(self, weights: np.ndarray) -> np.ndarray:
        from .reduce import pool

        (qa, qb), (ka, kb) = self.q_window, self.k_window
        out = weights[..., qa:qb, ka:kb]
        return pool(out, self.size, self.method) if self.size > 1 else out

    def tokens(self, raw: list[str], labels: list[str], *, query: bool) -> tuple[list[str],
                                                                               list[str]]:
        from .reduce import pooled_labels

        a, b = self.q_window if query else self.k_window
        raw, labels = raw[a:b], labels[a:b]
        if self.size > 1:
            positions = pooled_labels(a, b, self.size)
            # a block is named by its first token and the positions it covers
            shown = [f"{labels[k * self.size]} {p}" for k, p in enumerate(positions)]
            return positions, shown
        return raw, labels

    def spacing(self, spaced: list[bool]) -> list[bool]:
        a, b = self.k_window
        spaced = spaced[a:b]
        return spaced[:: self.size] if self.size > 1 else spaced

    def sinks(self, sinks: list[int]) -> list[int]:
        a, b = self.k_window
        inside = [s - a for s in sinks if a <= s < b]
        return sorted({s // self.size for s in inside})

    def note(self) -> str:
        parts = []
        (qa, qb), (ka, kb) = self.q_window, self.k_window
        if (qa, qb) != (0, self.total[0]) or (ka, kb) != (0, self.total[1]):
            parts.append(f"tokens {qa}\u2013{qb - 1} of {self.total[0]}" if (qa, qb) == (ka, kb)
                         else f"queries {qa}\u2013{qb - 1}, keys {ka}\u2013{kb - 1}")
        if self.size > 1:
            parts.append(f"pooled: {self.method} over {self.size}x{self.size} token blocks")
        return "; ".join(parts)


def _tokens(weights: np.ndarray, q_raw: list[str], k_raw: list[str], hide_special: bool,
            merge_words: bool, leading_space: str, where: str) -> tuple[
                np.ndarray, list[str], list[str], list[str], list[str], list[bool], list[str]]:
    """Hide special tokens and merge word pieces (on every layer and head), clean labels:
    (weights, query raw, key raw, query labels, key labels, key spacing, notes)."""
    notes: list[str] = []
    if hide_special:
        keep_q = [i for i, t in enumerate(q_raw) if not tok.is_special(t)]
        keep_k = [i for i, t in enumerate(k_raw) if not tok.is_special(t)]
        if not keep_q or not keep_k:
            raise SpecError(f"{where}: hide_special: every token is special; drop the option")
        weights = weights[:, :, keep_q][:, :, :, keep_k]
        sums = weights.sum(axis=-1, keepdims=True)
        weights = np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)
        q_raw = [q_raw[i] for i in keep_q]
        k_raw = [k_raw[i] for i in keep_k]
        notes.append("special tokens hidden, rows renormalised")
    q_bytes, k_bytes = tok.byte_level(q_raw), tok.byte_level(k_raw)
    if merge_words:
        q_spans, k_spans = tok.word_spans(q_raw), tok.word_spans(k_raw)
        weights = tok.merge_spans(weights, q_spans, k_spans)
        q_labels = [tok.merged_label(q_raw, s, leading_space, q_bytes) for s in q_spans]
        k_labels = [tok.merged_label(k_raw, s, leading_space, k_bytes) for s in k_spans]
        k_spaced = [tok.spaced(k_raw[s[0]], k_bytes) for s in k_spans]
        q_raw = ["".join(q_raw[i] for i in s) for s in q_spans]
        k_raw = ["".join(k_raw[i] for i in s) for s in k_spans]
        notes.append("word pieces merged")
    else:
        q_labels = [tok.clean(t, leading_space, q_bytes) for t in q_raw]
        k_labels = [tok.clean(t, leading_space, k_bytes) for t in k_raw]
        k_spaced = [tok.spaced(t, k_bytes) for t in k_raw]
    return weights, q_raw, k_raw, q_labels, k_labels, k_spaced, notes


def _subtrahend(att: Attention, weights: np.ndarray, other_file: bool, minus_layer: object,
                minus_head: object, li: int, chosen: list[int], combine_by: str,
                where: str) -> np.ndarray:
    """The matrix subtracted in a difference figure: the same selection in another
    attention (``weights`` of another checkpoint), another layer, or another head."""
    if other_file:
        if combine_by == "rollout":
            return rollout(weights[: li + 1][:, chosen])
        return combine(weights[li][chosen], combine_by)
    if minus_head is not None:
        if minus_layer is not None:
            raise SpecError(f"{where}: minus: give minus_head or minus_layer, not both")
        h = index_of(minus_head, att.head_names, "heads", f"{where}: minus_head")
        return weights[li, h]
    lj = att.layer_index(minus_layer)
    if combine_by == "rollout":
        return rollout(weights[: lj + 1][:, chosen])
    return combine(weights[lj][chosen], combine_by)


def _minus_caption(minus: Attention | None, minus_layer: object, minus_head: object,
                   att: Attention) -> str:
    if minus is not None:
        return f"minus the same in {minus.source} (blue: less, red: more)"
    if minus_head is not None:
        name = att.head_names[index_of(minus_head, att.head_names, "heads", "minus_head")]
        return f"minus head {name} (blue: less, red: more)"
    return f"minus layer {att.layer_names[att.layer_index(minus_layer)]} (blue: less, red: more)"


@dataclass(frozen=True)
class ExplicitHead:
    """A head of a spec file or ``Diagram(...)``: links given, or derived from weights."""

    name: str
    links: tuple[int, ...] | None
    weights: np.ndarray | None
    color: str | None


def from_explicit(query_tokens: Sequence[str], key_tokens: Sequence[str], matrix: np.ndarray,
                  heads: Sequence[ExplicitHead], *, title: str | None = None,
                  caption: str | None = None, links: LinkRule | None = None,
                  groups: bool = False) -> FigureData:
    """A figure whose matrix and heads are given (spec files, ``Diagram(...)``)."""
    rule = links or LinkRule()
    head_data = []
    for h in heads:
        own = None if h.weights is None else _frozen(h.weights)
        linked = h.links if h.links is not None else (
            tuple(links_from_weights(own, rule)) if own is not None else ())
        head_data.append(HeadData(xml_safe(h.name), h.color, tuple(linked), own))
    own_weights = [h.weights for h in head_data if h.weights is not None]
    stack = (np.stack(own_weights)[None] if own_weights else np.asarray(matrix)[None, None])
    stack.setflags(write=False)
    found: tuple[Group, ...] = ()
    if groups:
        found = tuple(Group(lo, hi, tuple(group_heads((lo, hi), [h.links for h in head_data])))
                      for lo, hi in find_groups(np.asarray(matrix)))
    square = tuple(query_tokens) == tuple(key_tokens)
    data = FigureData(
        query_tokens=tuple(query_tokens), key_tokens=tuple(key_tokens),
        query_labels=tuple(visible(t) for t in query_tokens),
        key_labels=tuple(visible(t) for t in key_tokens), matrix=_frozen(matrix),
        heads=tuple(head_data), stack_of=lambda: stack, stack_layers=("",),
        stack_heads=tuple(h.name for h in head_data if h.weights is not None) or ("",),
        title=None if not title else xml_safe(title), groups=found,
        key_spaced=(False,) + (True,) * (len(key_tokens) - 1),
        matrix_caption=xml_safe(caption or ""),
        meta={"causal": square and is_causal(np.asarray(matrix))})
    return data
