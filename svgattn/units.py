"""Physical lengths. Everything inside svgattn is in points (1/72 in)."""

from __future__ import annotations

import math
import re

from .errors import SpecError, quote

PT_PER_UNIT = {"pt": 1.0, "in": 72.0, "cm": 72.0 / 2.54, "mm": 72.0 / 25.4, "px": 0.75}
_LENGTH = re.compile(r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*"
                     r"(pt|in|cm|mm|px|em)?\s*$")


def parse_length(value: object, field: str, *, em: float | None = None,
                 echo: bool = True) -> float:
    """Return ``value`` in points. Numbers are points; strings carry a unit.

    ``em`` lengths are relative to the base font size and only allowed when ``em`` is given.
    ``echo=False`` keeps the value out of the message (theme files: never echo a file's
    contents). The result is finite; ranges are the caller's to check.
    """
    shown = f"{quote(value)} " if echo else ""
    units = "pt, in, cm, mm, px" + (" or em" if em is not None else "")
    if isinstance(value, bool):
        raise SpecError(f"{field}: {shown}is not a length; write a number with a unit "
                        f"({units}), e.g. 6.5in")
    if isinstance(value, (int, float)):
        text, unit = str(value), "pt"
    elif isinstance(value, str) and (m := _LENGTH.match(value)):
        text, unit = m.group(1), m.group(2) or "pt"
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
