"""The image view: one query's attention over a picture's patches (a ViT's CLS, a
register, a VLM's text token, or a patch), the cells tiling the photo exactly and coloured
over it; the heads as small multiples beside their mean; DINO's masks as outlines along
patch edges (one colour per head over one photo, Caron et al. 2021, Fig. 1); token norms
as a second map (Darcet et al. 2023)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.patch_maps import (
    Share,
    dino_mask,
    focus_index,
    outside_share,
    patch_map,
    patches_of,
    square,
    word_axis_tokens,
)
from ..captions import Essential, counted
from ..colours import head_colour
from ..fields import Field, boolean, choice, colormap, length, number
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import words
from ..layout.legend import colour_bar, head_key, horizontal_bar
from ..layout.picture_panel import SMOOTH_SAMPLES, PanelMap, map_panel, panel_height
from ..layout.scale import colour_scale
from ..layout.table import Table
from ..options import FOCUS
from ..patches import Patches
from ..photo import Photo
from ..scene import Node, bounds
from .base import View
from .registry import register

PER_ROW = 6  # head thumbnails a row


def map_options(view: str) -> tuple[Field, ...]:
    """The options the views of maps over a picture share."""
    return (
        Field("smooth", boolean(), False, f"{view.title()} view: smooth each map bilinearly "
              "for display (the caption says so); default: one flat cell per patch.",
              group=f"{view} view"),
        Field("photo", choice("show", "hide"), "show", f"{view.title()} view: draw the "
              "picture (when the input has one) or not.", group=f"{view} view"),
    )


def map_theme_keys(view: str) -> tuple[Field, ...]:
    return (
        Field(f"{view}.panel", length(16, 2000), "12em", f"{view.title()} view: width of the "
              "main panel when the width is auto."),
        Field(f"{view}.outline_width", length(0.1, 10), "1.5pt", f"{view.title()} view: "
              "width of mask outlines."),

    )


@register
class ImageView(View):
    name = "image"
    summary = "one query's attention over a picture's patches (ViT CLS, registers, VLMs)"
    default_heads = "all"
    pictures = True
    signed = False  # a difference of maps over a photo: draw it with the matrix view
    reads = ("layer", "heads", "combine", "colormap", "vmin", "vmax", "norm", "gamma")
    hints: ClassVar[Mapping[str, str]] = {
        "window": "the image view draws every patch; drop it",
        "pool": "the image view draws every patch; drop it",
        "hide_special": "prefix tokens are left out of the colour scale already; drop it",
        "minus_layer": "draw the difference with the matrix or grid view",
        "minus_head": "draw the difference with the matrix or grid view",
    }
    options = (
        FOCUS,
        Field("mask", number(0.01, 1), None, "Image view: outline the fewest patches that "
              "hold this share of each map's patch attention (DINO: 0.6), along patch edges; "
              "with several heads, one colour per head over one photo.", group="image view",
              metavar="SHARE"),
        *map_options("image"),
        Field("norms", choice("show", "hide"), "show", "Image view: draw the tokens' norms as "
              "a second map when the input has them (high-norm tokens, Darcet et al. 2023), "
              "or not.", group="image view"),
    )
    theme_keys = (*map_theme_keys("image"),
                  Field("image.opacity", number(0, 1), 0.6, "Image view: opacity of the map's "
                        "cells over the photo (1 without one)."),
                  Field("image.colormap", colormap(stops=False), "magma", "Image view: the "
                        "colour map of a map over a photo (a dark weakest colour keeps the "
                        "photo legible); `--colormap` overrides it."))

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        patches = patches_of(data, self.name)
        plan = _plan(data, patches, opts)
        photo = patches.photo if opts["photo"] == "show" else None
        # over a photo, a map whose weakest colour is dark keeps the picture legible (a
        # light one washes it out); the heads below, on their own shared scale
        over = {**opts, "colormap": opts.get("colormap") or ctx.value("image.colormap")} \
            if photo is not None else opts
        scale = colour_scale(ctx, plan.main, data, over, binary=False, attention=False,
                             signed=False)
        heads_scale = None if not plan.heads else colour_scale(
            ctx, np.stack(plan.heads), data, opts, binary=False, attention=False, signed=False)
        norm_scale = None if plan.norms is None else colour_scale(
            ctx, plan.norms, data, {}, binary=False, attention=False, signed=False)
        palette = ctx.value("colors.heads")
        look = _Look(scale, heads_scale, norm_scale, photo, bool(opts["smooth"]),
                     float(ctx.value("image.opacity")) if photo is not None else 1.0,  # type: ignore[arg-type]
                     [head_colour(palette, i)  # type: ignore[arg-type]
                      for i in range(max(1, len(plan.heads)))])
        body = fit(lambda c, side: _arrange(c, side, plan, patches, look), ctx, width,
                   ctx["image.panel"], smallest=6 * ctx.em, largest=2 * ctx["image.panel"],
                   what="patches")
        body.caption = _caption(data, patches, plan, scale, opts, photo is not None,
                                look.opacity)
        body.name = "Attention over an image"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per patch: its row, column and token, the weight drawn (and whether it is in
        the mask); with several heads, each head's weight (and mask) after it."""
        patches = patches_of(data, self.name)
        plan = _plan(data, patches, opts)
        header = ["row", "col", "weight"]
        columns = [plan.main]
        masks = []
        if plan.mask is not None:
            header.append("in_mask")
            masks.append(dino_mask(plan.main, plan.mask))
        for name, values in zip(plan.head_names, plan.heads, strict=True):
            header.append(f"weight_{name}")
            columns.append(values)
            if plan.mask is not None:
                header.append(f"in_mask_{name}")
                masks.append(dino_mask(values, plan.mask))

        def rows() -> Any:
            for r in range(patches.rows):
                for c in range(patches.cols):
                    out: list[object] = [r, c]
                    for k, values in enumerate(columns):
                        out.append(float(values[r, c]))
                        if plan.mask is not None:
                            out.append(int(masks[k][r, c]))
                    yield out
        return Table(header, rows())


