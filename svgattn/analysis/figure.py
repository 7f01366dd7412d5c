"""What a figure shows, derived once and shared by every view: the selected heads and
layers, cleaned labels, the combined (or difference) matrix, links, groups, sinks, the
caption. Views only lay this out.

The results are :class:`FigureData`; :func:`svgattn.analysis.derive.from_attention` makes
them from real attention and :func:`svgattn.analysis.given.from_explicit` from a figure
given by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..captions import Essential
from ..errors import SpecError, quote
from ..units import integer_text

if TYPE_CHECKING:  # pragma: no cover - the figure of a spec needs none of them
    from ..patches import Patches
    from .neuron import HeadVectors
    from .norm import Rows
    from .reduce import Span


class HeadData:
    """One head: its display name, its own colour (or ``None`` for the theme's), the
    query-token rows it links to in the flow view, and its own weights if known. ``make``
    computes the weights when they are first read, and ``link`` the links from them when
    those are (a long input's head is computed from its queries and keys, or read from a
    file, only for views that draw it; the links only for views that draw links)."""

    __slots__ = ("_link", "_links", "_make", "_weights", "color", "layer", "name")

    def __init__(self, name: str, color: str | None, links: tuple[int, ...] = (),
                 weights: np.ndarray | None = None, layer: str = "", *,
                 make: Callable[[], np.ndarray] | None = None,
                 link: Callable[[np.ndarray], tuple[int, ...]] | None = None) -> None:
        self.name, self.color, self.layer = name, color, layer
        self._links, self._weights, self._make, self._link = links, weights, make, link

    @property
    def links(self) -> tuple[int, ...]:
        if self._link is not None:
            weights = self.weights
            if weights is not None:
                self._links = self._link(weights)
            self._link = None
        return self._links

    @property
    def weights(self) -> np.ndarray | None:
        if self._make is not None:
            self._weights = self._make()
            self._make = None
        return self._weights


class Group(NamedTuple):
    """Tokens ``start..stop-1`` attend among themselves; ``heads`` (indices) form it."""

    start: int
    stop: int
    heads: tuple[int, ...]


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
    stack_of: Callable[[int, int], np.ndarray]  # one small multiple (layer, head), on demand
    stack_layers: tuple[str, ...]
    stack_heads: tuple[str, ...]
    title: str | None = None
    matrix_caption: str = ""  # where ``matrix`` came from (views that draw it say so)
    headline: str = ""  # the user's own caption line, first
    short_caption: str = ""  # ``matrix_caption`` in a few words (a short caption's)
    notes: tuple[str, ...] = ()  # selection and label notes every view states
    groups: tuple[Group, ...] = ()
    sinks: tuple[int, ...] = ()  # key columns the colour scale ignores
    signed: bool = False  # a difference: diverging colours centred on zero
    causal: bool = False  # no query attends to a later key
    key_spaced: tuple[bool, ...] = ()  # running text: a space before each key token
    query_spans: tuple[Span, ...] = ()
    key_spans: tuple[Span, ...] = ()
    total: tuple[int, int] = (0, 0)  # query and key tokens of the whole input
    pooling: tuple[str, int] = ("", 1)  # how blocks of tokens were pooled: (mean|max, size)
    # other inputs analysed the same way, for views that summarise many (View.many_inputs)
    more: tuple[FigureData, ...] = ()
    # the first row and column that are generated tokens (a model run with --generate), or
    # None: views mark them (a line on a matrix, labels in colors.generated)
    generated: tuple[int | None, int | None] = (None, None)
    # the query and key vectors of each of ``heads`` (the neuron view), when the source gave
    # them and the tokens are the source's own (no window, pooling, hidden or merged tokens)
    vectors: tuple[HeadVectors, ...] | None = None
    # how many inputs ``matrix`` and the small multiples are the mean of (View.averages)
    inputs: int = 1
    # a grid of image patches among the tokens (the image and words views), when the rows
    # and columns shown are the source's own tokens
    patches: Patches | None = None

    @property
    def stack(self) -> np.ndarray:
        """``[layers, heads, query, key]`` of the selected layers and heads (a copy: for
        long sequences, :meth:`thumbnails` pools one at a time)."""
        return np.stack([np.stack([self.stack_of(r, c) for c in range(len(self.stack_heads))])
                         for r in range(len(self.stack_layers))])

    def thumbnails(self, cells: int) -> tuple[np.ndarray, int]:
        """The small multiples with at most ``cells`` cells a side, longer sequences
        max-pooled over blocks (a thin diagonal or a sink column stays visible where
        sampling would drop it), one at a time: (stack, block size)."""
        from .reduce import thumbnails

        pooled = [[thumbnails(self.stack_of(r, c), cells) for c in range(len(self.stack_heads))]
                  for r in range(len(self.stack_layers))]
        block = pooled[0][0][1]
        return np.stack([np.stack([p for p, _ in row]) for row in pooled]), block

    def is_generated(self, index: int, query: bool = True) -> bool:
        """Whether shown row (``query``) or column ``index`` is a generated token."""
        first = self.generated[0 if query else 1]
        return first is not None and index >= first

    @property
    def cross(self) -> bool:
        return self.query_labels != self.key_labels or self.matrix.shape[0] != \
            self.matrix.shape[1]

    @property
    def caption(self) -> tuple[str, ...]:
        """The caption of a view that draws ``matrix``: its provenance (kept by a short
        caption), then the notes."""
        return tuple(x for x in (Essential(self.headline),
                                 Essential(self.matrix_caption, self.short_caption or None),
                                 *self.notes) if x)

    def positioned(self, query: bool = True) -> tuple[str, ...]:
        """Labels with their position in the whole input (``is ·512``), for wherever only
        some tokens are named (a pooled block's label already names its positions)."""
        labels = self.query_labels if query else self.key_labels
        spans = self.query_spans if query else self.key_spans
        if not spans or any(e - s > 1 for s, e in spans):
            return labels
        return tuple(label if label == str(s) else f"{label} \u00b7{s}"  # a position already
                     for label, (s, _) in zip(labels, spans, strict=True))

    def rows(self, query_spans: tuple[Span, ...] | None = None,
             key_spans: tuple[Span, ...] | None = None) -> Rows:
        """What colouring needs of the rows (of this matrix, or of one pooled from it with
        ``query_spans``/``key_spans``): the columns each row can see (causal: keys at or
        before its queries), the key positions its queries see on average, the sinks."""
        q = query_spans or self.query_spans
        k = key_spans or self.key_spans
        ends = np.array([e for _, e in q], dtype=np.int64)
        starts = np.array([s for s, _ in q], dtype=np.float64)
        if self.causal:
            key_starts = np.array([s for s, _ in k], dtype=np.int64)
            visible = np.searchsorted(key_starts, ends - 1, side="right")
            seen = (starts + ends + 1) / 2  # the mean of (position + 1) over the row
        else:
            visible = np.full(len(q), len(k), dtype=np.int64)
            seen = np.full(len(q), float(self.total[1] or len(k)))
        sinks: list[int] = list(self.sinks)
        if key_spans is not None:  # a sink column lies inside one block of the pooled matrix
            positions = [self.key_spans[c][0] for c in self.sinks]
            sinks = sorted({b for b, (a, z) in enumerate(k) for p in positions if a <= p < z})
        from .norm import Rows

        return Rows(visible, seen, tuple(sinks), self.causal)

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


def frozen(array: np.ndarray, *, owned: bool = False) -> np.ndarray:
    """A read-only float array (float32 stays float32, anything else becomes float64).
    The caller's arrays are copied (freezing them would change the caller's object); one
    computed here (``owned``) is not: a 4096-token matrix is 64 MB in float32."""
    dtype = np.float32 if np.asarray(array).dtype == np.float32 else np.float64
    out = np.ascontiguousarray(array, dtype=dtype)
    if not owned and (out is array or (out.base is not None and not out.flags.writeable)):
        out = out.copy()
    out.setflags(write=False)
    return out


def readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view (no copy)."""
    view = array.view()
    view.setflags(write=False)
    return view
