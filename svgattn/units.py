"""Physical lengths. Everything inside svgattn is in PostScript points (1/72 in), the unit
of PDF and of SVG's ``pt``.

Written lengths speak LaTeX: ``pt`` is the TeX point (1/72.27 in) that
``\the\\columnwidth`` prints, so a pasted ``229.5pt`` is exactly the column; ``bp`` is
the PostScript point (1/72 in); a bare number is in PostScript points. Venue names give
column and page widths (:data:`VENUES`).
"""

from __future__ import annotations

import math
import re

from .errors import SpecError, closest, quote

_INTEGER = re.compile(r"\s*-?[0-9]+\s*", re.ASCII)


def integer_text(text: str) -> bool:
    """True when ``text`` is a whole number written in ASCII digits (``str.isdigit``
    also accepts superscripts such as '²', which ``int`` refuses)."""
    return _INTEGER.fullmatch(text) is not None


PT_PER_UNIT = {"pt": 72.0 / 72.27, "bp": 1.0, "in": 72.0, "cm": 72.0 / 2.54,
               "mm": 72.0 / 25.4, "px": 0.75}
_TEX = 72.0 / 72.27
# Column and text widths of common venues, measured by compiling their style files
# (letter paper unless noted), in PostScript points.
VENUES: dict[str, tuple[float, str]] = {
    "article": (229.5 * _TEX, "LaTeX article, two columns: \\columnwidth 229.5pt"),
    "article-page": (469.0 * _TEX, "LaTeX article, two columns: \\textwidth 469pt"),
    "article-onecolumn": (345.0 * _TEX, "LaTeX article, one column: \\textwidth 345pt"),
    "icml": (3.25 * 72, "ICML column, 3.25in"),
    "icml-page": (6.75 * 72, "ICML text width, 6.75in"),
    "neurips": (5.5 * 72, "NeurIPS text width (one column), 5.5in"),
    "iclr": (5.5 * 72, "ICLR text width (one column), 5.5in"),
    "acl": (7.7 * 72 / 2.54, "ACL/ARR column (A4), 7.7cm"),
    "acl-page": (16.0 * 72 / 2.54, "ACL/ARR text width (A4), 16cm"),
    "ieee": (252.0 * _TEX, "IEEEtran conference column, 252pt"),
    "ieee-page": (516.0 * _TEX, "IEEEtran conference text width, 516pt"),
    "cvpr": (3.28125 * 72, "CVPR column, 3.28125in"),
    "cvpr-page": (6.875 * 72, "CVPR text width, 6.875in"),
}
_LENGTH = re.compile(r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*"
                     r"(pt|bp|in|cm|mm|px|em)?\s*$")


def parse_length(value: object, field: str, *, em: float | None = None,
                 echo: bool = True) -> float:
    """Return ``value`` in points. Numbers are points; strings carry a unit.

    ``em`` lengths are relative to the base font size and only allowed when ``em`` is given.
    ``echo=False`` keeps the value out of the message (theme files: never echo a file's
    contents). The result is finite; ranges are the caller's to check.
    """
    shown = f"{quote(value)} " if echo else ""
    units = "pt, bp, in, cm, mm, px" + (" or em" if em is not None else "")
    if isinstance(value, bool):
        raise SpecError(f"{field}: {shown}is not a length; write a number with a unit "
                        f"({units}), e.g. 6.5in")
    if isinstance(value, (int, float)):
        text, unit = str(value), "bp"  # a bare number: PostScript points (SVG units)
    elif isinstance(value, str) and (m := _LENGTH.match(value)):
        text, unit = m.group(1), m.group(2) or "bp"
    else:
        raise SpecError(f"{field}: {shown}is not a length; write a number with a unit ({units}),"
                        " e.g. 6.5in")
    try:
        number = float(text)
    except (OverflowError, ValueError):
        number = math.inf
    if not math.isfinite(number):
        raise SpecError(f"{field}: {shown}is not a finite length; write e.g. 6.5in")
    if unit == "em":
        if em is None:
            raise SpecError(f"{field}: 'em' is not allowed here; use pt, in, cm or mm")
        return number * em
    return number * PT_PER_UNIT[unit]


def fmt(value: float) -> str:
    """Fixed-precision number for SVG output: two decimals, no trailing zeros, no '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_width(value: object, field: str, *, echo: bool = True) -> float:
    """A figure width: a length (``6.5in``, a pasted ``229.5pt``) or a venue name
    (``icml``, ``neurips``, ``acl-page`` ...: see :data:`VENUES`)."""
    if isinstance(value, str) and value.strip().lower() in VENUES:
        return VENUES[value.strip().lower()][0]
    try:
        return parse_length(value, field, echo=echo)
    except SpecError as exc:
        if isinstance(value, str) and value.strip().isalpha():
            close = closest(value.strip().lower(), list(VENUES))
            hint = f"did you mean '{close}'? " if close else ""
            shown = f"{quote(value)} is" if echo else "is"
            raise SpecError(f"{field}: {shown} neither a length nor a venue; {hint}venues are "
                            f"{', '.join(VENUES)}") from None
        raise exc from None


def fmt6(value: float) -> str:
    """Six decimals, trailing zeros dropped (glyph scales in outline transforms)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