class _Look(NamedTuple):
    """How the image view paints: its colour scales, photo, smoothing, opacity, and the
    heads' colours."""

    scale: Any
    heads_scale: Any
    norm_scale: Any
    photo: Photo | None
    smooth: bool
    opacity: float
    colours: list[str]


def _arrange(c: Context, side: float, plan: _Plan, patches: Patches, look: _Look) -> Body:
    """The main panel ``side`` wide (the photo and the map, or one mask per head), its
    colour bar or head key, the norms beside it, the heads' maps below."""
    em = c.em
    shape = (patches.rows, patches.cols)
    line = c["image.outline_width"]
    several = plan.mask is not None and bool(plan.heads)
    masks = [] if plan.mask is None else \
        [(dino_mask(m, plan.mask), look.colours[k]) for k, m in enumerate(plan.heads)] \
        if several else [(dino_mask(plan.main, plan.mask), look.colours[0])]
    heading = c.box(plan.main_name, factor=0.9)
    top = heading.height + 0.4 * em
    text = str(c.value("colors.text"))
    nodes: list[Node] = [c.text("main-title", heading, 0.0, heading.height / 2, "start",
                                "panel-title", text)]
    nodes += map_panel(c, "main", 0.0, top, side, shape,
                       PanelMap(None if several else plan.main, masks, look.smooth),
                       look.scale, photo=look.photo, opacity=look.opacity, outline_width=line)
    height = panel_height(side, *shape, look.photo)
    gradients = []
    if several:
        key = head_key(c, [(n, look.colours[k]) for k, n in enumerate(plan.head_names)],
                       side + 1.2 * em, top)
    else:
        key = colour_bar(c, look.scale, side + 1.2 * em, top, height, id_="colorbar")
    nodes += key.nodes
    gradients += key.gradients
    x = (key.box.right if key.box else side) + 1.5 * em
    if plan.norms is not None and look.norm_scale is not None:
        label = c.box("token norm", factor=0.9)
        nodes.append(c.text("norms-title", label, x, heading.height / 2, "start",
                            "panel-title", text))
        nodes += map_panel(c, "norms", x, top, side, shape, PanelMap(plan.norms),
                           look.norm_scale, outline_width=line)
        bar = colour_bar(c, look.norm_scale, x + side + 1.2 * em, top, height, "norm",
                         id_="norms-colorbar")
        nodes += bar.nodes
        gradients += bar.gradients
    if plan.heads and not several:
        drawn = bounds(nodes)
        thumbs, more = _thumbnails(c, plan, shape, look, top + height + 1.2 * em,
                                   drawn.right if drawn else side, side, line)
        nodes += thumbs
        gradients += more
    return Body(nodes, gradients, f"Attention of {plan.query_name} over a {patches.rows} x "
                f"{patches.cols} grid of image patches.")


