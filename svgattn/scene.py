"""The frozen scene: a tree of generic, backend-neutral primitives in points with resolved
styles. It is the contract between the views (which lay figures out) and the backends
(which only translate): nothing here is specific to one picture.

Primitives: :class:`Rect`, :class:`Path`, :class:`Text` (a :class:`Label`, drawn as text
or as :class:`Glyphs`), :class:`CellGrid` (vector cells or, for long sequences, one
image), :class:`Picture` (a photograph), :class:`Group`; a :class:`Gradient` is a
definition a rectangle can be filled with. Ids are local to the figure (``head-0``);
the backend scopes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .photo import Photo


class Box(NamedTuple):
    """Axis-aligned rectangle: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def centre_y(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Box, tol: float = 1e-6) -> bool:
        return (self.x < other.right - tol and other.x < self.right - tol
                and self.y < other.bottom - tol and other.y < self.bottom - tol)

    def inside(self, other: Box, tol: float = 1e-6) -> bool:
        return (self.x >= other.x - tol and self.y >= other.y - tol
                and self.right <= other.right + tol and self.bottom <= other.bottom + tol)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)


class Style(NamedTuple):
    """A resolved paint. Colours are ``#rrggbb`` (validated) or ``None`` for none;
    ``gradient`` names a :class:`Gradient` of the scene to fill with instead."""

    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 0.0
    opacity: float = 1.0
    weight: str = "normal"  # text: normal | bold
    gradient: str | None = None
    linecap: str | None = None  # butt | round


@dataclass(frozen=True, eq=False)
class Rect:
    id: str
    box: Box
    style: Style
    role: str = ""
    radius: float = 0.0
    title: str | None = None  # a tooltip (SVG <title>)


# ("M", (x, y)), ("L", (x, y)), ("C", (x1, y1, x2, y2, x, y)), ("Z", ())
Command = tuple[str, tuple[float, ...]]


@dataclass(frozen=True, eq=False)
class Path:
    """A path of absolute commands ``M``, ``L``, ``C`` and ``Z``."""

    id: str
    commands: tuple[Command, ...]
    style: Style
    role: str = ""
    title: str | None = None

    @property
    def points(self) -> list[tuple[float, float]]:
        """End points of the commands (for checks: where a path starts and ends)."""
        return [(args[-2], args[-1]) for _, args in self.commands if args]


class TextRun(NamedTuple):
    """A stretch of a native label set in one font; ``x`` is given when the label has
    several runs (each placed where it was measured) and ``family`` when it is not the
    figure's font."""

    text: str
    family: str | None = None
    x: float | None = None


class Label(NamedTuple):
    """What a label says and how it was measured (points): its text, type size, width,
    and its extent above and below the baseline."""

    text: str
    size: float
    width: float
    ascent: float
    descent: float
    cap_height: float


class Glyphs(NamedTuple):
    """A run of glyph outlines: path data in font units and the matrix that places them,
    ``(a, b, c, d, dx, dy)`` with ``(dx, dy)`` relative to the label's anchor."""

    matrix: tuple[float, float, float, float, float, float]
    d: str


@dataclass(frozen=True, eq=False)
class Text:
    """One line of text. ``x``/``y`` is the anchor on the baseline; ``rotate`` turns it
    about that point (degrees, negative is counter-clockwise as in SVG). ``bbox`` is the
    ink box after rotation. ``glyphs``, when given, draw it as outlines (decided and
    shaped by layout: the paths text mode, or a label renderers would draw wrongly);
    otherwise ``runs`` are its native text. ``owner`` is the id of the box the label sits
    in, if any (the layout checks use it)."""

    id: str
    x: float
    y: float
    label: Label
    anchor: str  # start | middle | end
    bbox: Box
    style: Style
    role: str = ""
    rotate: float = 0.0
    glyphs: tuple[Glyphs, ...] = ()
    runs: tuple[TextRun, ...] = ()
    owner: str | None = None

    @property
    def outline(self) -> bool:
        return bool(self.glyphs)


