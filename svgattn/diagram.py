"""The public object: a flow diagram that renders itself to SVG, PDF, PNG or EPS."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import SpecError
from .export import convert, format_of, write_atomic
from .layout import layout_flow
from .model import FlowData, Head, build
from .render import render_svg
from .scene import Scene
from .spec import read_spec
from .theme import Theme, load_theme
from .units import parse_length

MAX_PIXELS = 300_000_000  # a PNG larger than this is almost surely a wrong --dpi


class Diagram:
    """Heads on the left joined to the tokens they attend to, beside the attention matrix.

    >>> import numpy as np
    >>> d = Diagram(["It", "is"], np.eye(2), heads=[Head("Head 0", tokens=["It"])])
    >>> d.save("fig.pdf", width="3.25in")  # doctest: +SKIP
    """

    def __init__(self, tokens: Sequence[str] | None = None, weights: Any = None,
                 heads: Sequence[Head | Mapping[str, Any] | str] = (), *,
                 query_tokens: Sequence[str] | None = None,
                 key_tokens: Sequence[str] | None = None, title: str | None = None,
                 vmax: float | None = None, theme: str | os.PathLike[str] | Theme | None = None,
                 width: str | float | None = None, where: str = "Diagram") -> None:
        self.data: FlowData = build(tokens=tokens, weights=weights, heads=heads,
                                    query_tokens=query_tokens, key_tokens=key_tokens,
                                    title=title, vmax=vmax, where=where)
        self.theme: Theme = load_theme(theme)
        self.width: float | None = None if width is None else _width(width, where)

    @classmethod
    def from_spec(cls, path: str | os.PathLike[str], *,
                  theme: str | os.PathLike[str] | Theme | None = None,
                  width: str | float | None = None) -> Diagram:
        """Load a TOML/JSON spec; ``theme``/``width`` override the spec's own."""
        spec = read_spec(path)
        where = Path(path).name
        spec_width = spec.pop("width", None)
        spec_theme = spec.pop("theme", None)
        if spec_theme is not None and not isinstance(spec_theme, str):
            raise SpecError(f"{where}: theme: expected a theme name or a path string")
        return cls(**spec, theme=theme if theme is not None else spec_theme,
                   width=width if width is not None else spec_width, where=where)

    def scene(self) -> Scene:
        """Lay the figure out (pure; no I/O)."""
        return layout_flow(self.data, self.theme, width=self.width)

    def to_svg(self) -> str:
        """The figure as an SVG document."""
        return render_svg(self.scene(), self.theme)

    def to_bytes(self, fmt: str = "svg", *, dpi: float = 300.0) -> bytes:
        """The figure encoded as ``svg``, ``pdf``, ``png`` or ``eps``."""
        fmt = format_of(f"figure.{fmt}")
        scene = self.scene()
        if fmt == "png":
            _check_dpi(dpi, scene)
        return convert(render_svg(scene, self.theme), fmt, dpi=dpi)

    def save(self, path: str | os.PathLike[str], *, fmt: str | None = None,
             dpi: float = 300.0) -> Path:
        """Write the figure; the format follows the suffix unless ``fmt`` is given. The write
        is atomic: on any error the destination is left as it was."""
        return write_atomic(path, self.to_bytes(format_of(path, fmt), dpi=dpi))

    def _repr_svg_(self) -> str:
        return self.to_svg()


def _width(value: str | float, where: str) -> float:
    points = parse_length(value, f"{where}: width")
    if not 36 <= points <= 7200:
        raise SpecError(f"{where}: width: {value!r} is {points:g}pt; give a width between "
                        "0.5in and 100in")
    return points


def _check_dpi(dpi: float, scene: Scene) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 4800:
        raise SpecError(f"dpi: {dpi!r} must be a number between 10 and 4800 (300 for print)")
    pixels = scene.width * scene.height * (dpi / 72) ** 2
    if pixels > MAX_PIXELS:
        raise SpecError(f"dpi: {dpi:g} dpi makes a {pixels / 1e6:.0f}-megapixel PNG; lower --dpi"
                        " or export PDF/SVG")