def _thumbnails(c: Context, plan: _Plan, shape: tuple[int, int], look: _Look, y: float,
                room: float, side: float, line: float) -> tuple[list[Node], list[Any]]:
    """Each head's map, PER_ROW a row across ``room``, on the main map's colour scale."""
    em = c.em
    nodes: list[Node] = []
    per_row = min(PER_ROW, len(plan.heads))
    gap = 0.6 * em
    # the heads of one layer are named by head alone (the main panel's caption names the
    # layer), and a thumbnail is never narrower than its name
    shown = [n.split(" ", 1)[1] if " " in n and len({h.split(" ", 1)[0] for h in
                                                      plan.head_names}) == 1 else n
             for n in plan.head_names]
    widest = max(c.box(n, factor=0.8).width for n in shown)
    thumb = max(widest, min(side / 2, (max(room, side) - gap * (per_row - 1)) / per_row))
    muted = str(c.value("colors.muted"))
    for k, (values, name) in enumerate(zip(plan.heads, shown, strict=True)):
        r, col = divmod(k, per_row)
        label = c.box(name, factor=0.8)
        th = panel_height(thumb, *shape, None)
        tx, ty = col * (thumb + gap), y + r * (th + label.height + 0.9 * em)
        nodes.append(c.text(f"head-title-{k}", label, tx, ty + label.height / 2, "start",
                            "panel-title", muted))
        masks = [] if plan.mask is None else [(dino_mask(values, plan.mask),
                                               look.colours[k])]
        nodes += map_panel(c, f"head-{k}", tx, ty + label.height + 0.3 * em, thumb, shape,
                           PanelMap(values, masks, look.smooth), look.heads_scale,
                           outline_width=line * 0.6, name=plan.head_names[k])
    drawn = bounds(nodes)
    bar = horizontal_bar(c, look.heads_scale, 0.0, (drawn.bottom if drawn else y) + 0.8 * em,
                         max(room, side), "heads: attention", id_="heads-colorbar",
                         within=True)
    return nodes + bar.nodes, bar.gradients


class _Plan:
    """What the image view draws: the main map, the heads' maps, the norms."""

    def __init__(self, main: np.ndarray, main_name: str, heads: list[np.ndarray],
                 head_names: list[str], query: int | None, query_name: str,
                 share: Share | None, norms: np.ndarray | None, mask: float | None) -> None:
        self.main, self.main_name, self.heads, self.head_names = main, main_name, heads, \
            head_names
        self.query, self.query_name, self.share, self.norms, self.mask = query, query_name, \
            share, norms, mask