@dataclass(frozen=True, eq=False)
class CellGrid:
    """A matrix of cells: cell ``(r, c)`` is painted ``colours[index[r, c]]``; ``values``
    are the weights (tooltips carry them when ``tooltips`` is set)."""

    id: str
    x: float
    y: float
    cell_w: float
    cell_h: float
    colours: tuple[str, ...]
    index: np.ndarray
    values: np.ndarray
    grid: Style | None = None  # lines between cells
    tooltips: bool = False
    row_names: tuple[str, ...] = ()
    column_names: tuple[str, ...] = ()
    where: str = "{row} \u2192 {column}"  # a cell's name in its tooltip: query -> key
    role: str = "cells"
    raster: bool = False  # drawn as one embedded image (long sequences), not vector cells
    # When a device has fewer pixels than cells, blocks of cells keep their strongest
    # colour: "max" (a larger index is stronger) or "extreme" (the farther from the middle
    # colour: diverging maps); with ``masked`` the last colour is masked cells, the weakest.
    pooling: str = "max"
    masked: bool = False
    opacity: float = 1.0  # a map laid over a picture lets the picture show through

    @property
    def box(self) -> Box:
        rows, cols = self.index.shape
        return Box(self.x, self.y, cols * self.cell_w, rows * self.cell_h)

    def row_centre(self, r: float) -> float:
        return self.y + (r + 0.5) * self.cell_h

    def column_centre(self, c: float) -> float:
        return self.x + (c + 0.5) * self.cell_w


@dataclass(frozen=True, eq=False)
class Picture:
    """A photograph stretched over ``box`` (its aspect is the box's: the layout sizes the
    box from the picture). The backend embeds it once, at print resolution for the box."""

    id: str
    box: Box
    photo: Photo
    role: str = "photo"


@dataclass(frozen=True, eq=False)
class Gradient:
    """A linear gradient: ``stops`` are (offset 0..1, colour); ``vertical`` runs from the
    bottom (offset 0) to the top."""

    id: str
    stops: tuple[tuple[float, str], ...]
    vertical: bool = True


@dataclass(frozen=True, eq=False)
class Group:
    """A group of primitives. ``hover`` makes it interactive with CSS alone: ``scope``
    (hovering anything inside dims the ``target`` primitives of the other ``item`` groups),
    ``item`` (hovering it highlights its own targets)."""

    id: str
    children: tuple[Node, ...]
    role: str = ""
    hover: str | None = None  # scope | item
    title: str | None = None


Node = Union[Rect, Path, Text, CellGrid, Picture, Group]  # noqa: UP007 - a runtime alias


@dataclass(frozen=True, eq=False)
class Scene:
    """A laid-out figure: a canvas ``width`` x ``height`` points and a tree of primitives."""

    width: float
    height: float
    background: str | None
    title: str
    desc: str
    font_family: str
    root: Group
    gradients: tuple[Gradient, ...] = ()

    @property
    def canvas(self) -> Box:
        return Box(0.0, 0.0, self.width, self.height)

    def walk(self) -> Iterator[Node]:
        """Every primitive, depth first, groups included, in drawing order."""
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Group):
                stack.extend(reversed(node.children))

    def find(self, kind: type, role: str | None = None) -> list:
        """Primitives of a type (and role), in drawing order."""
        return [n for n in self.walk() if isinstance(n, kind)
                and (role is None or getattr(n, "role", None) == role)]

    def by_id(self, id_: str) -> Node:
        for node in self.walk():
            if getattr(node, "id", None) == id_:
                return node
        raise KeyError(id_)


def mapped(node: Node, change: Callable[[Node], Node]) -> Node:
    """``node`` with ``change`` applied to every primitive in it (groups rebuilt)."""
    if isinstance(node, Group):
        return replace(node, children=tuple(mapped(c, change) for c in node.children))
    return change(node)


