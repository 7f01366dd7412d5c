"""What every view lays out with: theme lengths at a scale, measured labels, styles.

A view never guesses a text width: :meth:`Context.label` measures the label with the
font file the output names, places its baseline from the font's cap height, decides
whether it must be drawn as outlines (the ``paths`` text mode, or a label renderers would
draw wrongly) and where each font run goes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

from ..scene import Box, Glyphs, Label, Style, Text, TextRun
from ..text.fonts import FontFace, resolve_family
from ..text.metrics import TextBox, measure


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ending in an ellipsis; never between a
    character and the combining marks or joiners that follow it."""
    if limit <= 0 or len(text) <= limit:
        return text
    cut = max(1, limit - 1)
    while cut > 1 and (unicodedata.combining(text[cut]) or text[cut] in "\u200c\u200d\ufe0f"):
        cut -= 1
    return text[:cut] + "\u2026"


@lru_cache(maxsize=16)
def _boxes(texts: tuple[str, ...], families: tuple[str, ...], size: float,
           limit: int) -> tuple[TextBox, ...]:
    return tuple(_box(t, families, size, False, limit) for t in texts)


@lru_cache(maxsize=65536)
def _box(text: str, families: tuple[str, ...], size: float, bold: bool, limit: int) -> TextBox:
    # a long sequence's layout is tried at a few sizes: each label is measured once
    return measure(shorten(text, limit), families, size, bold)


@lru_cache(maxsize=16)
def _extents(texts: tuple[str, ...], families: tuple[str, ...], size: float,
             limit: int) -> tuple[float, float]:
    boxes = _boxes(texts, families, size, limit)
    return (max((b.width for b in boxes), default=0.0),
            max((b.centred_extent for b in boxes), default=0.0))


class Values(Protocol):
    """What layout reads from a theme: validated values by key (lengths in points)."""

    def __getitem__(self, key: str) -> Any: ...


