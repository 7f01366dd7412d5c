"""Figure options: one schema for the command line, spec files and the Python API.

Every option has a name (``focus``: the flag ``--focus``, the spec key ``focus``, the
keyword ``focus=``), a kind that validates and normalises its value, a default and a
one-line doc. Options shared by all views are here; a view declares its own in its
module (see :mod:`svgattn.views.base`). The README's option table is generated from
this schema.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError, closest, quote


@dataclass(frozen=True)
class Option:
    """One option. ``kind``: ``bool``, ``int``, ``float``, ``str``, ``choice``,
    ``selection`` (indices, names, ranges such as ``0-3``, or ``all``), ``ref`` (a
    token, layer or head by name or index), ``links`` (``top:K`` / ``threshold:X``)."""

    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    group: str = "figure"
    attention_only: bool = False  # needs real attention (layers/heads), not a spec matrix
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value: Any, where: str, *, text: bool = False) -> Any:
        """Validate ``value`` (from a spec or a keyword; with ``text``, a flag's text) or
        raise a one-line error naming ``where`` and this option. Only a flag's text is
        converted: a spec's ``vmax = "0.5"`` is a mistake, not a number."""
        field = f"{where}: {self.name}" if where else self.name
        if value is None:
            return None
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise SpecError(f"{field}: expected true or false, not {quote(value)}")
        if kind in ("int", "float"):
            return self._number(value, field, text)
        if kind == "choice":
            if value not in self.choices:
                raise SpecError(f"{field}: {quote(value)} is not one of {', '.join(self.choices)}")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise SpecError(f"{field}: expected a string, not {type(value).__name__}")
            if len(value) > 1000:
                raise SpecError(f"{field}: longer than 1000 characters; shorten it")
            return value
        if kind == "selection":
            ok = (isinstance(value, (str, int)) and not isinstance(value, bool)) or (
                isinstance(value, (list, tuple))
                and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value))
            if not ok:
                raise SpecError(f"{field}: {quote(value)} is not a selection; write indices or "
                                "names (0,1,2), a range (0-3) or all")
            return list(value) if isinstance(value, tuple) else value
        if kind == "ref":
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise SpecError(f"{field}: {quote(value)} is neither a name nor an index")
            return value
        if kind == "colormap":
            from .colours import named_map

            if not isinstance(value, str):
                raise SpecError(f"{field}: expected a colour-map name such as viridis")
            try:
                named_map(value)
            except SpecError as exc:
                raise SpecError(f"{where}: {exc}" if where else str(exc)) from None
            return value
        if kind == "links":
            from .analysis.links import LinkRule

            try:
                return LinkRule.parse(value)
            except SpecError as exc:
                raise SpecError(f"{where}: {exc}" if where else str(exc)) from None
        raise AssertionError(f"unknown option kind {kind}")

    def _number(self, value: Any, field: str, text: bool = False) -> float | int:
        whole = "a whole number" if self.kind == "int" else "a number"
        if isinstance(value, str):
            if not text:
                raise SpecError(f"{field}: {quote(value)} is a string; write {whole} without "
                                "quotes")
            try:
                value = int(value) if self.kind == "int" else float(value)
            except ValueError:
                raise SpecError(f"{field}: {quote(value)} is not {whole}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{field}: {quote(value)} is not a number")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise SpecError(f"{field}: {number:g} must be a finite number")
        if self.kind == "int" and number != int(number):
            raise SpecError(f"{field}: {number:g} must be a whole number")
        lo, hi = self.minimum, self.maximum
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            span = f"from {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
            raise SpecError(f"{field}: {number:g} must be {span}")
        return int(number) if self.kind == "int" else number


