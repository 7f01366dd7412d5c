"""The lines view (BertViz's "head view", as a static vector figure): query tokens in a
left column, key tokens in a right column, one straight line per (query, key) pair and
head, its opacity (or width) from the weight, one colour per head, heads overlaid.

Lines fainter than ``threshold`` times the strongest are dropped; ``focus`` keeps one
query token's lines. In a browser, hovering a query token highlights its lines (CSS
only, nothing changes in print).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis.colour import head_colour
from ..analysis.figure import FigureData, token_index
from ..layout.context import Context
from ..layout.frame import Body, finish, fit
from ..layout.legend import head_key
from ..options import FOCUS, Option
from ..scene import Box, Group, Node, Path, Rect, Scene, Style
from ..theme.schema import Key
from .base import View, register


@register
class Lines(View):
    name = "lines"
    summary = ("BertViz's head view: query and key columns joined by one line per pair, "
               "opacity from the weight, one colour per head")
    signed = False
    options = (
        FOCUS,
        Option("threshold", "float", 0.05, "Lines view: drop lines fainter than this share of "
               "the strongest line (0 keeps every line).", minimum=0, maximum=1,
               group="lines view"),
        Option("encode", "choice", "opacity", "Lines view: show a weight as the line's "
               "opacity or its width.", choices=("opacity", "width"), group="lines view"),
    )
    theme_keys = (
        Key("lines.gap", "length", "9em", "Lines view: room between the two token columns.",
            minimum=10, maximum=2000),
        Key("lines.row_pitch", "length", "1.6em", "Lines view: distance between token rows.",
            minimum=4, maximum=200),
        Key("lines.width", "length", 1.6, "Lines view: stroke width of a line at full weight.",
            minimum=0.1, maximum=20),
        Key("lines.opacity", "number", 0.9, "Lines view: opacity of a line at full weight.",
            minimum=0.05, maximum=1),
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
        row = None if focus is None else token_index(
            focus, data.query_tokens, data.query_labels, "focus", "lines view")
        keep = [c for c in range(stack.shape[-1]) if c not in set(data.sinks)] or \
            list(range(stack.shape[-1]))
        shown = stack if row is None else stack[:, [row]]
        top = float(shown[..., keep].max()) if shown.size else 0.0
        vmax = float(opts.get("vmax") or top or 1.0)
        threshold = float(opts.get("threshold", 0.05) if opts.get("threshold") is not None
                          else 0.05)
        encode = opts.get("encode") or "opacity"

        def arrange(c: Context, gap: float) -> Body:
            return _arrange(data, c, gap, stack, names, colours, row, vmax, threshold, encode)

        body, fitted = fit(arrange, ctx, width, ctx["lines.gap"], smallest=3 * ctx.em,
                           largest=4 * ctx["lines.gap"], what="tokens")
        caption = list(data.notes)
        rule = (f"lines below {threshold:.0%} of the strongest ({vmax:.3g}) are not drawn"
                if threshold > 0 else "every line drawn")
        caption.append(f"Lines: {encode} from the weight (full at {vmax:.3g}); {rule}"
                       + (f"; only the attention of {data.query_labels[row]!r}"
                          if row is not None else ""))
        return finish(fitted, body, title=data.title, caption=caption, room=width,
                      name="Attention head view", show_title=opts.get("show_title"))


def _arrange(data: FigureData, ctx: Context, gap: float, stack: np.ndarray, names: list[str],
             colours: list[str], focus: int | None, vmax: float, threshold: float,
             encode: str) -> Body:
    em = ctx.em
    pitch = ctx["lines.row_pitch"]
    text = str(ctx.value("colors.text"))
    muted = str(ctx.value("colors.muted"))
    q_boxes = [ctx.box(t, bold=i == focus) for i, t in enumerate(data.query_labels)]
    k_boxes = [ctx.box(t) for t in data.key_labels]
    left_w = max(b.width for b in q_boxes)
    pad = 0.5 * em
    x_left = left_w + pad  # lines start here
    x_right = x_left + gap  # and end here
    line_w = ctx["lines.width"]
    full = float(ctx.value("lines.opacity"))  # type: ignore[arg-type]
    n_heads = stack.shape[0]
    items: list[Node] = []
    for i, box in enumerate(q_boxes):
        y0 = (i + 0.5) * pitch
        label_colour = text if focus is None or i == focus else muted
        parts: list[Node] = [ctx.text(f"query-{i}", box, left_w, y0, "end", "query-label",
                                      label_colour, bold=i == focus,
                                      owner="focus" if i == focus else None)]
        if focus is None or i == focus:
            for h in range(n_heads):
                weights = stack[h, i]
                for j in np.flatnonzero(weights >= max(threshold * vmax, 1e-12)).tolist():
                    t = min(1.0, float(weights[j]) / vmax)
                    # overlaid heads share the ink (BertViz divides by the number of heads;
                    # the square root keeps single heads of a crowded figure visible)
                    style = (Style(stroke=colours[h], stroke_width=line_w,
                                   opacity=round(full * t / max(1, n_heads) ** 0.5, 3))
                             if encode == "opacity" else
                             Style(stroke=colours[h], stroke_width=round(line_w * 2.5 * t, 2),
                                   opacity=round(full / max(1, n_heads) ** 0.5, 3)))
                    y1 = (j + 0.5) * pitch
                    parts.append(Path(f"line-{h}-{i}-{j}", (("M", (x_left, y0)),
                                                            ("L", (x_right, y1))), style,
                                      "target"))
        items.append(Group(f"query-group-{i}", tuple(parts), hover="item"))
    keys: list[Node] = [ctx.text(f"key-{j}", box, x_right + pad, (j + 0.5) * pitch, "start",
                                 "key-label", text) for j, box in enumerate(k_boxes)]
    nodes: list[Node] = [Group("queries", tuple(items), "queries", hover="scope"),
                         Group("keys", tuple(keys), "keys")]
    bottom = max(len(q_boxes), len(k_boxes)) * pitch
    right = x_right + pad + max(b.width for b in k_boxes)
    if focus is not None:  # a quiet box behind the focus token
        fb = q_boxes[focus]
        nodes.insert(0, Rect("focus", Box(left_w - fb.width - 0.25 * em, focus * pitch +
                                          0.08 * pitch, fb.width + 0.5 * em, 0.84 * pitch),
                             Style(fill=str(ctx.value("colors.cell_low"))), "focus",
                             0.2 * em))
    if names != ["matrix"] and ctx.value("legend.show"):
        key = head_key(ctx, list(zip(names, colours, strict=True)), 0.0, bottom + 0.6 * em,
                       width=right)
        nodes.append(Group("legend", tuple(key.nodes), "legend"))
    return Body(nodes, [], f"Head view: {len(names)} head(s) over {len(q_boxes)} query and "
                f"{len(k_boxes)} key tokens.")
