"""SVG backend: translates each scene primitive through ``templates/nodes.svg.j2``, the
same way whatever the view. It computes no layout: positions, styles, which labels are
outlines and where text runs go all come from the scene.

Ids and classes carry a per-figure prefix (derived from the figure's content, so output
stays deterministic), and every CSS rule is scoped by it: any number of figures can be
inlined in one HTML page or notebook without restyling each other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2
from markupsafe import Markup

from ..errors import SpecError
from ..resources import data_dir
from ..scene import CellGrid, Command, Group, Path, Rect, Scene, Style, Text
from ..units import fmt, fmt6
from .cells import cell_runs, grid_path

PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_PLACEHOLDER = "\x00"  # never in rendered text: xml_safe turns NUL into a visible stand-in


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    # select_autoescape's defaults do not include .svg; name the template suffixes.
    from ..cache import bytecode_cache

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        bytecode_cache=bytecode_cache(),  # compiled once, not per process
        autoescape=jinja2.select_autoescape(enabled_extensions=("svg", "svg.j2", "xml", "j2"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.tests.update(group=lambda x: isinstance(x, Group), rect=lambda x: isinstance(x, Rect),
                     path=lambda x: isinstance(x, Path), text=lambda x: isinstance(x, Text),
                     cells=lambda x: isinstance(x, CellGrid))
    return env


def n4(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class _Cell:
    cls: str
    x: str
    y: str
    w: str
    h: str
    title: str = ""


class Renderer:
    """What the templates call back: number formatting, style classes, path data."""

    P = _PLACEHOLDER

    def __init__(self, interactive: bool = True, images: list[bytes] | None = None) -> None:
        self.styles: dict[Style, str] = {}
        self.images = images  # a list: raster matrices become placeholders (PDF), PNGs here
        self.hover = False
        self.interactive = interactive  # False for PDF/PNG/EPS: no tooltips, no hover rules
        self.n = fmt

    def cls(self, style: Style) -> str:
        """The class of a style: every distinct style is one CSS rule (CSS beats
        presentation attributes, and a class per paint keeps files small)."""
        return f"{self.P}-{self.styles.setdefault(style, f's{len(self.styles)}')}"

    def group_class(self, g: Group) -> str:
        return " ".join(f"{self.P}-{c}" for c in (g.role, g.hover) if c)

    def d(self, commands: tuple[Command, ...]) -> str:
        return "".join(op + " ".join(fmt(v) for v in args) for op, args in commands)

    def glyphs(self, t: Text) -> list[tuple[str, str]]:
        """(transform, path data) of each glyph run, as layout shaped and placed it."""
        return [(f"matrix({fmt6(a)} {fmt6(b)} {fmt6(c)} {fmt6(e)} {fmt(t.x + dx)} "
                 f"{fmt(t.y + dy)})", g.d) for g in t.glyphs for a, b, c, e, dx, dy in [g.matrix]]

    def grid(self, grid: CellGrid) -> str:
        return grid_path(grid, fmt)

    def cells(self, grid: CellGrid) -> tuple[_Cell, list[tuple[str, str]], list[_Cell]]:
        rows, cols = grid.index.shape
        if grid.tooltips and self.interactive:
            xs = [fmt(grid.x + j * grid.cell_w) for j in range(cols + 1)]
            ys = [fmt(grid.y + i * grid.cell_h) for i in range(rows + 1)]
            w, h = fmt(grid.cell_w), fmt(grid.cell_h)
            out = []
            for r in range(rows):
                for c in range(cols):
                    colour = grid.colours[int(grid.index[r, c])]
                    out.append(_Cell(self.cls(Style(fill=colour)), xs[c], ys[r], w, h,
                                     _tooltip(grid, r, c)))
            return _Cell("", "", "", "", ""), [], out
        background, runs = cell_runs(grid, fmt)
        box = grid.box
        back = _Cell(self.cls(Style(fill=background)), fmt(box.x), fmt(box.y), fmt(box.w),
                     fmt(box.h))
        return back, [(self.cls(Style(fill=colour)), d) for colour, d in runs], []

    def raster(self, grid: CellGrid) -> str:
        from .raster import data_uri, indexed_png, scale_factor

        rows, cols = grid.index.shape
        if self.interactive:  # an SVG to keep: pre-scaled for librsvg, well compressed
            return data_uri(indexed_png(grid.index, grid.colours, scale_factor(rows, cols)))
        # for cairo (it draws nearest-neighbour): one pixel per cell; kept in a PDF,
        # else decoded at once (PNG, EPS) and so compressed at the least effort
        png = indexed_png(grid.index, grid.colours, 1, None if self.images is not None else 1)
        if self.images is None:
            return data_uri(png)
        from .pdf_images import placeholder

        self.images.append(png)
        return data_uri(placeholder(len(self.images) - 1))


def _tooltip(grid: CellGrid, r: int, c: int) -> str:
    value = float(grid.values[r, c])
    where = ""
    if grid.row_names and grid.column_names:
        where = f"{grid.row_names[r]} \u2192 {grid.column_names[c]}: "
    return f"{where}{value:.4g}"


def render_svg(scene: Scene, *, prefix: str | None = None, interactive: bool = True,
               images: list[bytes] | None = None) -> str:
    """The SVG document of ``scene``. ``prefix`` scopes ids and classes; by default it is
    derived from the figure's content (``sa`` + 8 hex digits), so the same figure always
    gets the same prefix and two different figures in one page differ. Without
    ``interactive`` (the SVG handed to cairosvg for PDF, PNG, EPS) there are no cell
    tooltips and no hover rules: print cannot show them, and cairosvg parses far less.
    Given ``images`` (a list), raster matrices are drawn as placeholders and their PNGs
    appended to it, for :func:`svgattn.render.pdf_images.substitute`."""
    if prefix is not None and not PREFIX.match(prefix):
        raise SpecError(f"prefix: {prefix[:40]!r} must be a lower-case letter followed by up to "
                        "30 letters, digits or '-'")
    r = Renderer(interactive, images)
    nodes = list(scene.walk())
    r.hover = interactive and any(isinstance(x, Group) and x.hover for x in nodes)
    raster = any(isinstance(x, CellGrid) and x.raster for x in nodes)
    env = environment()
    body = env.get_template("nodes.svg.j2").module.node(scene.root, r)  # type: ignore[attr-defined]
    styles = sorted(((name, style) for style, name in r.styles.items()),
                    key=lambda item: int(item[0][1:]))
    svg = env.get_template("figure.svg.j2").render(
        scene=scene, P=_PLACEHOLDER, n=fmt, n4=n4, styles=styles, hover=r.hover, raster=raster,
        images=raster,
        body=Markup(body) + Markup("\n"))
    if prefix is None:
        prefix = "sa" + hashlib.sha1(svg.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return svg.replace(_PLACEHOLDER, prefix)
