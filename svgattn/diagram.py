"""The public object: a figure of attention that renders itself to SVG, PDF, PNG or EPS.

A thin facade over the pipeline: it validates the options (one schema for the API, the
command line and spec files), runs the shared analysis once, and hands the result to the
chosen view, whose scene the SVG backend writes and cairosvg exports.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .analysis.derive import from_attention
from .analysis.figure import FigureData
from .analysis.given import from_explicit
from .analysis.request import Request
from .analysis.request import model_layers as request_layers
from .captions import MODES, Essential
from .data import Attention
from .errors import ExportError, FontError, SpecError, SvgattnError, closest, quote
from .export import convert, format_of
from .fields import At, parse_all
from .files import write_atomic
from .limits import current
from .render import render_svg
from .scene import Scene
from .sources.explicit import Head, check_vmax, explicit
from .theme import Theme, load_theme
from .units import parse_width
from .views.base import View
from .views.registry import get, option_owners, option_schema

__all__ = ["Diagram", "Head"]
MIN_WIDTH, MAX_WIDTH = 36.0, 7200.0  # 0.5in .. 100in
CAIRO_MAX_PIXELS = 32767  # cairo's image surfaces: larger is INVALID_SIZE


class Diagram:
    """A figure of attention.

    Explicit data (the seed figure, spec files)::

        Diagram(["It", "is"], weights, heads=[Head("Head 0", tokens=["It"])], view="flow")

    Real attention from any source: :meth:`from_attention`; a spec file: :meth:`from_spec`.
    ``view`` is ``flow`` (default), ``matrix``, ``lines``, ``grid`` or ``text`` (``svgattn
    views`` lists them); other keyword arguments are the figure options of the README's
    option table (``focus="cat"``, ``colormap="viridis"``, ``vmax=0.3`` ...).
    """

    def __init__(self, tokens: Sequence[str] | None = None, weights: Any = None,
                 heads: Sequence[Head | Mapping[str, Any] | str] = (), *,
                 query_tokens: Sequence[str] | None = None,
                 key_tokens: Sequence[str] | None = None, view: str = "flow",
                 theme: str | os.PathLike[str] | Theme | None = None,
                 width: str | float | None = None, text: str | None = None,
                 prefix: str | None = None, where: str = "Diagram", **options: Any) -> None:
        self._setup(view, theme, width, text, prefix, where, options, explicit_data=True)
        opts = self.options
        given = explicit(tokens=tokens, weights=weights, heads=heads,
                         query_tokens=query_tokens, key_tokens=key_tokens, where=where)
        own = opts.get("caption")
        if own in MODES:
            own = None
        self.data: FigureData = from_explicit(given, title=opts.get("title"), caption=own,
                                              links=opts.get("links"),
                                              groups=bool(opts.get("groups") or False),
                                              where=where)

    def _setup(self, view: str, theme: Any, width: Any, text: Any, prefix: str | None,
               where: str, options: Mapping[str, Any], *, explicit_data: bool) -> None:
        self.view: View = get(view)
        self.where = where
        self.theme: Theme = load_theme(theme)
        self.width: float | None = None if width is None else check_width(width, where)
        if text not in (None, "native", "paths"):
            raise SpecError(f"{where}: text: {quote(text)} is not a text mode; use native or "
                            "paths")
        self.text: str | None = text  # None: the theme's text.mode
        self.prefix = prefix
        fields = option_schema()
        opts = parse_all(dict(options), fields, At(where))
        for name, value in opts.items():
            if value is None:
                continue
            users = option_owners(name)
            if users and self.view.name not in users:
                named = ", ".join(users[:-1]) + " and " + users[-1] if len(users) > 1 \
                    else users[0]
                raise SpecError(f"{where}: {name}: applies to the {named} view"
                                f"{'s' if len(users) > 1 else ''}, not to {self.view.name}; "
                                "drop it or choose that view")
            if explicit_data and fields[name].real_only:
                raise SpecError(f"{where}: {name}: applies to real attention (.npz/.npy files "
                                "and models), not to a matrix given by hand; drop it")
        refused = self.view.refuse(opts)
        if refused:  # an option the view would ignore is a mistake, never silently dropped
            raise SpecError(f"{where}: {refused}")
        if opts.get("vmax") is not None:
            opts["vmax"] = check_vmax(opts["vmax"], f"{where}: vmax")
        self.options: dict[str, Any] = opts

    @classmethod
    def from_attention(cls, attention: Attention | Sequence[Attention], *, view: str = "flow",
                       theme: str | os.PathLike[str] | Theme | None = None,
                       width: str | float | None = None, text: str | None = None,
                       minus: Attention | None = None, prefix: str | None = None,
                       **options: Any) -> Diagram:
        """A figure of real attention (README "Real attention"): ``layer`` (default the
        last), ``heads`` (default: the view's rule), ``combine`` (mean, max, sum, rollout),
        ``minus`` (another :class:`~svgattn.data.Attention` over the same tokens: the
        difference) and every other option of the README's table. A list of several
        inputs, analysed alike, is for views that summarise many (the heads view averages
        its scores over them)."""
        self = cls.__new__(cls)
        given: list[Any] = list(attention) if isinstance(attention, (list, tuple)) else \
            [attention]
        several: list[Attention] = [a for a in given if isinstance(a, Attention)]
        if not several or len(several) != len(given):
            raise SpecError(f"attention: expected an Attention from svgattn.sources (or a list "
                            f"of them), not {type(attention).__name__}")
        self._setup(view, theme, width, text, prefix, several[0].source, options,
                    explicit_data=False)
        if len(several) > 1 and not self.view.many_inputs:
            raise SpecError(f"attention: the {self.view.name} view draws one input, not "
                            f"{len(several)}; give one (or use --view heads, which averages "
                            "over many, or svgattn batch for one figure each)")
        request = Request.of(self.options, self.view.default_heads, minus)
        first, *rest = [from_attention(a, request) for a in several]
        self.data = replace(first, more=tuple(rest)) if rest else first
        if self.data.signed and not self.view.signed:
            raise SpecError(f"{several[0].source}: minus: the {self.view.name} view cannot draw "
                            "a difference; use the matrix, grid or flow view")
        return self

    @classmethod
    def from_model(cls, model: str | os.PathLike[str], prompt: str | Sequence[str], /, *,
                   view: str = "flow",
                   theme: str | os.PathLike[str] | Theme | None = None,
                   width: str | float | None = None, text: str | None = None,
                   prefix: str | None = None, minus: Attention | None = None,
                   quiet: bool = True, probe: str | None = None, **options: Any) -> Diagram:
        """A figure of a local Hugging Face model's attention on ``prompt`` (README "Real
        models"): ``model`` is a folder, a ``.gguf`` file or an installed package name.
        Options are checked before the model loads; only the layers the figure draws are
        kept as it runs (a 1,024-token prompt is 43 MB a layer, not 1.3 GB a model).
        ``probe="repeated"`` runs random vocabulary words said twice instead of ``prompt``
        (:func:`svgattn.sources.local_model.probe_text`), and the caption says so."""
        from .sources.local_model import model_layers, probe_text, run_model

        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if probe is None and (not prompts or not all(isinstance(p, str) and p.strip()
                                                     for p in prompts)):
            raise SpecError("model: --text is empty; give the sentence to run")
        checked = cls.__new__(cls)  # every option checked before seconds of loading
        checked._setup(view, theme, width, text, prefix, "model", options, explicit_data=False)
        path, note = str(model), ""
        if probe is not None:
            text_, note = probe_text(path, probe, quiet=quiet)
            prompts = [text_]
        if len(prompts) > 1 and not checked.view.many_inputs:
            raise SpecError(f"model: {len(prompts)} prompts: the {checked.view.name} view draws "
                            "one; use --view heads (which averages over them) or svgattn batch")
        layers, named = request_layers(options, model_layers(path, quiet=quiet),
                                       "layers" not in checked.view.unused)
        runs = [run_model(path, p, quiet=quiet, layers=layers, vectors=checked.view.vectors)
                for p in prompts]
        made = cls.from_attention(runs if len(runs) > 1 else runs[0], view=view, theme=theme,
                                  width=width, text=text, prefix=prefix, minus=minus, **named)
        if note:  # what was run, said under the figure
            made.data = replace(made.data, notes=(Essential(note), *made.data.notes))
        return made

    @classmethod
    def from_spec(cls, path: str | os.PathLike[str], **overrides: Any) -> Diagram:
        """Load a TOML/JSON spec (README "Spec files"); keyword arguments override it."""
        from .sources.spec import attention_of, minus_of, model_of, read_spec

        spec = read_spec(path)
        where = spec.where
        check_spec_keys(spec)
        over = {k: v for k, v in overrides.items() if v is not None}
        if "width" in over:  # an option, not the file: report it as such
            check_width(over["width"], "")
        theme = over.pop("theme", None)
        if theme is None and "theme" in spec.figure:
            try:
                theme = load_theme(spec.figure["theme"])
            except SvgattnError as exc:
                raise type(exc)(f"{where}: {exc}") from None
        figure = {"view": spec.figure.get("view", "flow"), "width": spec.figure.get("width")}
        figure.update({k: over.pop(k) for k in ("view", "width", "text", "prefix") if k in over})
        if not spec.source and "heads" in over:
            raise SpecError(f"heads: selects heads of real attention (.npz/.npy files and "
                            f"models), not of the matrix {where} gives by hand; drop it")
        options = {**spec.options, **over}
        if spec.source:
            model = model_of(spec)
            minus = minus_of(spec)
            if model is not None:
                return cls.from_model(model[0], model[1], probe=model[2], theme=theme,
                                      minus=minus, **figure, **options)
            return cls.from_attention(attention_of(spec), theme=theme, minus=minus, **figure,
                                      **options)
        return cls(**spec.data, theme=theme, where=where,
                   **figure, **options)

    # --- output ------------------------------------------------------------------------
    def scene(self, *, text: str | None = None) -> Scene:
        """Lay the figure out (pure apart from reading font files)."""
        from .layout.context import Context

        mode = text or self.text or str(self.theme["text.mode"])
        ctx = Context(self.theme, 1.0, mode)
        width = self.width if self.width is not None else self.theme["figure.width"]
        try:
            return self.view.layout(self.data, ctx, self.options,
                                    None if width == "auto" else float(width))
        except FontError as exc:  # say which theme named the font
            raise FontError(f"{self.theme.source}: {exc}") from None

    def to_svg(self, *, prefix: str | None = None) -> str:
        """The figure as an SVG document."""
        return render_svg(self.scene(), prefix=prefix or self.prefix)

    def to_bytes(self, fmt: str = "svg", *, dpi: float = 300.0) -> bytes:
        """The figure encoded as ``svg``, ``pdf``, ``png`` or ``eps``."""
        fmt = format_of("figure", fmt)
        dpi = check_dpi(dpi)
        if fmt == "svg":
            return self.to_svg().encode("utf-8")
        if fmt == "csv":
            return self.to_csv()
        # PNGs are drawn from outlines: cairo's image surface rounds glyph advances to
        # whole pixels, so native text would drift from the measured label widths.
        scene = self.scene(text="paths" if fmt == "png" else None)
        if fmt == "png":
            scene = at_pixels(pixel_canvas(scene, dpi), dpi)
        else:  # print: cells finer than PRINT_DPI pooled, so a viewer's own downsampling
            scene = at_pixels(scene, PRINT_DPI)  # at 150-300 dpi keeps one-cell structure
        images: list[bytes] | None = [] if fmt == "pdf" else None
        svg = render_svg(scene, prefix=self.prefix, interactive=False, images=images)
        if images:  # raster matrices: cairo draws placeholders, the PDF gets the PNG rows
            from .render.pdf_images import substitute

            done = substitute(convert(svg, fmt), images)
            if done is not None:
                return done
            svg = render_svg(scene, prefix=self.prefix, interactive=False)
        return convert(svg, fmt, dpi=dpi)

    def to_csv(self) -> bytes:
        """The numbers the figure shows, as CSV (views that have them: :func:`tabled`)."""
        from .render.table import encode_csv

        rows = self.view.numbers(self.data, self.options)
        if rows is None:
            raise ExportError(f"format: csv: the {self.view.name} view draws no table of "
                              f"numbers; views with one: {', '.join(tabled())}")
        return encode_csv(rows)

    def save(self, path: str | os.PathLike[str], *, fmt: str | None = None,
             dpi: float = 300.0) -> Path:
        """Write the figure; the format follows the suffix (``fmt`` is needed for a name
        without one, such as ``/dev/stdout``, and must agree with a suffix). The write is
        atomic: on any error the destination is left as it was (see :func:`write_atomic`)."""
        return write_atomic(path, self.to_bytes(format_of(path, fmt), dpi=dpi))

    def _repr_svg_(self) -> str:
        """For notebooks: each display its own ids (a re-displayed figure would otherwise
        share every id with its earlier copy in the page); saved files stay reproducible."""
        svg = self.to_svg()
        prefix = svg.split('class="', 1)[1].split('"', 1)[0]
        return svg.replace(prefix, f"{prefix}-{next(_DISPLAYS)}")


_DISPLAYS = itertools.count(1)
# A PDF's or EPS's cell image holds at most this many pixels an inch, each block of cells
# pooled by its strongest colour: a viewer at 150 or 300 dpi then averages at most 2 x 2
# of them and a one-cell sink column or diagonal stays darker than its row (measured on
# 4,096 tokens in 6.5 in; one pixel a cell, a viewer at 150 dpi showed the sink in half
# the rows).
PRINT_DPI = 300


def tabled() -> list[str]:
    """The views that write their numbers as CSV."""
    from .views.registry import builtin_names

    return [n for n in builtin_names() if type(get(n)).numbers is not View.numbers]


def check_spec_keys(spec: Any) -> None:
    """Every key of a spec is a key of the spec format or a figure option."""
    from .sources.spec import DATA_KEYS, FIGURE_KEYS, SOURCE_KEYS

    allowed = (*FIGURE_KEYS, *DATA_KEYS, *SOURCE_KEYS, *option_schema())
    for key in spec.options:
        if key not in allowed:
            close = closest(key, allowed)
            hint = f"did you mean '{close}'?" if close else "see the spec keys in the README"
            raise SpecError(f"{spec.where}: {quote(key)}: unknown spec key; {hint}")


def check_width(value: str | float, where: str) -> float:
    """A figure width: a length or venue between 0.5in and 100in."""
    field = f"{where}: width" if where else "width"
    points = parse_width(value, field)
    if not MIN_WIDTH <= points <= MAX_WIDTH:
        raise SpecError(f"{field}: {quote(value)} is {points:g}bp; give a width between 0.5in "
                        "and 100in")
    return points


def check_dpi(dpi: object, field: str = "dpi") -> float:
    """A resolution in dots per inch, checked whatever the format (a bad ``--dpi`` is a
    mistake even when writing SVG)."""
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 4800:
        raise SpecError(f"{field}: {quote(dpi)} must be a number between 10 and 4800 (300 for "
                        "print)")
    return float(dpi)


def at_pixels(scene: Scene, dpi: float) -> Scene:
    """The scene for a device of ``dpi``: image cells smaller than a pixel pooled to one
    per pixel, by their strongest colour, before the rasteriser sees them (it would drop
    all but one cell of each pixel's worth)."""
    from .render.raster import to_pixels
    from .scene import CellGrid, Group, mapped

    def fit(node: Any) -> Any:
        return to_pixels(node, dpi / 72) if isinstance(node, CellGrid) else node

    root = mapped(scene.root, fit)
    assert isinstance(root, Group)
    return replace(scene, root=root)


def pixel_canvas(scene: Scene, dpi: float) -> Scene:
    """The scene with its canvas grown to whole pixels at ``dpi`` (less than a pixel of
    background more), so no PNG edge row or column is partly transparent; refused when
    the PNG would be larger than the ``megapixels`` limit."""
    px = dpi / 72
    width, height = math.ceil(scene.width * px - 1e-6), math.ceil(scene.height * px - 1e-6)
    limit = current().megapixels
    if width * height > limit * 1e6:
        raise SpecError(f"dpi: {dpi:g} dpi makes a {width * height / 1e6:.0f}-megapixel PNG, over"
                        f" the limit of {limit:g}; lower --dpi, export PDF/SVG, or "
                        f"{current().describe('megapixels')}")
    if max(width, height) > CAIRO_MAX_PIXELS:
        raise SpecError(f"dpi: at {dpi:g} dpi the PNG would be {width} x {height} pixels; cairo "
                        f"draws at most {CAIRO_MAX_PIXELS} a side: lower --dpi, or export PDF/SVG")
    return replace(scene, width=width / px, height=height / px)
