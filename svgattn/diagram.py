"""The public object: a figure of attention that renders itself to SVG, PDF, PNG, EPS or CSV.
A facade: settings and options validated once (:mod:`svgattn.settings`), the analysis run
once, the view drawn and framed (:func:`svgattn.layout.frame.draw`), each format written by
its backend (:mod:`svgattn.formats`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.figure import FigureData
from .analysis.given import from_explicit
from .captions import MODES
from .data import Attention
from .errors import ExportError, FontError, SpecError
from .export import format_of
from .fields import At
from .files import check_not_input, write_atomic
from .scene import Scene
from .settings import SETTING, Settings, check_keys, parse, settings
from .sources.explicit import Head, explicit
from .theme import Theme
from .views.base import View
from .views.registry import get

if TYPE_CHECKING:  # pragma: no cover
    from .layout.table import Table

__all__ = ["Diagram", "Head"]
_Theme = str | os.PathLike[str] | Theme | None


class Diagram:
    """A figure of attention given by hand (the seed figure, spec files):

        Diagram(["It", "is"], weights, heads=[Head("Head 0", tokens=["It"])], view="flow")

    Real attention: :meth:`from_attention`, :meth:`from_model`; a spec: :meth:`from_spec`.
    ``view``: ``svgattn views`` lists them; other keywords are the options the view reads
    (the docs' option table: ``focus="cat"``, ``colormap="viridis"`` ...)."""

    reads: Mapping[str, Any] = {}  # files the figure was made from: never written over

    def __init__(self, tokens: Sequence[str] | None = None, weights: Any = None,
                 heads: Sequence[Head | Mapping[str, Any] | str] = (), *,
                 query_tokens: Sequence[str] | None = None,
                 key_tokens: Sequence[str] | None = None, view: str = "flow",
                 theme: _Theme = None, width: str | float | None = None,
                 text: str | None = None, prefix: str | None = None, where: str = "Diagram",
                 **options: Any) -> None:
        self._setup(dict(view=view, theme=theme, width=width, text=text, prefix=prefix),
                    where, options, explicit_data=True)
        opts = self.options
        given = explicit(tokens=tokens, weights=weights, heads=heads,
                         query_tokens=query_tokens, key_tokens=key_tokens, where=where)
        own = None if opts["caption"] in MODES else opts["caption"]
        self.data: FigureData = from_explicit(given, title=opts["title"], caption=own,
                                              links=opts.get("links"), where=where,
                                              groups=bool(opts.get("groups") or False))

    def _setup(self, given: Mapping[str, Any], where: str, options: Mapping[str, Any], *,
               explicit_data: bool) -> None:
        """Settings and options validated once, defaults applied."""
        self.where = where
        self.settings: Settings = settings(given, At(where))
        self.view: View = get(self.settings.view)
        self.theme: Theme = self.settings.theme.with_view(self.view)
        self.options: dict[str, Any] = parse(self.view, options, At(where),
                                             explicit=explicit_data)

    prefix = property(lambda self: self.settings.prefix, doc="The id prefix asked for.")
    width = property(lambda self: self.settings.width, doc="The width asked for (points).")

    @classmethod
    def from_attention(cls, attention: Attention | Sequence[Attention], *, view: str = "flow",
                       theme: _Theme = None, width: str | float | None = None,
                       text: str | None = None, minus: Attention | None = None,
                       prefix: str | None = None, **options: Any) -> Diagram:
        """Real attention (docs: "Sources"); ``minus``: another
        :class:`~svgattn.data.Attention` over the same tokens (the difference). Several
        inputs: the heads and profile views average per-head numbers over them; the matrix
        and grid views average inputs of one length position by position."""
        self = cls.__new__(cls)
        given = list(attention) if isinstance(attention, (list, tuple)) else [attention]
        several = [a for a in given if isinstance(a, Attention)]
        if not several or len(several) != len(given):
            raise SpecError(f"attention: expected an Attention from svgattn.sources (or a list "
                            f"of them), not {type(attention).__name__}")
        self._setup(dict(view=view, theme=theme, width=width, text=text, prefix=prefix),
                    several[0].source, options, explicit_data=False)
        if self.view.pictures and any(a.patches is None for a in several):
            raise SpecError(f"{several[0].source}: grid: the {self.view.name} view draws "
                            "attention over a grid of image patches; give grid (rows x cols) "
                            "and patch_start with the attention (.npz keys, --grid/"
                            "--patch-start), or run a vision model with --image")
        if len(several) > 1 and not (self.view.many_inputs or self.view.averages):
            raise SpecError(f"attention: the {self.view.name} view draws one input, not "
                            f"{len(several)}; give one (or use the matrix or grid view, which "
                            "average inputs of one length, the heads or profile view, which "
                            "average per-head scores, or svgattn batch for one figure each)")
        from .analysis.derive import from_attention  # real attention only: not the seed's
        from .analysis.request import Request
        request = Request.of(self.options, self.view.default_heads, minus, fit=self.view.fits)
        first, *rest = [from_attention(a, request) for a in several]
        if rest and self.view.averages:
            from .analysis.average import averaged
            self.data = averaged([first, *rest], several[0].source)
        else:
            self.data = replace(first, more=tuple(rest)) if rest else first
        if self.data.signed and not self.view.signed:
            raise SpecError(f"{several[0].source}: minus: the {self.view.name} view cannot draw "
                            "a difference; use the matrix, grid or flow view")
        return self

    @classmethod
    def from_model(cls, model: str | os.PathLike[str], prompt: str | Sequence[str], /, *,
                   view: str = "flow", theme: _Theme = None, width: str | float | None = None,
                   text: str | None = None, prefix: str | None = None,
                   minus: Attention | None = None, quiet: bool = True, probe: str | None = None,
                   **options: Any) -> Diagram:
        """A local model's attention on ``prompt`` (docs: "Sources"): a folder, ``.gguf``,
        package name or cached Hugging Face id; ``probe="repeated"``: random words said
        twice; ``generate=N``, ``target=`` ... (:class:`~svgattn.sources.run_options.ModelRun`)."""
        from .sources.local_model import model_diagram
        return model_diagram(cls, str(model), prompt, dict(
            view=view, theme=theme, width=width, text=text, prefix=prefix), options,
            minus=minus, quiet=quiet, probe=probe)

    @classmethod
    def from_record(cls, recording: Any, /, *, tokens: Sequence[str] | None = None,
                    tokenizer: Any = None, attention: str = "self",
                    batch_index: int | None = None, **figure: Any) -> Diagram:
        """What :func:`svgattn.record` kept of an open model; tokens from ``tokens``, or
        ``tokenizer`` and the ids the model was called with; ``layer=20`` is the model's
        layer 20 (``L20``)."""
        from .sources.recorded import attention_of, model_layer
        return cls.from_attention(attention_of(recording, tokens, tokenizer, attention,
                                               batch_index), **model_layer(figure))

    @classmethod
    def from_spec(cls, path: str | os.PathLike[str], **overrides: Any) -> Diagram:
        """Load a TOML/JSON spec (docs: "Spec files"); keyword arguments override it."""
        from .sources.spec import KEYS, figure_of

        for key in ("view", "width", "text", "prefix"):  # the caller's: errors name the option
            SETTING[key].parse(overrides.get(key), At(key))
        spec = figure_of(path, overrides, tuple(SETTING),
                         lambda view, keys, where: check_keys(get(view), keys, KEYS, where))
        if spec.model is not None:
            return cls.from_model(spec.model[0], spec.model[1], probe=spec.model[2],
                                  minus=spec.minus, **spec.model[3], **spec.settings,
                                  **spec.options)
        if spec.attention is not None:
            return cls.from_attention(spec.attention, minus=spec.minus, **spec.settings,
                                      **spec.options)
        return cls(**(spec.data or {}), where=spec.where, **spec.settings, **spec.options)

    # --- output ------------------------------------------------------------------------
    def scene(self, *, text: str | None = None) -> Scene:
        """Lay the figure out and frame it."""
        from .layout.context import Context
        from .layout.frame import draw
        ctx = Context(self.theme, 1.0, text or self.settings.text or str(self.theme["text.mode"]))
        width = self.theme["figure.width"] if self.width is None else self.width
        try:
            return draw(self.view, self.data, ctx, self.options,
                        None if width == "auto" else float(width))
        except FontError as exc:  # say which theme named the font
            raise FontError(f"{self.theme.source}: {exc}") from None

    def table(self) -> Table:
        """The numbers the figure draws (what ``-o FILE.csv`` writes), as a table."""
        found = self.view.numbers(self.data, self.options)
        if found is None:
            raise ExportError(f"format: csv: the {self.view.name} view draws no table of "
                              "numbers; export svg, pdf, png or eps")
        return found

    def to_svg(self, *, prefix: str | None = None) -> str:
        """The figure as an SVG document; ``prefix`` scopes its ids and classes (default:
        one derived from its content)."""
        from .render import render_svg
        return render_svg(self.scene(), prefix=prefix or self.prefix)

    def to_bytes(self, fmt: str = "svg", *, dpi: float | None = None) -> bytes:
        """The figure encoded as ``svg``, ``pdf``, ``png``, ``eps`` or ``csv``."""
        from .formats import BACKENDS
        fmt = format_of("figure", fmt)
        dots = self.settings.dpi if dpi is None else SETTING["dpi"].parse(dpi, At("dpi"))
        return BACKENDS[fmt](self, float(dots))

    def to_csv(self) -> bytes:
        """The numbers the figure draws, as CSV (UTF-8)."""
        return self.to_bytes("csv")

    def save(self, path: str | os.PathLike[str], *, fmt: str | None = None,
             dpi: float | None = None) -> Path:
        """Write the figure atomically (on any error the destination is as it was), never
        over a file it was made from; the format follows the suffix, or ``fmt``."""
        check_not_input(os.fspath(path), self.reads)
        return write_atomic(path, self.to_bytes(format_of(path, fmt or self.settings.format),
                                                dpi=dpi))

    def _repr_svg_(self) -> str:
        """For notebooks: each display its own ids (a figure shown twice shares none)."""
        svg = self.to_svg()
        prefix = svg.split('class="', 1)[1].split('"', 1)[0]
        return svg.replace(prefix, f"{prefix}-{next(_DISPLAYS)}")


_DISPLAYS = itertools.count(1)
