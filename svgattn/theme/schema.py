"""Every theme key: its type, default and one-line doc. The README's key table is generated
from this list (``python -m svgattn.docs``), so it is the single source of truth."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies, without
# its blues: the default cells are blue, and a head must never wear a cell's colour.
HEADS = ["#e69f00", "#009e73", "#d55e00", "#cc79a7", "#f0e442", "#999999", "#6a3d9a",
         "#8c510a"]


@dataclass(frozen=True)
class Key:
    """One theme key. ``kind`` names the validator in :mod:`svgattn.theme.validate`."""

    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


KEYS: tuple[Key, ...] = (
    Key("name", "text", "custom", "Display name shown by `svgattn themes`."),
    Key("description", "text", "", "One line shown by `svgattn themes`."),
    Key("font.family", "family", "DejaVu Sans",
        "Font family of all text; must resolve to an installed font file (fontconfig)."),
    Key("font.size", "length", 10.0, "Base type size of labels; `em` lengths are relative to it.",
        minimum=2, maximum=72),
    Key("font.title_size", "length", "1.3em", "Type size of the figure title.", minimum=2,
        maximum=96),
    Key("font.title_weight", "choice", "bold", "Weight of the title.", choices=("normal", "bold")),
    Key("font.head_weight", "choice", "bold", "Weight of head-box labels.",
        choices=("normal", "bold")),
    Key("colors.background", "color_or_none", "#ffffff",
        "Canvas colour, or `none` for a transparent background."),
    Key("colors.text", "color", "#222222", "Labels, title and token text."),
    Key("colors.muted", "color", "#666666", "Legend labels and colour-bar ticks."),
    Key("colors.heads", "palette", HEADS,
        "Head colours in order, reused cyclically; a head's own `color` wins."),
    Key("colors.head_text", "color_or_auto", "auto",
        "Text on head boxes; `auto` picks black or white for contrast with each box."),
    Key("colors.node_fill", "color", "#ffffff", "Fill of token nodes."),
    Key("colors.node_stroke", "color", "#888888", "Outline of token nodes."),
    Key("colors.node_text", "color", "#222222", "Text of token nodes."),
    Key("colors.cell_high", "color", "#0072b2", "Matrix cells of a binary matrix that are 1."),
    Key("colors.cell_low", "color", "#eeeeee", "Matrix cells of a binary matrix that are 0."),
    Key("colors.colormap", "colormap", "Blues",
        "Continuous weights: a colour-map name (viridis, cividis, magma, Blues, Greys ...) or a "
        "list of >= 2 colour stops from the lowest to the highest weight."),
    Key("colors.diverging", "colormap", "RdBu_r",
        "Differences (signed weights): a diverging map, centred on zero (name or stops)."),
    Key("colors.grid", "color_or_none", "#ffffff",
        "Lines between matrix cells, or `none` for no lines."),
    Key("text.mode", "choice", "native",
        "How text is drawn: `native` keeps editable `<text>` (labels cairosvg cannot shape "
        "become outlines); "
        "`paths` draws all text as outlines, identical in every renderer.",
        choices=("native", "paths")),
    Key("text.min_size", "length", 5.0,
        "Type never shrinks below this to fit a width: labels of long sequences are thinned "
        "instead (every k-th token, or those the `labels` option names).", minimum=2,
        maximum=72),
    Key("text.max_label_chars", "number", 40,
        "Token and head labels longer than this end in an ellipsis (0: never shorten).",
        minimum=0, maximum=10000),
    Key("figure.width", "width", "auto",
        "Output width: a length (`6.75in`, a pasted `\\the\\columnwidth` such as `229.5pt`), "
        "a venue (`icml`, `neurips`, `acl-page` ...) or `auto` (sized from `matrix.cell_size`).",
        minimum=36, maximum=7200),
    Key("figure.show_title", "bool", True,
        "Draw the figure title (the paper theme leaves titles to the LaTeX caption)."),
    Key("figure.show_caption", "bool", True,
        "Draw the provenance caption under the figure (which heads, how combined)."),
    Key("figure.margin", "length", "1em", "Empty border around the figure.", minimum=0,
        maximum=200),
    Key("figure.title_align", "choice", "center", "Title alignment.",
        choices=("left", "center")),
    Key("matrix.cell_size", "length", "2em",
        "Side of a matrix cell when `figure.width` is `auto`.", minimum=2, maximum=200),
    Key("matrix.grid_width", "length", 1.0, "Width of the lines between cells (0 for none).",
        minimum=0, maximum=20),
    Key("matrix.raster_above", "number", 16384,
        "Matrices of more cells than this are drawn as one embedded image (one pixel per cell "
        "for long sequences) instead of vector cells; the `cells` option overrides.",
        minimum=0, maximum=1e9),
    Key("matrix.row_labels", "bool", True, "Label matrix rows (query tokens) on the left."),
    Key("matrix.column_labels", "bool", True,
        "Label matrix columns (key tokens) on top; rotated when wider than a cell."),
    Key("matrix.label_gap", "length", "0.4em", "Space between a label and the matrix.",
        minimum=0, maximum=100),
    Key("flow.connector_gap", "length", "4em", "Horizontal room for the connector curves.",
        minimum=4, maximum=500),
    Key("flow.head_gap", "length", "0.6em", "Least vertical space between two head boxes.",
        minimum=0, maximum=100),
    Key("flow.box_padding", "length", "0.6em",
        "Horizontal padding between a box's edge and its label.", minimum=0, maximum=100),
    Key("flow.box_height", "length", "1.7em", "Height of head boxes and token nodes.",
        minimum=2, maximum=200),
    Key("flow.corner_radius", "length", "0.3em", "Corner radius of head boxes and token nodes.",
        minimum=0, maximum=100),
    Key("flow.connector_width", "length", 1.4, "Stroke width of connector curves.",
        minimum=0.1, maximum=20),
    Key("flow.connector_opacity", "number", 0.85, "Opacity of connector curves.", minimum=0,
        maximum=1),
    Key("flow.node_stroke_width", "length", 0.8, "Outline width of token nodes.", minimum=0,
        maximum=20),
    Key("flow.token_nodes", "bool", True,
        "Draw token nodes between the connectors and the matrix."),
    Key("legend.show", "bool", True, "Draw the legend (swatches or colour bar)."),
    Key("legend.high_label", "text", "high", "Legend label of the high swatch (binary data)."),
    Key("legend.low_label", "text", "low", "Legend label of the low swatch (binary data)."),
    Key("legend.title", "text", "attention", "Colour-bar title (continuous data)."),
)

BASE_KEYS = KEYS


@lru_cache(maxsize=1)
def all_keys() -> tuple[Key, ...]:
    """The base keys and every view's own keys (views declare theirs in their module)."""
    from ..views import load_all  # views register their keys when imported

    extra = tuple(k for _, view in sorted(load_all().items()) for k in view.theme_keys)
    return BASE_KEYS + extra


@lru_cache(maxsize=1)
def by_name() -> dict[str, Key]:
    """Every key (views' included) by its dotted name."""
    return {key.name: key for key in all_keys()}
