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

from ..analysis.figure import FigureData
from ..colours import head_colour
from ..fields import Field, choice, length, number
from ..layout.context import Context
from ..layout.frame import Body, finish, fit
from ..layout.legend import head_key
from ..options import FOCUS
from ..scene import Box, Group, Node, Path, Rect, Scene, Style
from .base import View
from .registry import register

LONG_ROWS = 48  # more tokens than this: only the strongest lines and the tokens they join
DEFAULT_TOP = 12  # strongest lines per head kept for a long sequence


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
        keep = [c for c in range(stack.shape[-1]) if c not in set(data.sinks)] or \
            list(range(stack.shape[-1]))
        shown = stack if row is None else stack[:, [row]]
        top = float(shown[..., keep].max()) if shown.size else 0.0
        vmax = float(opts.get("vmax") or top or 1.0)
        threshold = float(opts.get("threshold", 0.05) if opts.get("threshold") is not None
                          else 0.05)
        encode = opts.get("encode") or "opacity"
        strongest = opts.get("top")
        long = max(stack.shape[1:]) > LONG_ROWS or strongest is not None
        lines = _select(stack, row, threshold * vmax, keep,
                        (strongest or DEFAULT_TOP) if long else None)
        queries = sorted({i for h in lines for i, _ in h}) if long else \
            list(range(stack.shape[1]))
        keys = sorted({j for h in lines for _, j in h}) if long else list(range(stack.shape[2]))
        if long and row is not None and row not in queries:
            queries = sorted([*queries, row])

        def arrange(c: Context, gap: float) -> Body:
            return _arrange(data, c, gap, stack, names, colours, row, vmax, encode, lines,
                            queries, keys, long)

        body, fitted = fit(arrange, ctx, width, ctx["lines.gap"], smallest=3 * ctx.em,
                           largest=4 * ctx["lines.gap"], what="tokens")
        caption = list(data.notes)
        rule = (f"lines below {threshold:.0%} of the strongest ({vmax:.3g}) are not drawn"
                if threshold > 0 else "every line drawn")
        caption.append(f"Lines: {encode} from the weight (full at {vmax:.3g}); {rule}"
                       + (f"; only the attention of {data.query_labels[row]!r}"
                          if row is not None else ""))
        if long:
            caption.append(f"The {strongest or DEFAULT_TOP} strongest lines of each head (sink "
                           f"columns aside); only the {len(queries)} query and {len(keys)} key "
                           f"tokens they join are listed, with their positions (of "
                           f"{stack.shape[1]} and {stack.shape[2]})")
        return finish(fitted, body, title=data.title, caption=caption, room=width,
                      name="Attention head view", show_title=opts.get("show_title"))


def _select(stack: np.ndarray, focus: int | None, floor: float, keep: list[int],
            strongest: int | None) -> list[list[tuple[int, int]]]:
    """Each head's lines as (query, key) pairs: every weight at least ``floor`` (and
    1e-12), only row ``focus`` if given; with ``strongest``, the K strongest of those
    outside the sink columns ``keep`` excludes, strongest first."""
    out: list[list[tuple[int, int]]] = []
    floor = max(floor, 1e-12)
    for weights in stack:
        view = weights if focus is None else weights[[focus]]
        if strongest is None:
            i, j = np.nonzero(view >= floor)
        else:
            masked = np.where(view[:, keep] >= floor, view[:, keep], -1.0)
            flat = masked.ravel()
            k = min(strongest, int(np.count_nonzero(flat >= 0)))
            best = np.argpartition(-flat, k - 1)[:k] if k else np.zeros(0, np.int64)
            best = best[np.argsort(-flat[best], kind="stable")]
            i, j = np.divmod(best, len(keep))
            j = np.asarray(keep)[j] if len(j) else j
        rows = i if focus is None else np.full(len(i), focus)
        out.append([(int(a), int(b)) for a, b in zip(rows, j, strict=True)])
    return out


