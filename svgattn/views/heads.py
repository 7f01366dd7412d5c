"""The heads view: what each head does, as a layers x heads map of one number per head
(:mod:`svgattn.analysis.head_scores`: sink, previous, self, local, entropy, induction,
duplicate), one panel per score with its own colour scale and meaning, the strongest heads
named in the caption."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.head_scores import SCORES, allowed, score_maps, score_range, uniform_entropy
from ..captions import Essential, counted, number
from ..errors import SpecError
from ..fields import Field, text
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import PAGE, Body, wrap
from ..layout.legend import horizontal_bar
from ..layout.matrix_panel import PanelSpec, label_need, matrix_panel
from ..layout.scale import colour_scale
from ..layout.table import Table
from ..options import TOKENS
from ..scene import Gradient, Node, bounds, moved
from .base import View
from .registry import register

NAMED = 3  # the strongest heads each score names in the caption
ASPECT = 4 / 3  # the shape the panels are arranged towards (a page's text block)


@register
class Heads(View):
    name = "heads"
    summary = ("what each head does: a layers x heads map of a score (sink, previous, self, "
               "local, entropy, induction, duplicate)")
    default_heads = "all"
    signed = False
    many_inputs = True  # scores averaged over several inputs (prompts, files)
    square = True  # its scores read a token's attention to itself and before
    reads = ("layers", "heads", *TOKENS, "colormap")
    hints: ClassVar[Mapping[str, str]] = {
        "combine": "each head is scored on its own; drop it",
        "window": "scores read the whole input; drop it",
        "scale": "each score has its own scale; drop it",
        "vmin": "each score has its own scale; drop it",
        "vmax": "each score has its own scale; drop it",
        "layer": "the heads view maps the layers of --layers (one row each); use --layers",
    }
    options = (
        Field("score", text(200), "all", "Heads view: the scores to map, comma-separated: "
              "sink, previous, self, local, entropy, induction, duplicate (the last two need "
              "a token that repeats), or all.", group="heads view"),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        inputs, names, maps = _scored(data, opts)

        # the maps are means over the inputs: so is the score of a head spreading evenly
        uniform = float(np.mean([uniform_entropy(len(d.key_tokens), d.causal)
                                 for d in inputs]))
        ranges = {s: score_range(s, maps[s], uniform) for s in names}
        scales = {s: colour_scale(ctx, maps[s][None], data, {
            "colormap": opts["colormap"], "vmin": ranges[s][0], "vmax": ranges[s][1]},
            binary=False, signed=False, attention=False) for s in names}

        # panels a row: the arrangement closest to a page's shape at the natural cell size
        # whose cells can still name every head (a thinned column of heads hides which is
        # which); failing that, one a row
        natural = 1.6 * ctx.em
        named = max(label_need(ctx, data.stack_heads), 0.6 * ctx.em)
        room = float("inf") if width is None else width - 2 * ctx["figure.margin"]
        ranked = sorted(range(1, len(names) + 1), key=lambda k: abs(math.log(
            _aspect(_arrange(data, ctx, natural, maps, scales, k)) / ASPECT)))
        per_row = next((k for k in ranked if _arrange(data, ctx, named, maps, scales, k).box.w
                        <= room), 1)

        def arrange(c: Context, cell: float) -> Body:
            return _arrange(data, c, cell, maps, scales, per_row)

        body = fit(arrange, ctx, width, natural, smallest=0.6 * ctx.em, largest=3 * ctx.em,
                   what="heads")
        if body.box.h > PAGE and per_row != ranked[0]:  # taller than a page to keep every
            per_row = ranked[0]  # name: the page's shape instead, labels thinned to a stride
            body = fit(arrange, ctx, width, natural, smallest=0.6 * ctx.em, largest=3 * ctx.em,
                       what="heads")
        layers, heads = len(data.stack_layers), len(data.stack_heads)
        lengths = sorted(len(d.key_tokens) for d in inputs)
        span = f"{lengths[0]}" if lengths[0] == lengths[-1] else \
            f"{lengths[0]}\u2013{lengths[-1]}"
        over = (f"{lengths[0]} tokens" if len(inputs) == 1 else
                f"the mean over {len(inputs)} inputs of {span} tokens")
        caption = [*data.notes, Essential(
            f"One number per head of {counted(layers, 'layer')} \u00d7 "
            f"{counted(heads, 'head')}, {over}")]
        caption.append(_ranges(names, ranges, uniform))
        caption += [_strongest(s, maps[s], data) for s in names]
        body.caption, body.name = caption, "What each attention head does"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per head: its layer, its name and each score (over every input)."""
        _, names, maps = _scored(data, opts)
        rows = [[layer, head, *(float(maps[s][r, c]) for s in names)]
                for r, layer in enumerate(data.stack_layers)
                for c, head in enumerate(data.stack_heads)]
        return Table(["layer", "head", *names], rows)


