"""Legends every view shares: the colour bar (any norm, round ticks), high/low swatches
for binary data, and a key of head colours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..analysis.scale import ColourScale
from ..scene import Box, Gradient, Node, Rect, Style
from .context import Context
from .guide import ticks


@dataclass(eq=False)
class Legend:
    nodes: list[Node] = field(default_factory=list)
    gradients: list[Gradient] = field(default_factory=list)

    @property
    def box(self) -> Box | None:
        from ..scene import bounds

        return bounds(self.nodes)


def legend(ctx: Context, scale: ColourScale, x: float, top: float, height: float,
           title: str | None = None) -> Legend:
    """Swatches for binary data, else a vertical colour bar of ``height`` beside a figure,
    its title at ``top``."""
    if scale.kind == "binary":
        return swatches(ctx, scale, x, top)
    return colour_bar(ctx, scale, x, top, height, title)


def swatches(ctx: Context, scale: ColourScale, x: float, top: float) -> Legend:
    out = Legend()
    em = ctx.em
    side = 1.1 * em
    muted = str(ctx.value("colors.muted"))
    for k, (key, colour) in enumerate((("legend.high_label", scale.high),
                                       ("legend.low_label", scale.low))):
        y = top + k * (side + 0.5 * em)
        out.nodes.append(Rect(f"legend-swatch-{k}", Box(x, y, side, side),
                              Style(fill=colour, stroke=muted, stroke_width=0.4 * ctx.scale),
                              "swatch"))
        box = ctx.box(str(ctx.value(key)), factor=0.9, shorten_to=0)
        out.nodes.append(ctx.text(f"legend-label-{k}", box, x + side + 0.4 * em, y + side / 2,
                                  "start", "legend-label", muted))
    return out


def colour_bar(ctx: Context, scale: ColourScale, x: float, top: float, height: float,
               title: str | None = None, *, id_: str = "colorbar") -> Legend:
    """A vertical bar whose axis is the scale's normalised one (so a log or power norm
    spaces its ticks accordingly), with ticks at round values."""
    out = Legend()
    em = ctx.em
    muted = str(ctx.value("colors.muted"))
    heading = ctx.box(title if title is not None else _title(ctx, scale),
                      factor=0.9, shorten_to=0)
    bar_top = top + heading.centred_extent + 0.8 * em
    bar_h = max(height - (bar_top - top), 5 * em)
    bar = Box(x, bar_top, 0.9 * em, bar_h)
    gradient = Gradient(f"{id_}-gradient", scale.gradient())
    out.gradients.append(gradient)
    out.nodes.append(ctx.text(f"{id_}-title", heading, x, top + heading.centred_extent / 2,
                              "start", "legend-label", muted))
    out.nodes.append(Rect(id_, bar, Style(gradient=gradient.id, stroke=muted,
                                          stroke_width=0.4 * ctx.scale), "colorbar"))
    tick_h = ctx.box("0", factor=0.9).height
    most = max(2, min(6, int(bar_h // (1.4 * tick_h)) + 1))
    for k, (_, position, label) in enumerate(ticks(scale, most)):
        y = bar.bottom - position * bar_h
        out.nodes.append(Rect(f"{id_}-tick-{k}", Box(bar.right, y - 0.3 * ctx.scale, 0.3 * em,
                                                     0.6 * ctx.scale), Style(fill=muted), "tick"))
        box = ctx.box(label, factor=0.9, shorten_to=0)
        out.nodes.append(ctx.text(f"{id_}-tick-label-{k}", box, bar.right + 0.55 * em, y,
                                  "start", "tick-label", muted))
    return out


def horizontal_bar(ctx: Context, scale: ColourScale, x: float, top: float, width: float,
                   title: str | None = None, *, id_: str = "colorbar",
                   least: float = 6.0, within: bool = False) -> Legend:
    """A horizontal colour bar (below running text): title on the left, ticks below; the
    bar at least ``least`` em long. Tick labels are centred on their ticks, so the end
    ones reach half their width past the bar; ``within``: the bar is shortened so they
    stay inside ``width`` (where the figure's edge is)."""
    out = Legend()
    em = ctx.em
    muted = str(ctx.value("colors.muted"))
    heading = ctx.box(title if title is not None else _title(ctx, scale),
                      factor=0.9, shorten_to=0)
    bar_h = 0.8 * em
    if heading.width:  # an empty title: the bar alone
        out.nodes.append(ctx.text(f"{id_}-title", heading, x, top + bar_h / 2, "start",
                                  "legend-label", muted))
    left = x + heading.width + 0.8 * em if heading.width else x
    if scale.kind == "binary":  # two swatches on one line
        return swatches(ctx, scale, left, top)
    label_w = max(ctx.box(t[2], factor=0.9).width for t in ticks(scale, 6))
    inset = label_w / 2 if within else 0.0
    bar = Box(left, top, max(width - (left - x) - inset, least * em), bar_h)
    gradient = Gradient(f"{id_}-gradient", scale.gradient(), vertical=False)
    out.gradients.append(gradient)
    out.nodes.append(Rect(id_, bar, Style(gradient=gradient.id, stroke=muted,
                                          stroke_width=0.4 * ctx.scale), "colorbar"))
    most = max(2, min(6, int(bar.w // (1.6 * label_w + em)) + 1))
    marks = ticks(scale, most)
    while len(marks) < 2 and most < 6:  # round steps too coarse for the range: finer
        most += 1
        marks = ticks(scale, most)
    for k, (_, position, label) in enumerate(marks):
        cx = bar.x + position * bar.w
        out.nodes.append(Rect(f"{id_}-tick-{k}", Box(cx - 0.3 * ctx.scale, bar.bottom,
                                                     0.6 * ctx.scale, 0.3 * em),
                              Style(fill=muted), "tick"))
        box = ctx.box(label, factor=0.9, shorten_to=0)
        out.nodes.append(ctx.baseline_text(f"{id_}-tick-label-{k}", box, cx,
                                           bar.bottom + 0.45 * em + box.ascent, "middle",
                                           "tick-label", muted))
    return out


def head_key(ctx: Context, heads: Sequence[tuple[str, str]], x: float, top: float,
             *, width: float = 0.0) -> Legend:
    """A key of head colours: a short stroke in each head's colour and its name, in rows
    that wrap at ``width`` (one column when 0)."""
    out = Legend()
    em = ctx.em
    text_colour = str(ctx.value("colors.text"))
    cx, cy = x, top
    row_h = 1.5 * em
    for k, (name, colour) in enumerate(heads):
        box = ctx.box(name, factor=0.9)
        item_w = 1.6 * em + box.width + 1.2 * em
        if width and cx > x and cx + item_w > x + width:
            cx, cy = x, cy + row_h
        mid = cy + row_h / 2
        out.nodes.append(Rect(f"head-key-{k}", Box(cx, mid - 0.15 * em, 1.2 * em, 0.3 * em),
                              Style(fill=colour), "head-key"))
        out.nodes.append(ctx.text(f"head-key-label-{k}", box, cx + 1.6 * em, mid, "start",
                                  "legend-label", text_colour))
        if width:
            cx += item_w
        else:
            cy += row_h
    return out


def _title(ctx: Context, scale: ColourScale) -> str:
    """The colour bar's title: the theme's, with the unit of relative colours."""
    base = str(ctx.value("legend.title"))
    unit = {"uniform": "\u00d7 uniform", "row": "\u00f7 row max"}.get(scale.relative, "")
    return f"{base} ({unit})" if unit else base
