"""Text as outlines: HarfBuzz shaping and HarfBuzz glyph outlines.

Used for the ``paths`` text mode (identical pixels in every renderer) and, in ``native``
mode, for labels cairosvg cannot draw right: cairosvg neither shapes (Arabic joining,
Indic conjuncts, mark placement, emoji sequences) nor reorders right-to-left text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb

from .fonts import FontFace, hb_face, hb_font
from .metrics import TextBox, _hb_font, split_runs

Matrix = tuple[float, float, float, float, float, float]
_OFF = {"liga": False, "clig": False, "kern": False, "calt": False, "dlig": False}
_RTL = ("R", "AL")


@dataclass(frozen=True)
class GlyphRun:
    """Shaped glyphs of one face, in visual order, positions in font units."""

    face: FontFace
    glyphs: tuple[tuple[int, int, int], ...]  # (glyph id, x, y) of each glyph's origin
    advance: int  # font units
    upem: int


def _shape(face: FontFace, text: str, rtl: bool, features: dict | None = None):
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    buf.direction = "rtl" if rtl else "ltr"
    hb.shape(_hb_font(face), buf, features or {})
    return buf.glyph_infos, buf.glyph_positions


def _is_rtl(text: str) -> bool:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL:
            return True
        if kind == "L":
            return False
    return False


def bidi_levels(text: str) -> list[int]:
    """Embedding level of each character: a compact form of the Unicode bidi algorithm for
    one-line labels (no explicit embeddings). Strong L/R/AL characters keep their
    direction; European digits after left-to-right text count as L (W7), other numbers act
    as R towards neighbouring neutrals (N1) and sit two levels up in left-to-right text (I1);
    a neutral run takes the direction of its neighbours when they agree, else the paragraph
    direction (N2); marks follow their base."""
    base = 1 if _is_rtl(text) else 0
    kinds: list[str] = []
    prior = "R" if base else "L"  # the last strong kind so far (W7 looks back to it)
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "NSM" and kinds:
            kinds.append(kinds[-1])
        elif kind in _RTL:
            kinds.append("R")
        elif kind == "AN":
            kinds.append("N#")
        elif kind == "EN":  # W7: European digits after L text (or at the start of LTR) are L
            kinds.append("L" if prior == "L" else "N#")
        else:
            kinds.append("L" if kind == "L" else "N")
        if kinds[-1] in ("L", "R"):
            prior = kinds[-1]
    strong = ["R" if k == "N#" else k for k in kinds]
    edge = "R" if base else "L"
    resolved = list(kinds)
    i = 0
    while i < len(kinds):
        if kinds[i] != "N":
            i += 1
            continue
        j = i
        while j < len(kinds) and kinds[j] == "N":
            j += 1
        before = strong[i - 1] if i else edge
        after = strong[j] if j < len(kinds) else edge
        resolved[i:j] = [before if before == after else edge] * (j - i)
        i = j
    table = {0: {"L": 0, "R": 1, "N#": 2}, 1: {"L": 2, "R": 1, "N#": 2}}[base]
    return [table[k] for k in resolved]


def visual_order(levels: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """Order of ``spans`` (runs of one level) from left to right (rule L2: from the highest
    level down to the lowest odd one, reverse every sequence at that level or higher)."""
    order = list(range(len(spans)))
    if not levels:
        return order
    run_level = [levels[a] for a, _ in spans]
    lowest_odd = min((lv for lv in run_level if lv % 2), default=None)
    if lowest_odd is None:
        return order
    for level in range(max(run_level), lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if run_level[order[i]] >= level:
                j = i
                while j < len(order) and run_level[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


def direction_segments(text: str) -> list[tuple[str, bool]]:
    """(segment, is_rtl) runs of one embedding level, in logical order."""
    out: list[tuple[str, bool]] = []
    last = None
    for ch, level in zip(text, bidi_levels(text), strict=True):
        if level == last:
            out[-1] = (out[-1][0] + ch, bool(level % 2))
        else:
            out.append((ch, bool(level % 2)))
        last = level
    return out


def _emoji(code: int) -> bool:
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF
            or 0x2B00 <= code <= 0x2BFF or code in (0x200D, 0xFE0F, 0x3030, 0x303D))


@lru_cache(maxsize=4096)
def needs_outlines(text: str, primary: FontFace) -> bool:
    """True when a renderer would not draw ``text`` as measured, so native mode draws it
    as outlines: cairosvg draws characters one by one from the cmap, without reordering
    (RTL), contextual forms, conjuncts or mark positioning; and browsers and librsvg
    swap emoji for a colour emoji font. Optional ligatures and kerning do not count."""
    # ASCII has neither emoji nor right-to-left characters: only shaping is left to check.
    if not text.isascii():
        if any(_emoji(ord(ch)) for ch in text):
            return True
        if any(level % 2 for level in bidi_levels(text)):
            return True
    for chunk, face in split_runs(primary, text):
        font = hb_font(face)
        infos, positions = _shape(face, chunk, False, _OFF)
        naive = [font.get_nominal_glyph(ord(c)) or 0 for c in chunk]
        if [i.codepoint for i in infos] != naive:
            return True
        for info, pos in zip(infos, positions, strict=True):
            if pos.x_offset or pos.y_offset or \
                    pos.x_advance != font.get_glyph_h_advance(info.codepoint):
                return True
    return False


def shape_label(box: TextBox) -> list[GlyphRun]:
    """Shape a measured label into glyph runs in visual (left-to-right) order. Each run is
    set in the face the measurement chose for it (``box.runs``), never another one."""
    levels = bidi_levels(box.text)
    spans: list[tuple[int, int, FontFace]] = []  # logical runs of one level and one face
    pos = 0
    for run in box.runs:
        for k in range(pos, pos + len(run.text)):
            if spans and spans[-1][2] == run.face and levels[spans[-1][0]] == levels[k] \
                    and spans[-1][1] == k:
                spans[-1] = (spans[-1][0], k + 1, run.face)
            else:
                spans.append((k, k + 1, run.face))
        pos += len(run.text)
    order = visual_order(levels, [(a, b) for a, b, _ in spans])
    runs: list[GlyphRun] = []
    for index in order:
        a, b, face = spans[index]
        infos, positions = _shape(face, box.text[a:b], bool(levels[a] % 2))
        x = 0
        glyphs = []
        for info, gpos in zip(infos, positions, strict=True):
            glyphs.append((info.codepoint, x + gpos.x_offset, gpos.y_offset))
            x += gpos.x_advance
        runs.append(GlyphRun(face, tuple(glyphs), x, hb_face(face).upem))
    return runs


class _PathPen:
    """Collects a glyph's outline as SVG path data (font units, offset by dx, dy)."""

    def __init__(self, dx: int, dy: int) -> None:
        self.dx, self.dy = dx, dy
        self.parts: list[str] = []

    def _xy(self, x: float, y: float) -> str:
        return f"{_num(x + self.dx)} {_num(y + self.dy)}"

    def moveTo(self, p: tuple[float, float]) -> None:
        self.parts.append("M" + self._xy(*p))

    def lineTo(self, p: tuple[float, float]) -> None:
        self.parts.append("L" + self._xy(*p))

    def qCurveTo(self, *points: tuple[float, float]) -> None:
        self.parts.append("Q" + " ".join(self._xy(*p) for p in points))

    def curveTo(self, *points: tuple[float, float]) -> None:
        self.parts.append("C" + " ".join(self._xy(*p) for p in points))

    def closePath(self) -> None:
        self.parts.append("Z")