def moved(node: Node, dx: float, dy: float) -> Node:
    """``node`` translated by (dx, dy); groups move their children."""
    if dx == 0 and dy == 0:
        return node
    if isinstance(node, (Rect, Picture)):
        return replace(node, box=node.box.moved(dx, dy))
    if isinstance(node, Text):
        return replace(node, x=node.x + dx, y=node.y + dy, bbox=node.bbox.moved(dx, dy),
                       runs=tuple(r._replace(x=None if r.x is None else r.x + dx)
                                  for r in node.runs))
    if isinstance(node, Path):
        return replace(node, commands=tuple(
            (op, tuple(v + (dx if i % 2 == 0 else dy) for i, v in enumerate(args)))
            for op, args in node.commands))
    if isinstance(node, CellGrid):
        return replace(node, x=node.x + dx, y=node.y + dy)
    return replace(node, children=tuple(moved(c, dx, dy) for c in node.children))


def scaled(node: Node, factor: float, ox: float = 0.0, oy: float = 0.0) -> Node:
    """``node`` scaled by ``factor`` about (``ox``, ``oy``): positions, sizes, type and
    stroke widths alike (a body too wide for its figure, shrunk as a whole)."""
    def x(v: float) -> float:
        return ox + (v - ox) * factor

    def y(v: float) -> float:
        return oy + (v - oy) * factor

    def box(b: Box) -> Box:
        return Box(x(b.x), y(b.y), b.w * factor, b.h * factor)

    def style(s: Style) -> Style:
        return s._replace(stroke_width=s.stroke_width * factor)

    if isinstance(node, Group):
        return replace(node, children=tuple(scaled(c, factor, ox, oy) for c in node.children))
    if isinstance(node, Rect):
        return replace(node, box=box(node.box), style=style(node.style),
                       radius=node.radius * factor)
    if isinstance(node, Picture):
        return replace(node, box=box(node.box))
    if isinstance(node, Path):
        return replace(node, style=style(node.style), commands=tuple(
            (op, tuple(x(v) if i % 2 == 0 else y(v) for i, v in enumerate(args)))
            for op, args in node.commands))
    if isinstance(node, Text):
        lab = node.label
        return replace(node, x=x(node.x), y=y(node.y), bbox=box(node.bbox), style=style(node.style),
                       label=Label(lab.text, lab.size * factor, lab.width * factor,
                                   lab.ascent * factor, lab.descent * factor,
                                   lab.cap_height * factor),
                       glyphs=tuple(Glyphs(tuple(v * factor for v in g.matrix), g.d)  # type: ignore[arg-type]
                                    for g in node.glyphs),
                       runs=tuple(r._replace(x=None if r.x is None else x(r.x))
                                  for r in node.runs))
    return replace(node, x=x(node.x), y=y(node.y), cell_w=node.cell_w * factor,
                   cell_h=node.cell_h * factor,
                   grid=None if node.grid is None else style(node.grid))


def bounds(nodes: Iterator[Node] | list[Node] | tuple[Node, ...]) -> Box | None:
    """The box around every primitive's ink (paths by their points)."""
    # Plain floats, not a Box per union: layouts ask for the bounds of thousands of
    # labels at every size they try.
    ext = [math.inf, math.inf, -math.inf, -math.inf]
    _extend(nodes, ext)
    x0, y0, x1, y1 = ext
    return None if x0 > x1 else Box(x0, y0, x1 - x0, y1 - y0)


def _extend(nodes: Iterator[Node] | list[Node] | tuple[Node, ...], ext: list[float]) -> None:
    for node in nodes:
        if isinstance(node, Group):
            _extend(node.children, ext)
            continue
        if isinstance(node, Path):
            for _, args in node.commands:
                if args:
                    x, y = args[-2], args[-1]
                    ext[0], ext[1] = min(ext[0], x), min(ext[1], y)
                    ext[2], ext[3] = max(ext[2], x), max(ext[3], y)
            continue
        box = node.bbox if isinstance(node, Text) else node.box
        ext[0], ext[1] = min(ext[0], box.x), min(ext[1], box.y)
        ext[2], ext[3] = max(ext[2], box.x + box.w), max(ext[3], box.y + box.h)
