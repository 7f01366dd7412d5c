"""Text as outlines: HarfBuzz shaping + fontTools glyph outlines.

Used for the ``paths`` text mode (identical pixels in every renderer) and, in ``native``
mode, for labels cairosvg cannot draw right: cairosvg neither shapes (Arabic joining,
Indic conjuncts, mark placement, emoji sequences) nor reorders right-to-left text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen

from .fonts import FontFace, ttfont
from .metrics import TextBox, _hb_font, split_runs

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


def direction_segments(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, is_rtl) runs, a simplified Unicode bidi for one-line
    labels: strong characters keep their direction; a neutral stretch (spaces, commas)
    takes the direction of its neighbours when both agree, else the label's base
    direction (that of its first strong character)."""
    base = _is_rtl(text)
    strong: list[bool | None] = []
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        strong.append(True if kind in _RTL else False if kind == "L" else None)
    resolved: list[bool] = []
    for i, value in enumerate(strong):
        if value is not None:
            resolved.append(value)
            continue
        before = next((v for v in reversed(strong[:i]) if v is not None), base)
        after = next((v for v in strong[i + 1:] if v is not None), base)
        resolved.append(before if before == after else base)
    segments: list[tuple[str, bool]] = []
    for ch, rtl in zip(text, resolved, strict=True):
        if segments and segments[-1][1] == rtl:
            segments[-1] = (segments[-1][0] + ch, rtl)
        else:
            segments.append((ch, rtl))
    return segments


def _emoji(code: int) -> bool:
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or code in (0x200D, 0xFE0F)
            or 0x1F1E6 <= code <= 0x1F1FF)


@lru_cache(maxsize=4096)
def needs_outlines(text: str, primary: FontFace) -> bool:
    """True when a renderer would not draw ``text`` as measured, so native mode draws it
    as outlines: cairosvg draws characters one by one from the cmap, without reordering
    (RTL), contextual forms, conjuncts or mark positioning; and browsers and librsvg
    swap emoji for a colour emoji font. Optional ligatures and kerning do not count."""
    if any(_emoji(ord(ch)) for ch in text):
        return True
    if any(rtl for _, rtl in direction_segments(text)):
        return True
    for chunk, face in split_runs(primary, text):
        font = ttfont(face)
        best = font.getBestCmap() or {}
        hmtx = font["hmtx"]
        infos, positions = _shape(face, chunk, False, _OFF)
        naive = [font.getGlyphID(best[ord(c)]) if ord(c) in best else 0 for c in chunk]
        if [i.codepoint for i in infos] != naive:
            return True
        for info, pos in zip(infos, positions, strict=True):
            name = font.getGlyphName(info.codepoint)
            if pos.x_offset or pos.y_offset or pos.x_advance != hmtx[name][0]:
                return True
    return False


def shape_label(box: TextBox) -> list[GlyphRun]:
    """Shape a measured label into glyph runs in visual (left-to-right) order."""
    primary = box.runs[0].face if box.runs else None
    if primary is None:
        return []
    segments = direction_segments(box.text)
    base_rtl = _is_rtl(box.text)
    ordered = list(reversed(segments)) if base_rtl else segments
    runs: list[GlyphRun] = []
    for segment, rtl in ordered:
        pieces = split_runs(primary, segment)
        for chunk, face in (reversed(pieces) if rtl else pieces):
            infos, positions = _shape(face, chunk, rtl)
            x = 0
            glyphs = []
            for info, pos in zip(infos, positions, strict=True):
                glyphs.append((info.codepoint, x + pos.x_offset, pos.y_offset))
                x += pos.x_advance
            runs.append(GlyphRun(face, tuple(glyphs), x, ttfont(face)["head"].unitsPerEm))
    return runs


@lru_cache(maxsize=16384)
def _glyph_path(face: FontFace, gid: int, dx: int, dy: int) -> str:
    font = ttfont(face)
    glyph_set = font.getGlyphSet()
    pen = SVGPathPen(glyph_set, ntos=lambda v: f"{v:.1f}".rstrip("0").rstrip("."))
    glyph_set[font.getGlyphName(gid)].draw(TransformPen(pen, (1, 0, 0, 1, dx, dy)))
    return pen.getCommands()


def label_paths(box: TextBox, x: float, y: float, anchor: str, rotate: float,
                fmt: Callable[[float], str]) -> list[tuple[str, str]]:
    """(SVG transform, path data in font units) per glyph run of a label anchored at
    (``x``, ``y``) on its baseline, rotated by ``rotate`` degrees about that point."""
    import math

    runs = shape_label(box)
    width = sum(r.advance * box.size / r.upem for r in runs)
    start = {"start": 0.0, "middle": -width / 2, "end": -width}[anchor]
    cos, sin = math.cos(math.radians(rotate)), math.sin(math.radians(rotate))
    out = []
    offset = start
    for run in runs:
        s = box.size / run.upem
        d = "".join(_glyph_path(run.face, gid, gx, gy) for gid, gx, gy in run.glyphs)
        # font units (y up) -> label coordinates (y down) -> rotation about the anchor
        a, b, c, e = s * cos, s * sin, s * sin, s * -cos
        tx, ty = x + offset * cos, y + offset * sin
        if d:
            out.append((f"matrix({fmt6(a)} {fmt6(b)} {fmt6(c)} {fmt6(e)} {fmt(tx)} {fmt(ty)})",
                        d))
        offset += run.advance * s
    return out


def fmt6(v: float) -> str:
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