def _num(v: float) -> str:
    text = f"{v:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=16384)
def _glyph_path(face: FontFace, gid: int, dx: int, dy: int) -> str:
    pen = _PathPen(dx, dy)
    hb_font(face).draw_glyph_with_pen(gid, pen)
    return "".join(pen.parts)


@lru_cache(maxsize=65536)
def outline(box: TextBox, anchor: str, rotate: float) -> tuple[tuple[Matrix, str], ...]:
    """The glyph runs of a label anchored at ``anchor`` and turned by ``rotate`` degrees:
    per run, the matrix ``(a, b, c, d, dx, dy)`` placing its path data (font units) with
    ``(dx, dy)`` relative to the anchor, and that path data. Shaped once per label, however
    many layouts are tried."""
    import math

    runs = shape_label(box)
    width = sum(r.advance * box.size / r.upem for r in runs)
    start = {"start": 0.0, "middle": -width / 2, "end": -width}[anchor]
    cos, sin = math.cos(math.radians(rotate)), math.sin(math.radians(rotate))
    out: list[tuple[Matrix, str]] = []
    offset = start
    for run in runs:
        s = box.size / run.upem
        d = "".join(_glyph_path(run.face, gid, gx, gy) for gid, gx, gy in run.glyphs)
        # font units (y up) -> label coordinates (y down) -> rotation about the anchor
        if d:
            out.append(((s * cos, s * sin, s * sin, s * -cos, offset * cos, offset * sin), d))
        offset += run.advance * s
    return tuple(out)
