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
from typing import Any

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.lines import DEFAULT_TOP, LONG_ROWS, LineSelection, select_lines
from ..colours import head_colour
from ..fields import Field, choice, length, number
from ..layout.context import Context
from ..layout.frame import Body, finish, fit
from ..layout.legend import head_key
from ..options import FOCUS
from ..scene import Box, Group, Node, Path, Rect, Scene, Style
from .base import View
from .registry import register


@register
class Lines(View):
    name = "lines"
    summary = ("BertViz's head view: query and key columns joined by one line per pair, "
               "opacity from the weight, one colour per head")
    signed = False
    options = (
        FOCUS,
        Field("threshold", number(0, 1), 0.05, "Lines view: drop lines fainter than this share "
              "of the strongest line (0 keeps every line).", group="lines view",
              metavar="SHARE"),
        Field("encode", choice("opacity", "width"), "opacity", "Lines view: show a weight as "
              "the line's opacity or its width.", group="lines view"),
        Field("top", number(1, 10000, whole=True), None, "Lines view: keep each head's K "
              f"strongest lines and list only the tokens they join, with their positions "
              f"(default: {DEFAULT_TOP} above {LONG_ROWS} tokens, every line otherwise).",
              group="lines view", metavar="K"),
    )
    theme_keys = (
        Field("lines.gap", length(10, 2000), "9em",
              "Lines view: room between the two token columns."),
        Field("lines.row_pitch", length(4, 200), "1.6em",
              "Lines view: distance between token rows."),
        Field("lines.width", length(0.1, 20), 1.6,
              "Lines view: stroke width of a line at full weight."),
        Field("lines.opacity", number(0.05, 1), 0.9,
              "Lines view: opacity of a line at full weight."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        heads = [h for h in data.heads if h.weights is not None]
        palette = ctx.value("colors.heads")
        if heads:
            layers = [h.weights for h in heads if h.weights is not None]
            names = [h.name for h in heads]
            colours = [h.color or head_colour(palette, i)  # type: ignore[arg-type]
                       for i, h in enumerate(data.heads) if h.weights is not None]
        else:  # a matrix given by hand: one set of lines in the text colour
            layers, names, colours = [data.matrix], ["matrix"], [str(ctx.value("colors.text"))]
        stack = np.stack(layers)
        focus = opts.get("focus")
        row = None if focus is None else data.index(focus, "focus", "lines view")
        threshold = opts.get("threshold")
        chosen = select_lines(stack, data.sinks, focus=row,
                              threshold=0.05 if threshold is None else float(threshold),
                              vmax=opts.get("vmax"), top=opts.get("top"))
        plan = _Plan(data, stack, names, colours, row, opts.get("encode") or "opacity", chosen)
        body, fitted = fit(plan.arrange, ctx, width, ctx["lines.gap"], smallest=3 * ctx.em,
                           largest=4 * ctx["lines.gap"], what="tokens")
        return finish(fitted, body, title=data.title, caption=plan.caption(), room=width,
                      name="Attention head view", show_title=opts.get("show_title"))


@dataclass(frozen=True)
class _Plan:
    """What the head view draws, decided once; :meth:`arrange` places it for a gap."""

    data: FigureData
    stack: np.ndarray
    names: list[str]
    colours: list[str]
    focus: int | None
    encode: str
    chosen: LineSelection

    def caption(self) -> list[str]:
        c, data = self.chosen, self.data
        caption = list(data.notes)
        rule = (f"lines below {c.threshold:.0%} of the strongest ({c.vmax:.3g}) are not drawn"
                if c.threshold > 0 else "every line drawn")
        caption.append(f"Lines: {self.encode} from the weight (full at {c.vmax:.3g}); {rule}"
                       + (f"; only the attention of {data.query_labels[self.focus]!r}"
                          if self.focus is not None else ""))
        if c.long:
            caption.append(f"The {c.top} strongest lines of each head (sink columns aside); "
                           f"only the {len(c.queries)} query and {len(c.keys)} key tokens "
                           f"they join are listed, with their positions (of "
                           f"{self.stack.shape[1]} and {self.stack.shape[2]})")
        return caption

    def arrange(self, ctx: Context, gap: float) -> Body:
        em = ctx.em
        data, focus, c = self.data, self.focus, self.chosen
        pitch = ctx["lines.row_pitch"]
        text = str(ctx.value("colors.text"))
        muted = str(ctx.value("colors.muted"))
        q_boxes = {i: ctx.box(data.query_labels[i], bold=i == focus) for i in c.queries}
        k_boxes = {j: ctx.box(data.key_labels[j]) for j in c.keys}
        # long sequences: positions (in the whole input) in a muted column outside the tokens
        q_pos = {i: ctx.box(str(data.query_spans[i][0]), factor=0.85)
                 for i in c.queries} if c.long else {}
        k_pos = {j: ctx.box(str(data.key_spans[j][0]), factor=0.85)
                 for j in c.keys} if c.long else {}
        pos_gap = 0.5 * em if c.long else 0.0
        pos_w = max((b.width for b in q_pos.values()), default=0.0) + pos_gap
        left_w = pos_w + max((b.width for b in q_boxes.values()), default=0.0)
        pad = 0.5 * em
        x_left = left_w + pad  # lines start here
        x_right = x_left + gap  # and end here
        q_y = {i: (r + 0.5) * pitch for r, i in enumerate(c.queries)}
        k_y = {j: (r + 0.5) * pitch for r, j in enumerate(c.keys)}
        items: list[Node] = []
        for i in c.queries:
            label_colour = text if focus is None or i == focus else muted
            parts: list[Node] = [ctx.text(f"query-{i}", q_boxes[i], left_w, q_y[i], "end",
                                          "query-label", label_colour, bold=i == focus,
                                          owner="focus" if i == focus else None)]
            if c.long:
                parts.append(ctx.text(f"query-pos-{i}", q_pos[i], pos_w - pos_gap, q_y[i],
                                      "end", "position", muted))
            parts += self._lines(ctx, i, x_left, x_right, q_y[i], k_y)
            items.append(Group(f"query-group-{i}", tuple(parts), hover="item"))
        keys_w = max((b.width for b in k_boxes.values()), default=0.0)
        key_nodes: list[Node] = [ctx.text(f"key-{j}", k_boxes[j], x_right + pad, k_y[j],
                                          "start", "key-label", text) for j in c.keys]
        key_nodes += [ctx.text(f"key-pos-{j}", k_pos[j], x_right + pad + keys_w + pos_gap,
                               k_y[j], "start", "position", muted) for j in c.keys if c.long]
        nodes: list[Node] = [Group("queries", tuple(items), "queries", hover="scope"),
                             Group("keys", tuple(key_nodes), "keys")]
        bottom = max(len(c.queries), len(c.keys), 1) * pitch
        right = x_right + pad + keys_w + (pos_gap + max((b.width for b in k_pos.values()),
                                                        default=0.0) if c.long else 0.0)
        if focus is not None:  # a quiet box behind the focus token
            fb = q_boxes[focus]
            top = q_y[focus] - 0.42 * pitch
            nodes.insert(0, Rect("focus", Box(left_w - fb.width - 0.25 * em, top,
                                              fb.width + 0.5 * em, 0.84 * pitch),
                                 Style(fill=str(ctx.value("colors.cell_low"))), "focus",
                                 0.2 * em))
        if self.names != ["matrix"] and ctx.value("legend.show"):
            key = head_key(ctx, list(zip(self.names, self.colours, strict=True)), 0.0,
                           bottom + 0.6 * em, width=right)
            nodes.append(Group("legend", tuple(key.nodes), "legend"))
        return Body(nodes, [], f"Head view: {len(self.names)} head(s) over "
                    f"{len(data.query_labels)} query and {len(data.key_labels)} key tokens.")

    @cached_property
    def _by_query(self) -> dict[int, list[tuple[int, int]]]:
        """Each query's lines as (head, key), in drawing order."""
        out: dict[int, list[tuple[int, int]]] = {}
        for h, head in enumerate(self.chosen.lines):
            for q, j in head:
                out.setdefault(q, []).append((h, j))
        return {q: sorted(pairs) for q, pairs in out.items()}

    def _lines(self, ctx: Context, i: int, x_left: float, x_right: float, y0: float,
               k_y: dict[int, float]) -> list[Node]:
        """Query ``i``'s lines, each head's in its colour, opacity or width from the weight."""
        line_w = ctx["lines.width"]
        full = float(ctx.value("lines.opacity"))  # type: ignore[arg-type]
        n_heads = self.stack.shape[0]
        out: list[Node] = []
        for h, j in self._by_query.get(i, ()):
            t = min(1.0, float(self.stack[h, i, j]) / self.chosen.vmax)
            # overlaid heads share the ink (BertViz divides by the number of heads;
            # the square root keeps single heads of a crowded figure visible)
            style = (Style(stroke=self.colours[h], stroke_width=line_w,
                           opacity=round(full * t / max(1, n_heads) ** 0.5, 3))
                     if self.encode == "opacity" else
                     Style(stroke=self.colours[h], stroke_width=round(line_w * 2.5 * t, 2),
                           opacity=round(full / max(1, n_heads) ** 0.5, 3)))
            out.append(Path(f"line-{h}-{i}-{j}", (("M", (x_left, y0)), ("L", (x_right, k_y[j]))),
                            style, "target"))
        return out
