"""SVG backend: translates each scene primitive through ``templates/nodes.svg.j2``, the
same way whatever the view. It computes no layout: positions, styles, which labels are
outlines and where text runs go all come from the scene.

Paint is written as SVG 1.1 presentation attributes (slide software and SVG libraries that
ignore ``<style>`` draw the same figure); the style block keeps only hover rules. Nothing
is referenced by id (colour bars are stripes, not a gradient in ``<defs>``), so the same
figure twice in one page, the first hidden, still draws. Ids and classes carry a
per-figure prefix (derived from the figure's content, so output stays deterministic), and
every CSS rule is scoped by it: figures inlined in one page never restyle each other.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from functools import lru_cache
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from ..colours import interpolate
from ..errors import SpecError
from ..resources import data_dir
from ..scene import CellGrid, Command, Gradient, Group, Path, Picture, Rect, Scene, Style, Text
from ..text.safe import xml_safe
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
    env.filters["safe_text"] = xml_safe  # tooltips, titles, descriptions: never measured
    env.tests.update(group=lambda x: isinstance(x, Group), rect=lambda x: isinstance(x, Rect),
                     path=lambda x: isinstance(x, Path), text=lambda x: isinstance(x, Text),
                     cells=lambda x: isinstance(x, CellGrid),
                     picture=lambda x: isinstance(x, Picture))
    return env


def n4(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


PHOTO_DPI = 300  # a photograph is embedded with this many pixels per inch of its box, at most
STRIPES = 96  # a colour bar's stripes: steps under 1 % of the scale, no visible banding

# Families with the same glyph widths (metric-compatible): a figure measured with the first
# names the others, so a machine without it (PowerPoint on Windows, Keynote) substitutes one
# that keeps every label inside its box.
METRIC_TWINS = {
    "Liberation Sans": ("Arimo", "Arial", "Helvetica"),
    "Liberation Serif": ("Tinos", "Times New Roman", "Times"),
    "Liberation Mono": ("Cousine", "Courier New", "Courier"),
    "TeX Gyre Heros": ("Helvetica", "Arial", "Liberation Sans"),
    "TeX Gyre Termes": ("Times", "Times New Roman", "Liberation Serif"),
    "TeX Gyre Cursor": ("Courier", "Courier New"),
    "DejaVu Sans": ("Bitstream Vera Sans",),
    "DejaVu Serif": ("Bitstream Vera Serif",),
    "DejaVu Sans Mono": ("Bitstream Vera Sans Mono",),
}
SERIF = ("Serif", "Termes", "Times", "Tinos", "Roman")


def font_stack(family: str) -> str:
    """The family a figure was measured with, its metric-compatible twins, a generic."""
    generic = "monospace" if "Mono" in family or "Cursor" in family else \
        "serif" if any(w in family for w in SERIF) else "sans-serif"
    names = (family, *METRIC_TWINS.get(family, ()))
    return ", ".join(f"'{n}'" if " " in n else n for n in names) + f", {generic}"


class _Cell(NamedTuple):
    cls: str  # its colour
    x: str
    y: str
    w: str
    h: str
    title: str = ""


class Renderer:
    """What the templates call back: number formatting, style classes, path data."""

    P = _PLACEHOLDER

    def __init__(self, interactive: bool = True, images: list[Any] | None = None,
                 gradients: tuple[Gradient, ...] = ()) -> None:
        self.gradients = {g.id: g for g in gradients}
        self.images = images  # a list: raster matrices become placeholders (PDF), PNGs here
        self.hover = False
        self.interactive = interactive  # False for PDF/PNG/EPS: no tooltips, no hover rules
        self.n = fmt
        self.n4 = n4

    def paint(self, style: Style) -> Markup:
        """A style as SVG 1.1 presentation attributes (fill, stroke, opacity, weight): every
        reader draws them, <style> or not; colours are validated ``#rrggbb``."""
        parts = [f'fill="{style.fill}"' if style.fill else 'fill="none"']
        if style.stroke:
            parts.append(f'stroke="{style.stroke}" stroke-width="{fmt(style.stroke_width)}"')
        if style.opacity != 1:
            parts.append(f'opacity="{n4(style.opacity)}"')
        if style.weight != "normal":
            parts.append(f'font-weight="{style.weight}"')
        if style.linecap:
            parts.append(f'stroke-linecap="{style.linecap}"')
        return Markup(" ".join(parts))

    def outline(self, style: Style) -> Markup:
        """A gradient-filled rectangle's outline: its stroke, no fill."""
        return self.paint(Style(stroke=style.stroke, stroke_width=style.stroke_width))

    def stripes(self, rect: Rect) -> list[_Cell]:
        """A gradient as STRIPES rectangles of its colour at their middles (linear in sRGB,
        as SVG interpolates), each overlapping the next so no renderer shows a seam."""
        gradient = self.gradients[str(rect.style.gradient)]
        box, count = rect.box, STRIPES
        # the colour at each stripe's middle: the odd levels of 2 * count + 1
        middles = interpolate([c for _, c in gradient.stops], 2 * count + 1,
                              [o for o, _ in gradient.stops])[1::2]
        out = []
        for k, colour in enumerate(middles):
            if gradient.vertical:  # offset 0 at the bottom
                y0 = box.y + box.h * (1 - (k + 1) / count)
                h = box.h / count + (box.h / count * 0.5 if k < count - 1 else 0.0)
                y = y0 - (box.h / count * 0.5 if k < count - 1 else 0.0)
                out.append(_Cell(colour, fmt(box.x), fmt(y), fmt(box.w), fmt(h)))
            else:
                x = box.x + box.w * k / count
                w = box.w / count * (1.5 if k < count - 1 else 1.0)
                out.append(_Cell(colour, fmt(x), fmt(box.y), fmt(w), fmt(box.h)))
        return out

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
                    out.append(_Cell(colour, xs[c], ys[r], w, h, _tooltip(grid, r, c)))
            return _Cell("", "", "", "", ""), [], out
        background, runs = cell_runs(grid, fmt)
        box = grid.box
        back = _Cell(background, fmt(box.x), fmt(box.y), fmt(box.w), fmt(box.h))
        return back, list(runs), []

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


    def picture(self, x: Picture) -> str:
        """A photograph as a data URI: its own JPEG when small enough, else resampled for
        :data:`PHOTO_DPI`; in a PDF a placeholder the JPEG file replaces."""
        from .raster import data_uri

        mime, data = x.photo.encoded(math.ceil(x.box.w / 72 * PHOTO_DPI),
                                     math.ceil(x.box.h / 72 * PHOTO_DPI))
        if self.images is None or mime != "image/jpeg":
            return data_uri(data, mime)
        from PIL import Image

        from .pdf_images import Jpeg, placeholder

        with Image.open(io.BytesIO(data)) as found:  # our own bytes: already validated
            size, grey = found.size, found.mode == "L"
        self.images.append(Jpeg(data, size[0], size[1], grey))
        return data_uri(placeholder(len(self.images) - 1))


def _tooltip(grid: CellGrid, r: int, c: int) -> str:
    value = float(grid.values[r, c])
    where = ""
    if grid.row_names and grid.column_names:
        # the names are substituted, never read as a template (a token may hold braces)
        where = grid.where.format(row=grid.row_names[r], column=grid.column_names[c]) + ": "
    return xml_safe(f"{where}{value:.4g}")


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
    r = Renderer(interactive, images, scene.gradients)
    nodes = list(scene.walk())
    r.hover = interactive and any(isinstance(x, Group) and x.hover for x in nodes)
    raster = any((isinstance(x, CellGrid) and x.raster) or isinstance(x, Picture)
                 for x in nodes)
    env = environment()
    body = env.get_template("nodes.svg.j2").module.node(scene.root, r)  # type: ignore[attr-defined]
    svg = env.get_template("figure.svg.j2").render(
        scene=scene, P=_PLACEHOLDER, n=fmt, n4=n4, hover=r.hover, raster=raster,
        images=raster, families=font_stack(scene.font_family),
        body=Markup(body) + Markup("\n"))
    if prefix is None:
        prefix = "sa" + hashlib.sha1(svg.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return svg.replace(_PLACEHOLDER, prefix)
