"""Measure labels with the font files the output names.

Width is what the widest renderer draws: the larger of the HarfBuzz-shaped advance
(browsers, librsvg) and the plain sum of advance widths (cairosvg does not kern or
shape). Vertical placement comes from the font's cap height, never from
``dominant-baseline`` (librsvg ignores it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb

from .fonts import FontFace, cmap, face_for_char, hb_face, hb_font, resolve_family
from .safe import xml_safe


@dataclass(frozen=True)
class Run:
    """A stretch of a label drawn with one face."""

    text: str
    face: FontFace
    width: float  # points


@dataclass(frozen=True)
class TextBox:
    """A measured one-line label at a given size."""

    text: str
    size: float
    runs: tuple[Run, ...]
    width: float
    ascent: float  # above the baseline, points
    descent: float  # below the baseline, points (positive)
    cap_height: float

    @property
    def height(self) -> float:
        return self.ascent + self.descent

    @property
    def centred_extent(self) -> float:
        """Height of the band, centred on the cap-height centre, that holds the whole
        ascent-to-descent box: what a row or a box must offer this label."""
        half_cap = self.cap_height / 2
        return 2 * max(self.ascent - half_cap, self.descent + half_cap)

    def baseline_for_centre(self, centre_y: float) -> float:
        """Baseline that centres capital letters on ``centre_y``."""
        return centre_y + self.cap_height / 2


def _hb_font(face: FontFace) -> hb.Font:
    return hb_font(face)


@lru_cache(maxsize=64)
def _vertical(face: FontFace) -> tuple[float, float, float, int]:
    """(ascent, descent, cap height) in em and units per em, from the font's tables."""
    font = hb_font(face)
    upem = hb_face(face).upem
    extents = font.get_font_extents("ltr")
    cap = font.get_metric_position_with_fallback(hb.OTMetricsTag.CAP_HEIGHT) or 0.7 * upem
    return extents.ascender / upem, -extents.descender / upem, cap / upem, upem


def _advance_sum(face: FontFace, text: str) -> int:
    """Unkerned, unshaped advance sum in font units: what cairosvg draws."""
    font = hb_font(face)
    total = 0
    for ch in text:
        glyph = font.get_nominal_glyph(ord(ch)) or 0  # .notdef when missing
        total += font.get_glyph_h_advance(glyph)
    return total


def _shaped(face: FontFace, text: str) -> int:
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(_hb_font(face), buf)
    return sum(p.x_advance for p in buf.glyph_positions)


def split_runs(primary: FontFace, text: str) -> list[tuple[str, FontFace]]:
    """Split ``text`` into maximal runs drawn by one face. Combining marks, joiners and
    variation selectors stay with the run before them so clusters are not torn apart."""
    if set(map(ord, text)) <= cmap(primary):  # the common case: one run, the primary face
        return [(text, primary)] if text else []
    runs: list[tuple[str, FontFace]] = []
    for ch in text:
        code = ord(ch)
        sticky = (0x300 <= code <= 0x36F or code in (0x200C, 0x200D) or 0xFE00 <= code <= 0xFE0F
                  or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F)
        face = runs[-1][1] if sticky and runs else face_for_char(primary, ch)
        if runs and runs[-1][1] == face:
            runs[-1] = (runs[-1][0] + ch, face)
        else:
            runs.append((ch, face))
    return runs


def measure(text: str, families: tuple[str, ...], size: float, bold: bool = False) -> TextBox:
    """Measure ``text`` set in ``families`` at ``size`` points. Metrics scale linearly
    with the size (no hinting), so a label is shaped once and rescaled: laying a figure
    out again at another scale costs no shaping. Characters XML forbids are measured (and
    so drawn) as their visible stand-ins (:func:`~svgattn.text.safe.xml_safe`)."""
    text = xml_safe(text)
    unit = _measure_unit(text, families, bold)
    return TextBox(text=text, size=size,
                   runs=tuple(Run(r.text, r.face, r.width * size) for r in unit.runs),
                   width=unit.width * size, ascent=unit.ascent * size,
                   descent=unit.descent * size, cap_height=unit.cap_height * size)


@lru_cache(maxsize=32768)
def _measure_unit(text: str, families: tuple[str, ...], bold: bool) -> TextBox:
    primary = resolve_family(families, bold)
    runs = []
    for chunk, face in split_runs(primary, text):
        upem = _vertical(face)[3]
        units = max(_shaped(face, chunk), _advance_sum(face, chunk))
        runs.append(Run(chunk, face, units / upem))
    ascent, descent, cap, _ = _vertical(primary)
    for run in runs:
        a, d, _, _ = _vertical(run.face)
        ascent, descent = max(ascent, a), max(descent, d)
    return TextBox(text=text, size=1.0, runs=tuple(runs), width=sum(r.width for r in runs),
                   ascent=ascent, descent=descent, cap_height=cap)