def _arrange(data: FigureData, ctx: Context, gap: float, stack: np.ndarray, names: list[str],
             colours: list[str], focus: int | None, vmax: float, encode: str,
             lines: list[list[tuple[int, int]]], queries: list[int], keys: list[int],
             long: bool) -> Body:
    em = ctx.em
    pitch = ctx["lines.row_pitch"]
    text = str(ctx.value("colors.text"))
    muted = str(ctx.value("colors.muted"))
    q_boxes = {i: ctx.box(data.query_labels[i], bold=i == focus) for i in queries}
    k_boxes = {j: ctx.box(data.key_labels[j]) for j in keys}
    # long sequences: positions in a muted column outside the tokens
    q_pos = {i: ctx.box(str(i), factor=0.85) for i in queries} if long else {}
    k_pos = {j: ctx.box(str(j), factor=0.85) for j in keys} if long else {}
    pos_gap = 0.5 * em if long else 0.0
    pos_w = max((b.width for b in q_pos.values()), default=0.0) + pos_gap
    left_w = pos_w + max((b.width for b in q_boxes.values()), default=0.0)
    pad = 0.5 * em
    x_left = left_w + pad  # lines start here
    x_right = x_left + gap  # and end here
    q_y = {i: (r + 0.5) * pitch for r, i in enumerate(queries)}
    k_y = {j: (r + 0.5) * pitch for r, j in enumerate(keys)}
    line_w = ctx["lines.width"]
    full = float(ctx.value("lines.opacity"))  # type: ignore[arg-type]
    n_heads = stack.shape[0]
    by_query: dict[int, list[tuple[int, int]]] = {i: [] for i in queries}
    for h, pairs in enumerate(lines):
        for i, j in pairs:
            by_query[i].append((h, j))
    items: list[Node] = []
    for i in queries:
        y0 = q_y[i]
        label_colour = text if focus is None or i == focus else muted
        parts: list[Node] = [ctx.text(f"query-{i}", q_boxes[i], left_w, y0, "end",
                                      "query-label", label_colour, bold=i == focus,
                                      owner="focus" if i == focus else None)]
        if long:
            parts.append(ctx.text(f"query-pos-{i}", q_pos[i], pos_w - pos_gap, y0, "end",
                                  "position", muted))
        for h, j in sorted(by_query[i]):
            t = min(1.0, float(stack[h, i, j]) / vmax)
            # overlaid heads share the ink (BertViz divides by the number of heads;
            # the square root keeps single heads of a crowded figure visible)
            style = (Style(stroke=colours[h], stroke_width=line_w,
                           opacity=round(full * t / max(1, n_heads) ** 0.5, 3))
                     if encode == "opacity" else
                     Style(stroke=colours[h], stroke_width=round(line_w * 2.5 * t, 2),
                           opacity=round(full / max(1, n_heads) ** 0.5, 3)))
            parts.append(Path(f"line-{h}-{i}-{j}", (("M", (x_left, y0)),
                                                    ("L", (x_right, k_y[j]))), style,
                              "target"))
        items.append(Group(f"query-group-{i}", tuple(parts), hover="item"))
    keys_w = max((b.width for b in k_boxes.values()), default=0.0)
    key_nodes: list[Node] = [ctx.text(f"key-{j}", k_boxes[j], x_right + pad, k_y[j], "start",
                                      "key-label", text) for j in keys]
    key_nodes += [ctx.text(f"key-pos-{j}", k_pos[j], x_right + pad + keys_w + pos_gap, k_y[j],
                           "start", "position", muted) for j in keys if long]
    nodes: list[Node] = [Group("queries", tuple(items), "queries", hover="scope"),
                         Group("keys", tuple(key_nodes), "keys")]
    bottom = max(len(queries), len(keys), 1) * pitch
    right = x_right + pad + keys_w + (pos_gap + max((b.width for b in k_pos.values()),
                                                    default=0.0) if long else 0.0)
    if focus is not None:  # a quiet box behind the focus token
        fb = q_boxes[focus]
        top = q_y[focus] - 0.42 * pitch
        nodes.insert(0, Rect("focus", Box(left_w - fb.width - 0.25 * em, top,
                                          fb.width + 0.5 * em, 0.84 * pitch),
                             Style(fill=str(ctx.value("colors.cell_low"))), "focus",
                             0.2 * em))
    if names != ["matrix"] and ctx.value("legend.show"):
        key = head_key(ctx, list(zip(names, colours, strict=True)), 0.0, bottom + 0.6 * em,
                       width=right)
        nodes.append(Group("legend", tuple(key.nodes), "legend"))
    return Body(nodes, [], f"Head view: {len(names)} head(s) over {len(data.query_labels)} "
                f"query and {len(data.key_labels)} key tokens.")
