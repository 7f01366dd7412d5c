"""Every theme key svgattn itself reads: a :class:`~svgattn.fields.Field` each (type,
default, one-line doc). Views declare the keys of their own tables in their modules. The
the docs' key table is generated from these records (``python -m svgattn.docs``)."""

from __future__ import annotations

from ..fields import Field, boolean, choice, colormap, colour, family, length, number, palette, text
from ..fields import width as width_kind

# Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies, without
# its blues: the default cells are blue, and a head must never wear a cell's colour.
HEADS = ["#e69f00", "#009e73", "#d55e00", "#cc79a7", "#f0e442", "#999999", "#6a3d9a",
         "#8c510a"]


KEYS: tuple[Field, ...] = (
    Field('name', text(200), "custom",
          "Display name shown by `svgattn themes`."),
    Field('description', text(200), "",
          "One line shown by `svgattn themes`."),
    Field('font.family', family(), "DejaVu Sans",
          "Font family of all text; must resolve to an installed font file (fontconfig)."),
    Field('font.size', length(2, 72), 10.0,
          "Base type size of labels; `em` lengths are relative to it."),
    Field('font.title_size', length(2, 96), "1.3em",
          "Type size of the figure title."),
    Field('font.title_weight', choice('normal', 'bold'), "bold",
          "Weight of the title."),
    Field('font.head_weight', choice('normal', 'bold'), "bold",
          "Weight of head-box labels."),
    Field('colors.background', colour("none"), "#ffffff",
          "Canvas colour, or `none` for a transparent background."),
    Field('colors.text', colour(), "#222222",
          "Labels, title and token text."),
    Field('colors.muted', colour(), "#666666",
          "Legend labels and colour-bar ticks."),
    Field('colors.heads', palette(), HEADS,
          "Head colours in order, reused cyclically; a head's own `color` wins."),
    Field('colors.head_text', colour("auto"), "auto",
          "Text on head boxes; `auto` picks black or white for contrast with each box."),
    Field('colors.node_fill', colour(), "#ffffff",
          "Fill of token nodes."),
    Field('colors.node_stroke', colour(), "#888888",
          "Outline of token nodes."),
    Field('colors.node_text', colour(), "#222222",
          "Text of token nodes."),
    Field('colors.cell_high', colour(), "#0072b2",
          "Matrix cells of a binary matrix that are 1."),
    Field('colors.cell_low', colour(), "#eeeeee",
          "Matrix cells of a binary matrix that are 0."),
    Field('colors.masked', colour(), "#d4d4d4",
          "Cells a query cannot see (a causal model's future), distinct from a zero weight."),
    Field('colors.generated', colour(), "#c0392b",
          "Labels of generated tokens (a model run with --generate) and the line before them."),
    Field('colors.colormap', colormap(), "Blues",
          "Continuous weights: a colour-map name (viridis, cividis, magma, Blues, Greys ...) or a "
        "list of >= 2 colour stops from the lowest to the highest weight."),
    Field('colors.diverging', colormap(), "RdBu_r",
          "Differences (signed weights): a diverging map, centred on zero (name or stops)."),
    Field('colors.grid', colour("none"), "#ffffff",
          "Lines between matrix cells, or `none` for no lines."),
    Field('text.mode', choice('native', 'paths'), "native",
          "How text is drawn: `native` keeps editable `<text>` (labels cairosvg cannot shape "
        "become outlines); "
        "`paths` draws all text as outlines, identical in every renderer."),
    Field('text.min_size', length(2, 72), 5.0,
          "Type never shrinks below this to fit a width: labels of long sequences are thinned "
        "instead (every k-th token, or those the `labels` option names)."),
    Field('text.max_label_chars', number(0, 10000), 40,
          "Token and head labels longer than this end in an ellipsis (0: never shorten)."),
    Field('figure.width', width_kind(36, 7200), "auto",
          "Output width: a length (`6.75in`, a pasted `\\the\\columnwidth` such as `229.5pt`), "
        "a venue (`icml`, `neurips`, `acl-page` ...) or `auto` (sized from `matrix.cell_size`)."),
    Field('figure.show_title', boolean(), True,
          "Draw the figure title (the paper theme leaves titles to the LaTeX caption)."),
    Field('figure.show_caption', boolean(), True,
          "Draw the provenance caption under the figure (which heads, how combined)."),
    Field('figure.caption', choice('full', 'short', 'none'), "full",
          "How much caption: full (provenance and notes), short (where the picture comes "
          "from and what its colours mean) or none."),
    Field('figure.margin', length(0, 200), "1em",
          "Empty border around the figure."),
    Field('figure.title_align', choice('left', 'center'), "center",
          "Title alignment."),
    Field('matrix.cell_size', length(2, 200), "2em",
          "Side of a matrix cell when `figure.width` is `auto`."),
    Field('matrix.grid_width', length(0, 20), 1.0,
          "Width of the lines between cells (0 for none)."),
    Field('matrix.raster_above', number(0, 1e9), 16384,
          "Matrices of more cells than this are drawn as one embedded image (one pixel per cell "
        "for long sequences) instead of vector cells; the `cells` option overrides."),
    Field('matrix.row_labels', boolean(), True,
          "Label matrix rows (query tokens) on the left."),
    Field('matrix.column_labels', boolean(), True,
          "Label matrix columns (key tokens) on top; rotated when wider than a cell."),
    Field('matrix.label_gap', length(0, 100), "0.4em",
          "Space between a label and the matrix."),
    Field('legend.show', boolean(), True,
          "Draw the legend (swatches or colour bar)."),
    Field('legend.high_label', text(200), "high",
          "Legend label of the high swatch (binary data)."),
    Field('legend.low_label', text(200), "low",
          "Legend label of the low swatch (binary data)."),
    Field('legend.title', text(200), "attention",
          "Colour-bar title (continuous data)."),
)

BY_NAME = {key.name: key for key in KEYS}
SECTIONS = frozenset(key.section for key in KEYS)


def find(key: str) -> Field | None:
    """The field of a theme key: svgattn's own, or a view's (loading that view)."""
    from ..views.registry import theme_field

    return BY_NAME.get(key) or theme_field(key)


def all_keys() -> tuple[Field, ...]:
    """svgattn's keys and every view's own (the docs' table)."""
    from ..views.registry import load_all

    return KEYS + tuple(k for _, view in sorted(load_all().items()) for k in view.theme_keys)
