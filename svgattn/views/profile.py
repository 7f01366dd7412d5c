"""The profile view: a number per head read layer by layer, as a line chart (Clark et al.
2019, Fig. 2: attention to [CLS], [SEP], "." and "," by layer; head entropies by layer).
Each dot is a head; each line the mean over the heads of one series. Series of one unit
share a panel (shares on 0-1; entropy in bits; distance in tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.head_scores import SCORES
from ..analysis.profile import Series, parse_tokens, profile
from ..captions import Essential, counted
from ..colours import head_colour
from ..fields import At, Field, Kind, length, text
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import nice_ticks, tick_labels
from ..layout.legend import head_key
from ..layout.table import Table
from ..options import TOKENS
from ..scene import Box, Node, Path, Rect, Style
from .base import View
from .registry import register

UNITS = {"share": "share of attention", "bits": "entropy (bits)", "tokens": "distance (tokens)"}


def _tokens() -> Kind:
    def check(value: Any, at: At) -> Any:
        ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(
            isinstance(v, str) for v in value))
        if not ok:
            raise at.fail("give token strings: a list, or one string separated by spaces "
                          "(\"[CLS] [SEP] . ,\")")
        return list(value) if isinstance(value, tuple) else value
    return Kind("token list", check)


@register
class Profile(View):
    name = "profile"
    summary = "a score per head read layer by layer: each head a dot, the mean a line"
    default_heads = "all"
    many_inputs = True  # each head's numbers averaged over several inputs
    reads = ("layers", "heads", *TOKENS)
    hints: ClassVar[Mapping[str, str]] = {
        "layer": "the profile view reads every layer of --layers; use --layers",
        "combine": "each head is a dot of its own; drop it",
    }
    options = (
        Field("score", text(200), None, "Profile view: head scores to profile, "
              "comma-separated (sink, previous, self, local, entropy, induction, duplicate, "
              "or all); default: sink, previous and self, unless `to` is given.",
              group="profile view"),
        Field("to", _tokens(), None, "Profile view: token strings whose share of each head's "
              "attention to profile (Clark et al. 2019), separated by spaces on the command "
              "line (`\"[CLS] [SEP] . ,\"`), a list in a spec.", group="profile view",
              metavar="TOKENS"),
    )
    theme_keys = (
        Field("profile.panel", length(20, 2000), "24em", "Profile view: width of a panel "
              "when the width is auto."),
        Field("profile.dot", length(0.2, 20), "2pt", "Profile view: diameter of a head's dot."),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        inputs, series = _series(data, opts)
        palette = ctx.value("colors.heads")
        colours = [head_colour(palette, i) for i in range(len(series))]  # type: ignore[arg-type]
        body = fit(lambda c, w: _arrange(c, w, data, series, colours), ctx, width,
                   ctx["profile.panel"], smallest=10 * ctx.em, largest=3 * ctx["profile.panel"],
                   what="layers")
        lengths = sorted(len(d.key_tokens) for d in inputs)
        span = f"{lengths[0]}" if lengths[0] == lengths[-1] else \
            f"{lengths[0]}\u2013{lengths[-1]}"
        over = f"{lengths[0]} tokens" if len(inputs) == 1 else \
            f"the mean over {len(inputs)} inputs of {span} tokens"
        caption = [*data.notes, Essential(
            f"Each dot one head ({counted(len(data.stack_heads), 'head')} a layer), each "
            f"line the mean over a layer's heads; {over}")]
        for s in series:
            top = int(np.argmax(s.means)) if not _low(s) else int(np.argmin(s.means))
            one = s.inputs == 1
            some = f" (over the {s.inputs} input{'' if one else 's'} that hold{'s' if one else ''}"\
                " it)" if 0 < s.inputs < len(inputs) else ""
            caption.append(f"{s.name}{some}: mean {s.means.mean():.2f} over layers; "
                           f"{'lowest' if _low(s) else 'highest'} in "
                           f"{data.stack_layers[top]} ({s.means[top]:.2f})")
        body.caption, body.name = caption, "Per-layer profile of attention heads"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per (series, layer, head), and each layer's mean as head ``mean``."""
        _, series = _series(data, opts)
        rows: list[list[object]] = []
        for s in series:
            for r, layer in enumerate(data.stack_layers):
                rows += [[s.name, layer, head, float(s.values[r, c])]
                         for c, head in enumerate(data.stack_heads)]
                rows.append([s.name, layer, "mean", float(s.means[r])])
        return Table(["series", "layer", "head", "value"], rows)


def _low(s: Series) -> bool:
    name = s.name
    return name in SCORES and SCORES[name].low