def _plan(data: FigureData, patches: Patches, opts: Mapping[str, Any]) -> _Plan:
    where = "image view"
    query = focus_index(data, patches, opts.get("focus"), where)
    labels = word_axis_tokens(data, patches)
    if query is None:
        query_name = "the patches (mean of their rows)" if square(data) else \
            "every query (their mean)"
    else:
        at = patches.where(query) if patches.axis == "key" and square(data) else None
        query_name = f"patch ({at[0]}, {at[1]})" if at else labels[query]
    main = patch_map(data.matrix, patches, query)
    rollout = opts.get("combine") == "rollout"
    heads: list[np.ndarray] = []
    names: list[str] = []
    if len(data.heads) > 1 and not rollout:
        for head in data.heads:
            weights = head.weights
            assert weights is not None
            heads.append(patch_map(weights, patches, query))
            names.append(head.name)
    share = outside_share(data.matrix, patches, query, data.key_labels)
    norms = None
    if patches.norms is not None and opts.get("norms", "show") == "show":
        norms = np.asarray(patches.norms, dtype=np.float64)[patches.tokens]
    if opts.get("mask") is not None and len(heads) > 1:
        main_name = f"masks of {len(heads)} heads"
    elif len(data.heads) == 1:
        main_name = data.heads[0].name
    elif rollout:
        main_name = "rollout"
    else:
        main_name = f"{opts.get('combine') or 'mean'} of {len(data.heads)} heads"
    return _Plan(main, main_name, heads, names, query, query_name, share, norms,
                 opts.get("mask"))


def percent(share: float) -> str:
    """A share for a caption: whole percent from 10 %, one decimal below (parts of a small
    total add up to it), and under 0.1 % said so (never "0 %")."""
    if 0 < share < 0.0005:
        return "<0.1%"
    return f"{share:.0%}" if share >= 0.095 else f"{share:.1%}"


def _caption(data: FigureData, patches: Patches, plan: _Plan, scale: Any,
             opts: Mapping[str, Any], photo: bool, opacity: float) -> list[str]:
    out: list[str] = [Essential(data.headline) if data.headline else "",
                      Essential(f"Attention of {plan.query_name} over the {patches.rows} x "
                                f"{patches.cols} patches of the picture" if patches.axis == "key"
                                else f"Attention from each of the {patches.rows} x "
                                f"{patches.cols} patches (pixels as queries) to "
                                f"{plan.query_name}"),
                      Essential(data.matrix_caption, data.short_caption or None)
                      if not (plan.mask is not None and plan.heads) else
                      Essential(f"{counted(len(plan.heads), 'head')} ("
                                f"{', '.join(plan.head_names)}), each outlined in its colour")]
    if patches.note:
        out.append(patches.note[:1].upper() + patches.note[1:])
    if plan.share is not None:
        parts = ", ".join(f"{name} {percent(share)}" for name, share in plan.share.parts)
        who = plan.query_name
        out.append(f"Not on the picture: {percent(plan.share.total)} of {who}'s attention goes to "
                   f"tokens outside the grid ({parts}); the colour scale covers the patches "
                   "only")
    if photo and not (plan.mask is not None and plan.heads) and not opts.get("smooth"):
        out.append(f"Each cell is one patch, coloured at {opacity:.0%} opacity over the photo")
    if opts.get("smooth"):
        out.append(f"Smoothed for display (bilinear, {SMOOTH_SAMPLES} samples a patch side)"
                   f"{f', at {opacity:.0%} opacity over the photo' if photo else ''}; the data "
                   "are one value per patch (the CSV)")
    if plan.mask is not None:
        kept = [int(dino_mask(m, plan.mask).sum()) for m in (plan.heads or [plan.main])]
        who = "each head's" if plan.heads else "the map's"
        counts = ", ".join(f"{n} {k}" for n, k in zip(plan.head_names, kept, strict=True)) \
            if plan.heads else str(kept[0])
        out.append(f"Outlined: the fewest patches holding {plan.mask:.0%} of {who} patch "
                   f"attention (DINO), {counts} of {patches.rows * patches.cols} patches")
    if plan.heads and plan.mask is None:
        out.append(f"Below: {counted(len(plan.heads), 'head')} one by one, on their own shared "
                   "colour scale")
    if plan.norms is not None:
        out.append("Right: each patch token's norm (its own colour scale)")
    out += list(data.notes)
    out += words(scale)
    return [x for x in out if x]
