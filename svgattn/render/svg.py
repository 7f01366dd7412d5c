"""SVG backend: fills ``templates/diagram.svg.j2`` from a scene. It computes no geometry."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import jinja2
from markupsafe import Markup

from ..errors import SpecError
from ..resources import data_dir
from ..scene import Scene, Text
from ..text.outlines import label_paths, needs_outlines
from ..theme import Theme
from ..units import fmt
from .cells import cell_paths, grid_path


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    # select_autoescape's defaults do not include .svg; name the template suffixes.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=jinja2.select_autoescape(enabled_extensions=("svg", "svg.j2", "xml"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


Run = tuple[str | None, str, str | None]


def runs_for(primary: str) -> Callable[[Text], tuple[str, list[Run]]]:
    """Per label: the text-anchor to write, and (family or None for the figure's font,
    text, x or None) per run. A label in several fonts gets each run placed at an
    explicit x: cairosvg mis-anchors middle/end text made of several tspans."""

    def runs(t: Text) -> tuple[str, list[Run]]:
        parts = t.text.runs
        if len(parts) <= 1:
            return t.anchor, [(None if r.face.family == primary else r.face.family, r.text,
                               None) for r in parts]
        x = t.x - {"start": 0.0, "middle": 0.5, "end": 1.0}[t.anchor] * t.text.width
        out: list[Run] = []
        for r in parts:
            out.append((None if r.face.family == primary else r.face.family, r.text, fmt(x)))
            x += r.width
        return "start", out

    return runs


def outlines_for(mode: str) -> Callable[[Text], list[tuple[str, str]]]:
    """The label's glyph outlines when it must be drawn as paths, else an empty list."""

    def outlines(t: Text) -> list[tuple[str, str]]:
        if not t.text.runs:
            return []
        if mode == "paths" or needs_outlines(t.text.text, t.text.runs[0].face):
            return label_paths(t.text, t.x, t.y, t.anchor, t.rotate, fmt)
        return []

    return outlines


class Paints:
    """Per-element colours (head colours, swatches, text on heads) as CSS classes.

    CSS rules beat presentation attributes, so a ``fill`` attribute would lose to the
    theme's ``text`` rule; every colour therefore gets a class in the one ``<style>``
    block, named in order of first use so output is deterministic.
    """

    def __init__(self) -> None:
        self.fills: dict[str, str] = {}
        self.strokes: dict[str, str] = {}

    def fill(self, colour: str) -> str:
        return self.fills.setdefault(colour, f"fill-{len(self.fills)}")

    def stroke(self, colour: str) -> str:
        return self.strokes.setdefault(colour, f"stroke-{len(self.strokes)}")


def render_svg(scene: Scene, theme: Theme, text: str | None = None) -> str:
    """Return the SVG document for ``scene`` styled by ``theme``. ``text`` (``native`` or
    ``paths``) overrides the theme's ``text.mode``."""
    mode = text or theme["text.mode"]
    if mode not in ("native", "paths"):
        raise SpecError(f"text: {mode!r} is not a text mode; use native or paths")
    background, cells = cell_paths(scene.matrix, fmt)
    grid = grid_path(scene.matrix, fmt) if scene.matrix.grid_color else None
    paints = Paints()
    # The body renders first so that the style block knows every colour class it uses.
    body = environment().get_template("body.svg.j2").render(
        scene=scene, n=fmt, cells=cells, cell_background=background, grid=grid,
        runs=runs_for(scene.font_family), size=lambda t: fmt(t.text.size), paints=paints,
        outlines=outlines_for(mode))
    return environment().get_template("diagram.svg.j2").render(
        scene=scene, theme=theme, n=fmt, body=Markup(body), paints=paints)
