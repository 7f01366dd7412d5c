"""The frozen scene: backend-neutral primitives in points, the contract between layout
and renderers. Roles name CSS classes; ids are deterministic (prefix + index)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .text.metrics import TextBox


@dataclass(frozen=True)
class Box:
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

    def overlaps(self, other: Box, tol: float = 1e-6) -> bool:
        return (self.x < other.right - tol and other.x < self.right - tol
                and self.y < other.bottom - tol and other.y < self.bottom - tol)

    def inside(self, other: Box, tol: float = 1e-6) -> bool:
        return (self.x >= other.x - tol and self.y >= other.y - tol
                and self.right <= other.right + tol and self.bottom <= other.bottom + tol)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)


@dataclass(frozen=True)
class Rect:
    id: str
    box: Box
    role: str
    fill: str | None = None
    radius: float = 0.0


@dataclass(frozen=True)
class Text:
    """One line of text. ``x``/``y`` is the anchor point on the baseline; ``rotate`` turns
    it about that point (degrees, counter-clockwise negative as in SVG). ``bbox`` is the
    ink box the text occupies after rotation."""

    id: str
    x: float
    y: float
    text: TextBox
    role: str
    anchor: str  # start | middle | end
    bbox: Box
    bold: bool = False
    rotate: float = 0.0
    fill: str | None = None


@dataclass(frozen=True)
class Connector:
    """A cubic Bézier from a head box edge to a token node edge."""

    id: str
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float],
                  tuple[float, float]]
    head: int
    token: int
    color: str


@dataclass(frozen=True, eq=False)
class CellGrid:
    """The matrix: cell ``(r, c)`` is ``palette[index[r, c]]``; square cells of side ``cell``."""

    id: str
    x: float
    y: float
    cell: float
    palette: tuple[str, ...]
    index: np.ndarray
    values: np.ndarray
    grid_color: str | None
    grid_width: float

    @property
    def box(self) -> Box:
        rows, cols = self.index.shape
        return Box(self.x, self.y, cols * self.cell, rows * self.cell)


@dataclass(frozen=True)
class Outline:
    """A token group drawn as a stroked rectangle on the matrix."""

    id: str
    box: Box
    color: str
    width: float


@dataclass(frozen=True)
class ColorBar:
    id: str
    box: Box
    stops: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Scene:
    """A laid-out figure. ``width``/``height`` are the canvas in points."""

    width: float
    height: float
    background: str | None
    title: str
    desc: str
    font_family: str
    font_size: float
    heads: tuple[Rect, ...]
    head_labels: tuple[Text, ...]
    connectors: tuple[Connector, ...]
    nodes: tuple[Rect, ...]
    node_labels: tuple[Text, ...]
    row_labels: tuple[Text, ...]
    column_labels: tuple[Text, ...]
    matrix: CellGrid
    legend_rects: tuple[Rect, ...]
    legend_labels: tuple[Text, ...]
    colorbar: ColorBar | None
    title_text: Text | None
    outlines: tuple[Outline, ...] = ()
    caption_text: Text | None = None

    @property
    def canvas(self) -> Box:
        return Box(0.0, 0.0, self.width, self.height)

    def texts(self) -> tuple[Text, ...]:
        extra = tuple(t for t in (self.title_text, self.caption_text) if t)
        return (*self.head_labels, *self.node_labels, *self.row_labels, *self.column_labels,
                *self.legend_labels, *extra)