_SELECT = "real attention: which layers and heads"
COMMON: tuple[Option, ...] = (
    Option("title", "str", None, "Figure title (the paper theme draws none unless "
           "`show_title` or `--title` asks).", group="figure"),
    Option("show_title", "bool", None, "Draw the title even where the theme hides titles.",
           group="figure"),
    Option("layer", "ref", None, "Layer by index (negative counts from the end) or name; "
           "default: the last.", group=_SELECT, attention_only=True, metavar="L"),
    Option("layers", "selection", None, "Layers of small-multiple views: indices, names, "
           "ranges (0-3) or all (default).", group=_SELECT, attention_only=True,
           metavar="SEL"),
    Option("heads", "selection", None, "Heads: indices, names, ranges (0-3, 0-3,7) or all; "
           "default: the view's rule (the 4 most focused heads for views that draw heads one "
           "by one, all heads otherwise; the caption says which).", group=_SELECT,
           attention_only=True, metavar="SEL"),
    Option("combine", "choice", "mean", "How the heads make one matrix: mean, max, sum, or "
           "rollout (Abnar & Zuidema 2020: through the layers up to `layer`).",
           choices=("mean", "max", "sum", "rollout"), group=_SELECT, attention_only=True),
    Option("minus_layer", "ref", None, "Show the difference with this layer (same heads, "
           "same combination) in a diverging map centred on zero.", group=_SELECT,
           attention_only=True, metavar="L"),
    Option("minus_head", "ref", None, "Show the difference with this head of the same layer.",
           group=_SELECT, attention_only=True, metavar="H"),
    Option("window", "str", None, "Long sequences: only tokens A:B (Python slice bounds, e.g. "
           "0:128 or -256:), stated in the caption.", group=_SELECT, attention_only=True,
           metavar="A:B"),
    Option("pool", "str", None, "Long sequences: pool the weights over K x K token blocks, "
           "by mean (K or mean:K) or max (max:K), stated in the caption.", group=_SELECT,
           attention_only=True, metavar="K"),
    Option("hide_special", "bool", False, "Drop special tokens ([CLS], <s>, ...) and "
           "renormalise rows.", group="labels", attention_only=True),
    Option("merge_words", "bool", False, "Merge word pieces into words (sum over keys, mean "
           "over queries).", group="labels", attention_only=True),
    Option("leading_space", "choice", "hide", "Show a token's leading space as a subtle dot "
           "(mark) or not (hide).", choices=("hide", "mark"), group="labels",
           attention_only=True),
    Option("links", "links", None, "How heads link to tokens in the flow view: top:K or "
           "threshold:X over each head's weights (default top:3 for real attention, the "
           "threshold rule for spec heads).", group="analysis", metavar="RULE"),
    Option("keep_sinks", "bool", False, "Treat [CLS]/[SEP]/BOS and first-token sinks like "
           "other tokens (by default links avoid them and the colour scale ignores them).",
           group="analysis", attention_only=True),
    Option("groups", "bool", None, "Outline token groups found in the data (default: on for "
           "real attention, off for spec matrices).", group="analysis"),
    Option("colormap", "colormap", None, "Colour map by name (viridis, cividis, magma, Blues, "
           "Greys, RdBu_r, PuOr ...; default: the theme's).", group="colour",
           metavar="NAME"),
    Option("vmin", "float", None, "Weight drawn in the weakest colour (default 0, or the "
           "data's minimum).", group="colour", metavar="X"),
    Option("vmax", "float", None, "Weight drawn in the strongest colour; larger weights "
           "saturate (default: the largest weight outside sink columns).", group="colour",
           metavar="X"),
    Option("norm", "choice", "linear", "Colour scale: linear, log, or power (gamma).",
           choices=("linear", "log", "power"), group="colour"),
    Option("gamma", "float", 0.5, "Exponent of the power norm (0.5: square root).",
           minimum=0.05, maximum=20, group="colour", metavar="G"),
)


# Options more than one view takes: a view lists the ones it uses in its ``options``.
FOCUS = Option("focus", "ref", None, "The query token whose attention is shown (by string or "
               "index); default: every token (lines view) or the attention each token "
               "receives in total (text view).", group="views", metavar="TOKEN")


LABELS = Option("labels", "str", None, "Which tokens are labelled when rows or columns are "
                "too close for every label: auto (every k-th, as room allows), every:K, top:K "
                "(the K most attended), or a comma list of tokens or indices.", group="views",
                metavar="WHICH")
CELLS = Option("cells", "choice", "auto", "Matrix cells as vector rectangles or one embedded "
               "image (crisp, one pixel per cell for long sequences); auto: an image above the "
               "theme's matrix.raster_above cells.", choices=("auto", "vector", "raster"),
               group="views")


def table(options: tuple[Option, ...], views: dict[str, list[str]] | None = None) -> str:
    """Markdown table of options (generated into the README); ``views`` maps an option to
    the views that take it (absent: every view)."""
    rows = ["| option | spec key | views | default | meaning |", "|---|---|---|---|---|"]
    for o in options:
        default = "" if o.default is None else str(o.default).lower() \
            if isinstance(o.default, bool) else str(o.default)
        used = ", ".join((views or {}).get(o.name, [])) or "all"
        rows.append(f"| `{o.flag}` | `{o.name}` | {used} | "
                    f"{('`' + default + '`') if default else ''} | {o.doc} |")
    return "\n".join(rows)


def parse_all(values: Mapping[str, Any], schema: Mapping[str, Option],
              where: str) -> dict[str, Any]:
    """Validate every given option; unknown names are errors with a close match."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in schema:
            close = closest(name, list(schema))
            hint = f"did you mean '{close}'?" if close else "see svgattn render --help"
            raise SpecError(f"{where}: {quote(name)}: unknown option; {hint}")
        out[name] = schema[name].parse(value, where)
    return out