@dataclass(frozen=True, eq=False)
class Context:
    """A theme at a scale (every length and type size multiplied by ``scale``, so a
    figure too wide for its page can be shrunk uniformly by laying it out again) and a
    text mode (``native`` or ``paths``)."""

    theme: Values
    scale: float = 1.0
    text_mode: str = "native"
    label_chars: int | None = None  # labels shortened further than the theme asks, to fit

    def __getitem__(self, key: str) -> float:
        """A theme length (points) at this scale."""
        return float(self.theme[key]) * self.scale

    def value(self, key: str) -> object:
        """A theme value as it is (colours, flags, names)."""
        return self.theme[key]

    def at(self, scale: float) -> Context:
        return replace(self, scale=scale)

    @property
    def em(self) -> float:
        return self["font.size"]

    @property
    def face(self) -> FontFace:
        return resolve_family(self.theme["font.family"])

    @property
    def family(self) -> str:
        return self.face.family

    @property
    def limit(self) -> int:
        limit = int(self.theme["text.max_label_chars"])
        if self.label_chars is None:
            return limit
        return self.label_chars if limit == 0 else min(limit, self.label_chars)

    def shortened(self, chars: int) -> Context:
        """This context with labels cut to ``chars`` characters (ellipsis included)."""
        return replace(self, label_chars=chars)

    def measure(self, text: str, size: float | None = None, *, bold: bool = False) -> TextBox:
        """``text`` measured at ``size`` points (default: the label size)."""
        return measure(text, self.theme["font.family"], self._size(size or self.em), bold)

    def box(self, text: str, *, factor: float = 1.0, bold: bool = False,
            shorten_to: int | None = None) -> TextBox:
        """A label's measured box at ``factor`` times the label size, shortened to the
        theme's ``text.max_label_chars`` (what is drawn is what is measured)."""
        limit = self.limit if shorten_to is None else shorten_to
        return _box(text, self.theme["font.family"], self._size(self.em * factor), bold, limit)

    def _size(self, size: float) -> float:
        """Smaller labels (captions, ticks) never below the theme's smallest type."""
        return max(size, min(self.em, float(self.theme["text.min_size"])))

    def boxes(self, texts: Sequence[str]) -> tuple[TextBox, ...]:
        """:meth:`box` of every label (long sequences: one cached lookup for thousands of
        labels, which layouts ask for at each size they try)."""
        return _boxes(tuple(texts), self.theme["font.family"], self.em, self.limit)

    def extents(self, texts: Sequence[str]) -> tuple[float, float]:
        """(widest, tallest centred band) of :meth:`boxes`, remembered like them."""
        return _extents(tuple(texts), self.theme["font.family"], self.em, self.limit)

    def text(self, id_: str, box: TextBox, x: float, centre_y: float, anchor: str, role: str,
             colour: str, *, bold: bool = False, owner: str | None = None) -> Text:
        """A horizontal label whose capitals are centred on ``centre_y``."""
        baseline = box.baseline_for_centre(centre_y)
        left = {"start": x, "middle": x - box.width / 2, "end": x - box.width}[anchor]
        bbox = Box(left, baseline - box.ascent, box.width, box.height)
        return self._made(id_, x, baseline, box, anchor, bbox,
                          _style(colour, "bold" if bold else "normal"), role, owner=owner)

    def baseline_text(self, id_: str, box: TextBox, x: float, baseline: float, anchor: str,
                      role: str, colour: str, *, bold: bool = False) -> Text:
        left = {"start": x, "middle": x - box.width / 2, "end": x - box.width}[anchor]
        bbox = Box(left, baseline - box.ascent, box.width, box.height)
        return self._made(id_, x, baseline, box, anchor, bbox,
                          _style(colour, "bold" if bold else "normal"), role)

    def up_text(self, id_: str, box: TextBox, centre_x: float, bottom: float, role: str,
                colour: str) -> Text:
        """A label turned 90 degrees counter-clockwise, reading upwards from ``bottom``,
        its capitals centred on ``centre_x``."""
        ax = centre_x + box.cap_height / 2
        bbox = Box(ax - box.ascent, bottom - box.width, box.height, box.width)
        return self._made(id_, ax, bottom, box, "start", bbox, _style(colour, "normal"), role,
                          rotate=-90.0)

    def _made(self, id_: str, x: float, y: float, box: TextBox, anchor: str, bbox: Box,
              style: Style, role: str, *, rotate: float = 0.0,
              owner: str | None = None) -> Text:
        outline, runs = _plan(box, self.text_mode, self.family)
        glyphs: tuple[Glyphs, ...] = ()
        if outline:  # shaped here, from the box measured here: render only writes it
            from ..text.outlines import outline as shaped

            glyphs = tuple(Glyphs(m, d) for m, d in shaped(box, anchor, rotate))
        elif runs is None:  # several fonts: each run placed at its measured x
            runs = _placed(box, x, anchor, self.family)
        return Text(id_, x, y, _label(box), anchor, bbox, style, role, rotate, glyphs,
                    runs or (), owner)


@lru_cache(maxsize=65536)
def _label(box: TextBox) -> Label:
    return Label(box.text, box.size, box.width, box.ascent, box.descent, box.cap_height)


@lru_cache(maxsize=256)
def _style(colour: str, weight: str) -> Style:
    return Style(fill=colour, weight=weight)


@lru_cache(maxsize=65536)
def _plan(box: TextBox, mode: str, primary: str) -> tuple[bool, tuple[TextRun, ...] | None]:
    """How a label is drawn, decided once per label however many layouts are tried:
    (as outlines? -- the paths mode, or labels cairosvg cannot shape: right-to-left,
    joining scripts, emoji -- ; its native runs, ``None`` when it mixes fonts: then each
    run is placed at its measured x, as cairosvg mis-anchors middle/end text of several
    tspans)."""
    from ..text.outlines import needs_outlines

    runs = box.runs
    if not runs:
        return False, ()
    if mode == "paths" or needs_outlines(box.text, runs[0].face):
        return True, ()
    if len(runs) == 1:
        only = runs[0]
        return False, (TextRun(only.text, None if only.face.family == primary
                               else only.face.family),)
    return False, None


def _placed(box: TextBox, x: float, anchor: str, primary: str) -> tuple[TextRun, ...]:
    x -= {"start": 0.0, "middle": 0.5, "end": 1.0}[anchor] * box.width
    placed = []
    for run in box.runs:
        placed.append(TextRun(run.text, None if run.face.family == primary
                              else run.face.family, x))
        x += run.width
    return tuple(placed)
