"""The lines view (BertViz's "head view", as a static vector figure): query tokens in a
left column, key tokens in a right column, one straight line per (query, key) pair and
head, its opacity (or width) from the weight, one colour per head, heads overlaid.

Lines fainter than ``threshold`` times the strongest are dropped; ``focus`` keeps one
query token's lines. In a browser, hovering a query token highlights its lines (CSS
only, nothing changes in print).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.lines import DEFAULT_TOP, LONG_ROWS, LineSelection, select_lines
from ..captions import counted
from ..colours import head_colour
from ..fields import Field, boolean, choice, length, number
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import PAGE, Body, wrap
from ..layout.legend import head_key
from ..layout.table import Table, reduction
from ..options import FOCUS, TOKENS
from ..scene import Box, Group, Node, Path, Rect, Style
from .base import View
from .registry import register

ROW_MIN_EM = 1.2  # the closest token rows come (a line of type) when a list closes up


@register
class Lines(View):
    name = "lines"
    summary = ("BertViz's head view: token columns joined by one line per pair, opacity from "
               "the weight, one panel (and colour) per head")
    signed = False
    reads = ("layer", "heads", "window", "pool", *TOKENS, "vmax")
    hints: ClassVar[Mapping[str, str]] = {
        "combine": "the head view draws every head on its own; drop it",
        "groups": "the head view draws no token groups; drop it",
        "links": "links are the flow view's; drop it",
        "layers": "use --layer (one layer)",
        "colormap": "lines take their head's colour; drop it",
        "vmin": "a line's opacity runs from 0; drop it",
        "norm": "opacity is linear in the weight; drop it",
        "gamma": "opacity is linear in the weight; drop it",
        "scale": "each head's strongest line is full strength; drop it",
        "minus_layer": "the lines view cannot draw a difference; use the matrix, grid or flow "
        "view",
        "minus_head": "the lines view cannot draw a difference; use the matrix, grid or flow "
        "view",
    }
    options = (
        FOCUS,
        Field("threshold", number(0, 1), 0.05, "Lines view: drop lines fainter than this share "
              "of the head's strongest line (0 keeps every line).", group="lines view",
              metavar="SHARE"),
        Field("encode", choice("opacity", "width"), "opacity", "Lines view: show a weight as "
              "the line's opacity or its width.", group="lines view"),
        Field("top", number(1, 10000, whole=True), None, "Lines view: keep each head's K "
              f"strongest lines and list only the tokens they join, with their positions "
              f"(default: {DEFAULT_TOP} above {LONG_ROWS} tokens, every line otherwise).",
              group="lines view", metavar="K"),
        Field("overlay", boolean(), False, "Lines view: draw every head's lines over one pair "
              "of token columns instead of one panel per head (colours then mix where lines "
              "cross).", group="lines view"),
    )
    theme_keys = (
        Field("lines.gap", length(10, 2000), "9em",
              "Lines view: room between two token columns."),
        Field("lines.row_pitch", length(4, 200), "1.6em",
              "Lines view: distance between token rows."),
        Field("lines.width", length(0.1, 20), 1.6,
              "Lines view: stroke width of a line at full weight."),
        Field("lines.opacity", number(0.05, 1), 1.0,
              "Lines view: opacity of a head's strongest line (its colour at full strength)."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        plan = _plan(data, opts, str(ctx.value("colors.text")), ctx.value("colors.heads"))
        body = fit(plan.arrange, ctx, width, ctx["lines.gap"], smallest=3 * ctx.em,
                   largest=4 * ctx["lines.gap"], what="tokens")
        body.caption, body.name = plan.caption(), "Attention head view"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per line drawn: its head, the query's and key's positions in the input and
        their labels, and the weight (the threshold, focus and strongest-lines rule applied
        as in the figure, stated in the header)."""
        plan = _plan(data, opts, "#000000", ("#000000",))
        c = plan.chosen
        q_at = [s for s, _ in data.query_spans] or list(range(len(data.query_labels)))
        k_at = [s for s, _ in data.key_spans] or list(range(len(data.key_labels)))
        rows = [[plan.names[h], q_at[i], data.query_labels[i], k_at[j], data.key_labels[j],
                 float(plan.stack[h][i, j])]
                for h, pairs in enumerate(c.lines) for i, j in sorted(pairs)]
        rule = (f"the {c.top} strongest lines of each head" if c.long else
                f"lines of at least {c.threshold:g} x the head's strongest" if c.threshold
                else "")
        note = "; ".join(x for x in (reduction(data), rule) if x)
        return Table(["head", "query", "query_token", "key", "key_token", "weight"], rows,
                     note)


