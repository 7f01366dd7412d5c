"""SVG backend: fills ``templates/diagram.svg.j2`` from a scene. It computes no geometry."""

from __future__ import annotations

from functools import lru_cache

import jinja2
from markupsafe import Markup

from ..resources import data_dir
from ..scene import Scene, Text
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


def text_runs(t: Text, primary: str) -> list[tuple[str | None, str]]:
    """(family or None for the primary family, text) per run of the label."""
    return [(None if r.face.family == primary else r.face.family, r.text) for r in t.text.runs]


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


def render_svg(scene: Scene, theme: Theme) -> str:
    """Return the SVG document for ``scene`` styled by ``theme``."""
    background, cells = cell_paths(scene.matrix, fmt)
    grid = grid_path(scene.matrix, fmt) if scene.matrix.grid_color else None
    paints = Paints()
    # The body renders first so that the style block knows every colour class it uses.
    body = environment().get_template("body.svg.j2").render(
        scene=scene, n=fmt, cells=cells, cell_background=background, grid=grid,
        runs=text_runs, size=lambda t: fmt(t.text.size), paints=paints)
    return environment().get_template("diagram.svg.j2").render(
        scene=scene, theme=theme, n=fmt, body=Markup(body), paints=paints)
