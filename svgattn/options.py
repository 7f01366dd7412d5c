"""Figure options: the :class:`~svgattn.fields.Field` records every view may read and the
kinds only options have (selections of layers and heads, token references, link rules).
Given options are validated, and their defaults applied, in one place:
:func:`svgattn.settings.parse`.

An option is the flag ``--focus``, the spec key ``focus`` and the keyword ``focus=`` at
once. A view reads the common options it names in ``View.reads`` (the framework reads
``title``, ``show_title`` and ``caption`` for every view) and its own ``View.options``;
any other option given is an error naming the view.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import SpecError, quote
from .fields import At, Field, Kind, boolean, choice, colormap, number, text

if TYPE_CHECKING:  # pragma: no cover
    pass


def selection() -> Kind:
    """Layers or heads: indices, names, ranges (``0-3``), lists, or ``all``."""
    def check(value: Any, at: At) -> Any:
        ok = (isinstance(value, (str, int)) and not isinstance(value, bool)) or (
            isinstance(value, (list, tuple))
            and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value))
        if not ok:
            raise at.fail(f"{quote(value)} is not a selection; write indices or names (0,1,2), "
                          "a range (0-3) or all")
        return list(value) if isinstance(value, tuple) else value
    return Kind("selection", check)


def reference() -> Kind:
    """One token, layer or head: by name or by index."""
    def check(value: Any, at: At) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise at.fail(f"{quote(value)} is neither a name nor an index")
        return value
    return Kind("name or index", check)


def link_rule() -> Kind:
    """``top:K`` or ``threshold:X`` (:class:`~svgattn.analysis.links.LinkRule`)."""
    def check(value: Any, at: At) -> Any:
        from .analysis.links import LinkRule

        try:
            return LinkRule.parse(value)
        except SpecError as exc:
            where = at.field.rsplit(": links", 1)[0]
            raise at.error(f"{where}: {exc}" if where and where != "links" else str(exc)
                           ) from None
    return Kind("link rule", check)


def scale_end() -> Kind:
    """A colour-scale maximum: a finite number no smaller than the smallest normal float
    (a subnormal would overflow every weight divided by it)."""
    def check(value: Any, at: At) -> float:
        if isinstance(value, str) and not at.text:
            raise at.fail(f"{at.shown(value)}is a string; write a number without quotes")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or (not isinstance(value, (int, float)) and \
                not type(value).__module__ == "numpy"):
            raise at.fail(f"{quote(value)} is not a number; give the weight drawn in the "
                          "strongest colour, e.g. 0.3")
        try:
            x = float(value)
        except (OverflowError, TypeError, ValueError):
            x = math.inf
        if not math.isfinite(x) or x < 2.2250738585072014e-308:
            raise at.fail(f"{x:g} must be a finite positive number (the weight drawn in the "
                          "strongest colour, e.g. 0.3)")
        return x
    return Kind("positive number", check)


_SELECT = "real attention: which layers and heads"
COMMON: tuple[Field, ...] = (
    Field("title", text(1000), None, "Figure title (the paper theme draws none unless "
          "`show_title` or `--title` asks)."),
    Field("show_title", boolean(), None, "Draw the title even where the theme hides titles."),
    Field("caption", text(1000), None, "The caption: full (provenance and notes), short (where "
          "the picture comes from and what its colours mean), none, or your own text (for a "
          "figure given by hand: its provenance line); default: the theme's figure.caption.",
          metavar="MODE"),
    Field("layer", reference(), None, "Layer by index (negative counts from the end) or name; "
          "default: the last.", group=_SELECT, real_only=True, metavar="L"),
    Field("layers", selection(), None, "Layers of small-multiple views: indices, names, "
          "ranges (0-3) or all (default).", group=_SELECT, real_only=True, metavar="SEL"),
    Field("heads", selection(), None, "Heads: indices, names, ranges (0-3, 0-3,7) or all; "
          "default: the view's rule (the 4 most focused heads for views that draw heads one "
          "by one, all heads otherwise; the caption says which).", group=_SELECT,
          real_only=True, metavar="SEL"),
    Field("combine", choice("mean", "max", "sum", "rollout"), "mean", "How the heads make one "
          "matrix: mean, max, sum, or rollout (Abnar & Zuidema 2020: through the layers up to "
          "`layer`).", group=_SELECT, real_only=True),
    Field("minus_layer", reference(), None, "Show the difference with this layer (same heads, "
          "same combination) in a diverging map centred on zero.", group=_SELECT,
          real_only=True, metavar="L"),
    Field("minus_head", reference(), None, "Show the difference with this head of the same "
          "layer.", group=_SELECT, real_only=True, metavar="H"),
    Field("window", text(1000), None, "Long sequences: only tokens A:B (Python slice bounds, "
          "e.g. 0:128 or -256:), stated in the caption.", group=_SELECT, real_only=True,
          metavar="A:B"),
    Field("pool", text(1000), None, "Long sequences: pool the weights over K x K token "
          "blocks, by mean (K or mean:K) or max (max:K), stated in the caption.",
          group=_SELECT, real_only=True, metavar="K"),
    Field("hide_special", boolean(), False, "Drop special tokens ([CLS], <s>, ...) and "
          "renormalise rows.", group="labels", real_only=True),
    Field("merge_words", boolean(), False, "Merge word pieces into words (sum over keys, mean "
          "over queries).", group="labels", real_only=True),
    Field("leading_space", choice("hide", "mark"), "hide", "Show a token's leading space as a "
          "subtle dot (mark) or not (hide).", group="labels", real_only=True),
    Field("links", link_rule(), None, "How heads link to tokens in the flow view: top:K or "
          "threshold:X over each head's weights (default top:3 for real attention, the "
          "threshold rule for spec heads).", group="analysis", metavar="RULE"),
    Field("keep_sinks", boolean(), False, "Treat [CLS]/[SEP]/BOS and first-token sinks like "
          "other tokens (by default links avoid them and the colour scale ignores them).",
          group="analysis", real_only=True),
    Field("groups", boolean(), None, "Outline token groups found in the data (default: on for "
          "real attention, off for spec matrices).", group="analysis"),
    Field("colormap", colormap(stops=False), None, "Colour map by name (viridis, cividis, "
          "magma, Blues, Greys, RdBu_r, PuOr ...; default: the theme's).", group="colour",
          metavar="NAME"),
    Field("scale", choice("auto", "weight", "uniform", "row"), "auto", "Colour each weight as "
          "it is (weight), relative to uniform attention over the keys its query can see "
          "(uniform: 1 is a uniform share, log scale), or relative to its row's strongest "
          "weight (row); auto: uniform for causal attention of 128 tokens or more (where raw "
          "weights fade with the number of keys a row sees), weight otherwise.",
          group="colour"),
    Field("vmin", number(), None, "Weight drawn in the weakest colour (default 0, or the "
          "data's minimum).", group="colour", metavar="X"),
    Field("vmax", scale_end(), None, "Weight drawn in the strongest colour; larger weights "
          "saturate (default: the largest weight outside sink columns).", group="colour",
          metavar="X"),
    Field("norm", choice("linear", "log", "power"), None, "Colour scale: linear, log, or "
          "power (gamma); default: log where `scale` auto colours relative to uniform, linear "
          "otherwise.", group="colour"),
    Field("gamma", number(0.05, 20), 0.5, "Exponent of the power norm (0.5: square root).",
          group="colour", metavar="G"),
)


# Options more than one view takes: a view lists the ones it uses in its ``options``.
FOCUS = Field("focus", reference(), None, "The query token whose attention is shown (by "
              "string or index); default: every token (lines view), the attention each "
              "token receives in total (text view), or the last token that is not special "
              "(neuron view).", group="views", metavar="TOKEN")
LABELS = Field("labels", text(1000), None, "Which tokens are labelled when rows or columns are "
               "too close for every label: auto (every k-th, as room allows), every:K, top:K "
               "(the K most attended), or a comma list of tokens or indices.", group="views",
               metavar="WHICH")
CELLS = Field("cells", choice("auto", "vector", "raster"), "auto", "Matrix cells as vector "
              "rectangles or one embedded image (crisp, one pixel per cell for long "
              "sequences); auto: an image above the theme's matrix.raster_above cells.",
              group="views")


# --- what views read ------------------------------------------------------------------
FRAME = ("title", "show_title", "caption")  # the framework's: every view takes them
SELECTION = ("layer", "heads", "combine", "minus_layer", "minus_head", "window", "pool")
TOKENS = ("hide_special", "merge_words", "leading_space", "keep_sinks")
COLOUR = ("colormap", "scale", "vmin", "vmax", "norm", "gamma")
BY_NAME = {f.name: f for f in COMMON}


def table(fields: Mapping[str, Field], readers: Mapping[str, Sequence[str]]) -> str:
    """Markdown table of the options ``fields`` (generated into the docs); ``readers``:
    the views that take each (all views when absent)."""
    rows = ["| option | spec key | views | default | meaning |", "|---|---|---|---|---|"]
    for o in fields.values():
        default = "" if o.default is None else str(o.default).lower() \
            if isinstance(o.default, bool) else str(o.default)
        used = ", ".join(readers.get(o.name, ())) or "all"
        rows.append(f"| `{o.flag}` | `{o.name}` | {used} | "
                    f"{('`' + default + '`') if default else ''} | {o.help} |")
    return "\n".join(rows)