def _plan(data: FigureData, opts: Mapping[str, Any], text: str, palette: object) -> _Plan:
    """What the head view draws of ``data``: the heads' lines, chosen once."""
    heads = [h for h in data.heads if h.weights is not None]
    if heads:
        layers = [h.weights for h in heads if h.weights is not None]
        names = [h.name for h in heads]
        colours = [h.color or head_colour(palette, i)  # type: ignore[arg-type]
                   for i, h in enumerate(data.heads) if h.weights is not None]
    else:  # a matrix given by hand: one set of lines in the text colour
        layers, names, colours = [data.matrix], ["matrix"], [text]
    # views of each head (no copy); a long input's heads are read a block at a time
    stack = [layer if not isinstance(layer, np.ndarray) else np.asarray(layer)
             for layer in layers]
    focus = opts["focus"]
    row = None if focus is None else data.index(focus, "focus", "lines view")
    chosen = select_lines(stack, data.sinks, focus=row, threshold=float(opts["threshold"]),
                          vmax=opts["vmax"], top=opts["top"])
    panels = len(names) > 1 and not opts["overlay"] and not data.cross
    return _Plan(data, stack, names, colours, row, opts["encode"], chosen, panels)


@dataclass(frozen=True)
class _Plan:
    """What the head view draws, decided once; :meth:`arrange` places it for a gap.

    One panel per head (``panels``): token columns and the lines between them, each
    panel's lines going from the column on its left (the queries) to the one on its right
    (the keys); the columns between panels serve both. Otherwise the heads overlay one
    pair of columns. A head's strongest line is its colour at full strength."""

    data: FigureData
    stack: list[np.ndarray]
    names: list[str]
    colours: list[str]
    focus: int | None
    encode: str
    chosen: LineSelection
    panels: bool

    def caption(self) -> list[str]:
        c, data = self.chosen, self.data
        caption = list(data.notes)
        full = ("the head's strongest weight" if len(set(c.full)) > 1 or len(c.full) > 1
                else f"{c.full[0]:.3g}")
        rule = (f"lines below {c.threshold:.0%} of it are not drawn" if c.threshold > 0
                else "every line drawn")
        caption.append(f"Lines: {self.encode} from the weight, full at {full}; {rule}"
                       + (f"; only the attention of {data.query_labels[self.focus]!r}"
                          if self.focus is not None else ""))
        if data.sinks:
            sinks = ", ".join(data.key_labels[j] for j in data.sinks[:3])
            columns = "column" if len(data.sinks) == 1 else "columns"
            caption.append(f"Lines to the sink {columns} ({sinks}) are not drawn")
        if c.long:
            caption.append(f"The {c.top} strongest lines of each head; only the tokens they "
                           f"join are listed, with their positions (of {self.stack[0].shape[0]})")
        return caption

    @property
    def _tokens(self) -> tuple[list[int], list[int]]:
        """The query rows and key columns listed (panels share one list of tokens)."""
        c = self.chosen
        if self.panels:
            both = sorted(set(c.queries) | set(c.keys))
            return both, both
        return list(c.queries), list(c.keys)

    def arrange(self, ctx: Context, gap: float) -> Body:
        em = ctx.em
        data, focus = self.data, self.focus
        queries, keys = self._tokens
        listed = max(len(queries), len(keys), 1)
        # a long token list closes up to fit a page, never tighter than a line of type
        pitch = max(min(ctx["lines.row_pitch"], PAGE / listed), ROW_MIN_EM * ctx.em)
        muted = str(ctx.value("colors.muted"))
        columns = len(self.names) + 1 if self.panels else 2
        q_w = max((ctx.box(self._label(i, True), bold=i == focus).width for i in queries),
                  default=0.0)
        k_w = max((ctx.box(self._label(j, False)).width for j in keys), default=0.0)
        column_w = max(q_w, k_w) if self.panels else 0.0
        pad = 0.5 * em
        titles: list[list[str]] = []
        title_h = 0.0
        if self.panels:  # a panel's title wraps within it (at least its longest word)
            gap = max(gap, *(ctx.box(w, factor=0.9, bold=True).width + 0.5 * em
                             for n in self.names for w in n.split(" ")))
            titles = [wrap(ctx, n, gap, 0.9, bold=True) for n in self.names]
            line_h = ctx.box("Hg", factor=0.9, bold=True).height
            title_h = max(len(t) for t in titles) * line_h + 0.5 * em
        q_y = {i: title_h + (r + 0.5) * pitch for r, i in enumerate(queries)}
        k_y = {j: title_h + (r + 0.5) * pitch for r, j in enumerate(keys)}
        nodes: list[Node] = []
        x = 0.0
        for col in range(columns):
            is_first, is_last = col == 0, col == columns - 1
            width_ = (q_w if is_first else k_w) if not self.panels else column_w
            rows = queries if is_first else keys
            ys = q_y if is_first else k_y
            anchor = "end" if is_first else "start"
            x_text = x + width_ if is_first else x
            for i in rows:
                bold = is_first and i == focus
                colour = str(ctx.value("colors.text")) if focus is None or i == focus \
                    or not is_first else muted
                if self.data.is_generated(i, is_first):
                    colour = str(ctx.value("colors.generated"))
                nodes.append(ctx.text(f"token-{col}-{i}", ctx.box(self._label(i, is_first),
                                                                   bold=bold),
                                      x_text, ys[i], anchor, "query-label" if is_first else
                                      "key-label", colour, bold=bold,
                                      owner="focus" if bold else None))
            if is_first and focus is not None:  # a quiet box behind the focus token
                fb = ctx.box(self._label(focus, True), bold=True)
                nodes.insert(0, Rect("focus", Box(x_text - fb.width - 0.25 * em,
                                                  q_y[focus] - 0.42 * pitch, fb.width + 0.5 * em,
                                                  0.84 * pitch),
                                     Style(fill=str(ctx.value("colors.cell_low"))), "focus",
                                     0.2 * em))
            if is_last:
                break
            left, right = x + width_ + pad, x + width_ + pad + gap
            heads = [col] if self.panels else list(range(len(self.names)))
            nodes.append(self._panel(ctx, heads, left, right, q_y if is_first else k_y, k_y,
                                     f"panel-{col}"))
            if self.panels:
                nodes += self._title(ctx, col, titles[col], (left + right) / 2, title_h)
            x = right + pad
        bottom = title_h + max(len(queries), len(keys), 1) * pitch
        if not self.panels and self.names != ["matrix"] and ctx.value("legend.show"):
            key = head_key(ctx, list(zip(self.names, self.colours, strict=True)), 0.0,
                           bottom + 0.6 * em, width=x + k_w)
            nodes.append(Group("legend", tuple(key.nodes), "legend"))
        return Body(nodes, [], f"Head view: {counted(len(self.names), 'head')} over "
                    f"{len(data.query_labels)} query and {len(data.key_labels)} key tokens.")

    def _title(self, ctx: Context, col: int, lines: list[str], centre: float,
               height: float) -> list[Node]:
        """A panel's title, in its head's colour, its lines above the tokens."""
        line_h = ctx.box("Hg", factor=0.9, bold=True).height
        top = height - 0.5 * ctx.em - len(lines) * line_h
        return [ctx.text(f"panel-title-{col}" + (f"-{k}" if k else ""),
                         ctx.box(line, factor=0.9, bold=True), centre,
                         top + (k + 0.5) * line_h, "middle", "panel-title", self.colours[col],
                         bold=True) for k, line in enumerate(lines)]

    def _label(self, i: int, query: bool) -> str:
        labels = self.data.query_labels if query or self.panels else self.data.key_labels
        if not self.chosen.long:
            return labels[i]
        spans = self.data.query_spans if query or self.panels else self.data.key_spans
        return f"{labels[i]} \u00b7{spans[i][0]}"

    @cached_property
    def _by_query(self) -> dict[int, list[tuple[int, int]]]:
        """Each query's lines as (head, key), in drawing order."""
        out: dict[int, list[tuple[int, int]]] = {}
        for h, head in enumerate(self.chosen.lines):
            for q, j in head:
                out.setdefault(q, []).append((h, j))
        return {q: sorted(pairs) for q, pairs in out.items()}

    def _panel(self, ctx: Context, heads: list[int], x_left: float, x_right: float,
               q_y: dict[int, float], k_y: dict[int, float], id_: str) -> Node:
        """The lines of ``heads`` between two columns, a hover group per query: hovering
        one dims the others (their own opacity scaled down, never raised)."""
        line_w = ctx["lines.width"]
        full = float(ctx.value("lines.opacity"))  # type: ignore[arg-type]
        items: list[Node] = []
        for i in sorted(q_y):
            parts: list[Node] = []
            for h, j in self._by_query.get(i, ()):
                if h not in heads:
                    continue
                t = min(1.0, float(self.stack[h][i, j]) / self.chosen.full[h])
                style = (Style(stroke=self.colours[h], stroke_width=line_w,
                               opacity=round(full * t, 3)) if self.encode == "opacity" else
                         Style(stroke=self.colours[h], stroke_width=round(line_w * 2.5 * t, 2),
                               opacity=full))
                parts.append(Path(f"line-{h}-{i}-{j}", (("M", (x_left, q_y[i])),
                                                        ("L", (x_right, k_y[j]))),
                                  style, "target"))
            if parts:
                items.append(Group(f"{id_}-query-{i}", tuple(parts), hover="item"))
        return Group(id_, tuple(items), "lines", hover="scope")
