"""The words view: one small map over the picture's grid per text token (Prompt-to-Prompt,
DAAM): diffusion cross-attention with pixels as queries, or a vision-language model's
answer attending to its image's patches, averaged over the layers and heads chosen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.patch_maps import chosen_words, patch_map, patches_of, word_axis_tokens
from ..captions import Essential, counted
from ..fields import Field, boolean, text
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import Body
from ..layout.guide import words as scale_words
from ..layout.legend import colour_bar
from ..layout.picture_panel import SMOOTH_SAMPLES, PanelMap, map_panel, panel_height
from ..layout.scale import colour_scale
from ..layout.table import Table
from ..patches import Patches
from ..scene import Node
from .base import View
from .image import map_options, map_theme_keys
from .registry import register

PER_ROW = 5  # maps a row (the photo's panel is the first)


@register
class Words(View):
    name = "words"
    summary = "one map over the picture per word (diffusion cross-attention, a VLM's answer)"
    default_heads = "all"
    pictures = True
    signed = False  # a difference of maps over a photo: draw it with the matrix view
    reads = ("layers", "heads", "colormap", "vmin", "vmax", "norm", "gamma")
    hints: ClassVar[Mapping[str, str]] = {
        "layer": "the words view averages over --layers (default all); use --layers N",
        "focus": "name the tokens with --words",
    }
    options = (
        Field("words", text(4000), None, "Words view: the tokens mapped, a comma list of "
              "strings or indices; default: every text token (start, end and padding tokens "
              "dropped), or a VLM's generated tokens.", group="words view", metavar="LIST"),
        Field("specials", boolean(), False, "Words view: keep start, end and padding tokens.",
              group="words view"),
        Field("relative", boolean(), False, "Words view: colour each map relative to its own "
              "largest weight (as Prompt-to-Prompt and DAAM do); default: one scale for all.",
              group="words view"),
        *map_options("words"),
    )
    theme_keys = map_theme_keys("words")

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        patches = patches_of(data, self.name)
        chosen, maps, mean = _maps(data, patches, opts)
        names = word_axis_tokens(data, patches)
        drawn = [m / m.max() if opts["relative"] and m.max() > 0 else m for m in maps]
        scale = colour_scale(ctx, np.stack(drawn), data, opts, binary=False, attention=False,
                             signed=False)
        photo = patches.photo if opts["photo"] == "show" else None
        shape = (patches.rows, patches.cols)
        count = len(drawn) + (photo is not None)
        per_row = -(-count // -(-count // PER_ROW))  # rows as even as they can be

        def arrange(c: Context, side: float) -> Body:
            em = c.em
            gap = 0.6 * em
            nodes: list[Node] = []
            height = panel_height(side, *shape, photo)
            panels: list[tuple[str, np.ndarray | None]] = []
            if photo is not None:
                panels.append(("picture", None))
            panels += [(names[t], m) for t, m in zip(chosen, drawn, strict=True)]
            label_h = c.box("Ag", factor=0.9).height
            for k, (name, values) in enumerate(panels):
                r, col = divmod(k, per_row)
                x = col * (side + gap)
                y = r * (height + label_h + 1.0 * em)
                label = c.box(name, factor=0.9)
                nodes.append(c.text(f"word-{k}", label, x, y + label_h / 2, "start",
                                    "panel-title", str(c.value("colors.text"))))
                nodes += map_panel(c, f"map-{k}", x, y + label_h + 0.3 * em, side, shape,
                                   PanelMap(values, (), bool(opts["smooth"])), scale,
                                   photo=photo if values is None else None,
                                   outline_width=c["words.outline_width"],
                                   name=name if values is not None else "")
            right = per_row * (side + gap) - gap + 1.2 * em
            bar = colour_bar(c, scale, right, label_h + 0.3 * em, height,
                             "÷ map max" if opts["relative"] else None, id_="colorbar")
            nodes += bar.nodes
            return Body(nodes, bar.gradients, f"{len(drawn)} word maps over a "
                        f"{patches.rows} x {patches.cols} grid.")

        body = fit(arrange, ctx, width, ctx["words.panel"] / 2, smallest=3 * ctx.em,
                   largest=2 * ctx["words.panel"], what="maps")
        caption: list[str] = [Essential(data.headline) if data.headline else "",
                              Essential(f"Attention between each word and the {patches.rows} x "
                                        f"{patches.cols} patches: {mean}")]
        if patches.note:
            caption.append(patches.note[:1].upper() + patches.note[1:])
        if not opts["specials"] and opts.get("words") is None:
            caption.append("Start, end and padding tokens left out")
        if opts["relative"]:
            caption.append("Each map coloured relative to its own largest weight")
        if opts["smooth"]:
            caption.append(f"Smoothed for display (bilinear, {SMOOTH_SAMPLES} samples a patch "
                           "side); the data are one value per patch")
        caption += list(data.notes)
        caption += scale_words(scale)
        body.caption = [x for x in caption if x]
        body.name = "Word maps over an image"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per (word, patch): the word's index and text, the patch's row and column,
        the weight (averaged as drawn, before any relative colouring)."""
        patches = patches_of(data, self.name)
        chosen, maps, _ = _maps(data, patches, opts)
        names = word_axis_tokens(data, patches)

        def rows() -> Any:
            for t, values in zip(chosen, maps, strict=True):
                for r in range(patches.rows):
                    for c in range(patches.cols):
                        yield [t, names[t], r, c, float(values[r, c])]
        return Table(["word_index", "word", "row", "col", "weight"], rows())


def _maps(data: FigureData, patches: Patches,
          opts: Mapping[str, Any]) -> tuple[list[int], list[np.ndarray], str]:
    """The words mapped, each one's map (the mean over the layers and heads chosen), and
    what the caption says of that mean."""
    chosen, found = chosen_words(data, patches, opts.get("words"), bool(opts["specials"]),
                                 "words view")
    layers, heads = len(data.stack_layers), len(data.stack_heads)
    total: np.ndarray | None = None
    for r in range(layers):
        for c in range(heads):
            m = np.asarray(data.stack_of(r, c), dtype=np.float64)
            total = m if total is None else total + m
    assert total is not None
    mean = total / (layers * heads)
    said = (f"mean over {counted(layers, 'layer')} ({_span(data.stack_layers)}) and "
            f"{counted(heads, 'head')} ({_span(data.stack_heads)})")
    if found > len(chosen):
        said += f"; the first {len(chosen)} of {found} words (name others with --words)"
    return chosen, [patch_map(mean, patches, t) for t in chosen], said


def _span(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]}\u2013{names[-1]}" \
        if len(names) > 3 else ", ".join(names)