def _scored(data: FigureData, opts: Mapping[str, Any]
            ) -> tuple[tuple[FigureData, ...], list[str], dict[str, np.ndarray]]:
    """(the inputs, the scores asked for, their maps), every input checked."""
    inputs = (data, *data.more)
    if any(d.query_tokens != d.key_tokens for d in inputs):
        raise SpecError("view: the heads view scores self-attention; this input is "
                        "cross-attention (use the grid view)")
    if any((d.stack_layers, d.stack_heads) != (data.stack_layers, data.stack_heads)
           for d in inputs):
        raise SpecError("attention: the inputs hold other layers or heads; average inputs "
                        "of one model, with the same --layers and --heads")
    names = allowed(opts["score"], [d.key_tokens for d in inputs])
    return inputs, names, score_maps(inputs, names)


def _strongest(score: str, values: np.ndarray, data: FigureData) -> str:
    order = np.argsort(values if SCORES[score].low else -values, axis=None,
                       kind="stable")[:NAMED]
    named = [f"{data.stack_layers[i // values.shape[1]]} {data.stack_heads[i % values.shape[1]]}"
             f" {values.flat[i]:.2f}" for i in order]
    return f"{SCORES[score].named}: {', '.join(named)}"


def _ranges(names: list[str], ranges: dict[str, tuple[float, float]], uniform: float) -> str:
    """What the colour scales span (each bar says what its score means)."""
    parts = []
    if any(SCORES[s].kind == "share" for s in names):
        parts.append("shares of attention on 0\u20131")
    if "entropy" in names:
        top = ranges["entropy"][1]
        parts.append(f"entropy on 0\u2013{top:.2f} bits " + (
            "(a head spreading each query evenly over the keys it sees)"
            if top <= uniform * (1 + 1e-9) else "(the largest found)"))
    if "local" in names:
        parts.append(f"mean distance on 0\u2013{number(ranges['local'][1])} tokens (the largest)")
    return "Colour scales: " + "; ".join(parts)


def _aspect(body: Body) -> float:
    box = body.box
    return box.w / max(box.h, 1e-9)


def _arrange(data: FigureData, ctx: Context, cell: float, maps: dict[str, np.ndarray],
             scales: dict[str, Any], per_row: int) -> Body:
    """Panels left to right, ``per_row`` a row: each a title, the map, its bar."""
    em = ctx.em
    ink = str(ctx.value("colors.text"))
    muted = str(ctx.value("colors.muted"))
    panels: list[tuple[list[Node], float, float]] = []
    gradients: list[Gradient] = []
    for s, values in maps.items():
        panel = matrix_panel(ctx, values, scales[s], cell, PanelSpec(
            id=f"scores-{s}", rows=data.stack_layers, columns=data.stack_heads,
            names=(data.stack_layers, data.stack_heads), where=f"{{row}} {{column}} {s}"))
        nodes = list(panel.nodes)
        box = _bounds(nodes)
        title_box = ctx.box(SCORES[s].name, bold=True)
        top = box[1] - 0.4 * em - title_box.height
        nodes.append(ctx.baseline_text(f"score-title-{s}", title_box, box[0],
                                       top + title_box.ascent, "start", "panel-title", ink,
                                       bold=True))
        bar_w = max(box[2] - box[0], 6 * em)
        bar = horizontal_bar(ctx, scales[s], box[0], box[3] + 0.8 * em, bar_w, "",
                             id_=f"colorbar-{s}")
        nodes += bar.nodes
        gradients += bar.gradients
        below = _bounds(nodes)[3] + 0.3 * em
        for k, line in enumerate(wrap(ctx, SCORES[s].meaning, bar_w, 0.9)):
            label = ctx.box(line, factor=0.9, shorten_to=0)
            nodes.append(ctx.baseline_text(f"colorbar-{s}-meaning-{k}", label, box[0],
                                           below + label.ascent, "start", "legend-label",
                                           muted))
            below += 1.25 * label.height
        left, high, right, low = _bounds(nodes)
        panels.append(([moved(n, -left, -high) for n in nodes], right - left, low - high))
    gap = 2 * em
    out: list[Node] = []
    x = y = row_h = 0.0
    for k, (nodes, w, h) in enumerate(panels):
        if k and k % per_row == 0:
            x, y, row_h = 0.0, y + row_h + gap, 0.0
        out += [moved(n, x, y) for n in nodes]
        x += w + gap
        row_h = max(row_h, h)
    return Body(out, gradients, f"Head scores: {', '.join(maps)} for "
                f"{counted(len(data.stack_layers), 'layer')} \u00d7 "
                f"{counted(len(data.stack_heads), 'head')}.")


def _bounds(nodes: list[Node]) -> tuple[float, float, float, float]:
    box = bounds(nodes)
    assert box is not None
    return box.x, box.y, box.x + box.w, box.y + box.h