def _series(data: FigureData, opts: Mapping[str, Any]) -> tuple[tuple[FigureData, ...],
                                                                 list[Series]]:
    inputs = (data, *data.more)
    tokens = parse_tokens(opts.get("to"), "profile view")
    scores = opts.get("score")
    if scores is None:
        scores = "none" if tokens else "sink,previous,self"
    return inputs, profile(inputs, scores, tokens, "profile view")


def _arrange(c: Context, panel: float, data: FigureData, series: list[Series],
             colours: list[str]) -> Body:
    """One panel per unit, stacked: a y axis with ticks, layers along x, a dot per head
    and a line through the layer means per series; the series key on the right."""
    em = c.em
    muted = str(c.value("colors.muted"))
    layers = data.stack_layers
    kinds = [k for k in UNITS if any(s.kind == k for s in series)]
    height = panel * 0.45
    tick_w = max(c.box(t, factor=0.8).width for t in ("0.25", "10.5"))
    left = tick_w + 2.4 * em  # tick labels and the turned axis title
    step = panel / max(len(layers), 1)
    nodes: list[Node] = []
    y0 = 0.0
    dot = c["profile.dot"]
    for p, kind in enumerate(kinds):
        group = [(s, colours[i]) for i, s in enumerate(series) if s.kind == kind]
        top = 1.0 if kind == "share" else max(float(max(s.values.max() for s, _ in group)),
                                               1e-9)
        ticks = nice_ticks(0.0, top, 5)
        top = max(top, ticks[-1])

        def y(v: float, y0: float = y0, top: float = top) -> float:
            return y0 + height * (1 - v / top)

        axis = Style(stroke=muted, stroke_width=0.6 * c.scale)
        nodes.append(Path(f"axis-{p}", (("M", (left, y0)), ("L", (left, y0 + height)),
                                       ("L", (left + panel, y0 + height))), axis, "axis"))
        for k, (value, label) in enumerate(zip(ticks, tick_labels(ticks), strict=True)):
            box = c.box(label, factor=0.8)
            nodes.append(Path(f"tick-{p}-{k}", (("M", (left - 0.3 * em, y(value))),
                                               ("L", (left, y(value)))), axis, "tick"))
            nodes.append(c.text(f"tick-label-{p}-{k}", box, left - 0.45 * em, y(value), "end",
                                "tick-label", muted))
        title = c.box(UNITS[kind], factor=0.8)
        nodes.append(c.up_text(f"axis-title-{p}", title, 0.6 * em,
                               y0 + height / 2 + title.width / 2, "axis-title", muted))
        for i, (s, colour) in enumerate(group):
            xs = [left + (r + 0.5) * step for r in range(len(layers))]
            for r in range(len(layers)):
                for h in range(s.values.shape[1]):
                    cy = y(float(s.values[r, h]))
                    nodes.append(Rect(f"dot-{p}-{i}-{r}-{h}",
                                      Box(xs[r] - dot / 2, cy - dot / 2, dot, dot),
                                      Style(fill=colour, opacity=0.45), "head-dot",
                                      radius=dot / 2,
                                      title=f"{s.name}, {layers[r]} {data.stack_heads[h]}: "
                                            f"{s.values[r, h]:.3g}"))
            line = tuple(("M" if r == 0 else "L", (xs[r], y(float(m))))
                         for r, m in enumerate(s.means))
            if len(line) == 1:  # one layer: the mean as a short bar across its dots
                x, my = line[0][1]
                line = (("M", (x - 0.25 * step, my)), ("L", (x + 0.25 * step, my)))
            nodes.append(Path(f"mean-{p}-{i}", line, Style(stroke=colour, stroke_width=1.4 *
                                                           c.scale, linecap="round"), "mean"))
        y0 += height + 1.2 * em
        if p == len(kinds) - 1:  # layer names under the last panel, thinned to fit
            every = max(1, int(np.ceil(max(c.box(n, factor=0.8).width for n in layers)
                                       / (step * 0.9))))
            for r, name in enumerate(layers):
                if r % every:
                    continue
                box = c.box(name, factor=0.8)
                nodes.append(c.text(f"layer-{r}", box, left + (r + 0.5) * step,
                                    y0 - 1.2 * em + 0.8 * em, "middle", "tick-label", muted))
    key = head_key(c, [(s.name, colours[i]) for i, s in enumerate(series)],
                   left + panel + 1.2 * em, 0.0)
    nodes += key.nodes
    return Body(nodes, [], f"Per-layer profile of {len(series)} series over "
                f"{len(layers)} layers.")

