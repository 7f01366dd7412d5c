"""Validators for theme values. Every value is checked before it can reach a template,
so a theme file cannot inject markup, CSS or a fetch."""

from __future__ import annotations

import math
import re
from typing import Any

from ..colours import color
from ..errors import SpecError, ThemeError
from ..text.safe import xml_safe
from ..units import parse_length, parse_width
from .schema import Key

_MAP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:+-]{0,63}$")
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# Families go into CSS and into fontconfig: letters, digits, space, dot, dash, underscore.
_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")
def _length(key: Key, value: Any, where: str, em: float | None) -> float:
    try:
        points = parse_length(value, where, em=em, echo=False)
    except SpecError as exc:
        raise ThemeError(str(exc)) from None
    return _range(key, points, where)


def _range(key: Key, points: float, where: str) -> float:
    if key.minimum is not None and points < key.minimum:
        raise ThemeError(f"{where}: is {points:g}bp, below the minimum {key.minimum:g}bp")
    if key.maximum is not None and points > key.maximum:
        raise ThemeError(f"{where}: is {points:g}bp, above the maximum {key.maximum:g}bp")
    return points


def check_raw(key: Key, value: Any, where: str) -> None:
    """Type-check a raw value before ``em`` lengths can be resolved (see :func:`resolve`)."""
    resolve(key, value, where, em=10.0)


def resolve(key: Key, value: Any, where: str, *, em: float) -> Any:
    """Validate and normalise one value; lengths come back in points."""
    kind = key.kind
    if kind == "text":
        if not isinstance(value, str) or len(value) > 200:
            raise ThemeError(f"{where}: expected a string of at most 200 characters")
        return xml_safe(value)
    if kind == "family":
        names = [value] if isinstance(value, str) else value
        if (not isinstance(names, list) or not names
                or not all(isinstance(n, str) and _FAMILY.match(n) for n in names)):
            raise ThemeError(f"{where}: is not a font family; write a name such as 'DejaVu Sans'"
                             " (letters, digits, spaces, . _ -) or a list of them")
        return tuple(names)
    if kind == "length":
        return _length(key, value, where, em)
    if kind == "width":
        if value == "auto":
            return "auto"
        try:
            points = parse_width(value, where, echo=False)
        except SpecError as exc:
            raise ThemeError(str(exc)) from None
        return _range(key, points, where)
    if kind == "choice":
        if value not in key.choices:
            raise ThemeError(f"{where}: is not one of {', '.join(key.choices)}")
        return value
    if kind == "color":
        return color(value, where)
    if kind == "color_or_none":
        return "none" if value == "none" else color(value, where)
    if kind == "color_or_auto":
        return "auto" if value == "auto" else color(value, where)
    if kind == "colormap" and isinstance(value, str):
        if not _MAP_NAME.match(value):
            raise ThemeError(f"{where}: is not a colour-map name (such as viridis, Blues, "
                             "RdBu_r) nor a list of colours")
        return value
    if kind in ("palette", "colormap"):
        least = 2 if kind == "colormap" else 1
        if not isinstance(value, list) or len(value) < least:
            raise ThemeError(f"{where}: expected a list of at least {least} colours")
        return tuple(color(v, f"{where}[{i}]") for i, v in enumerate(value))
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise ThemeError(f"{where}: expected a finite number")
        if (key.minimum is not None and value < key.minimum) or (
                key.maximum is not None and value > key.maximum):
            raise ThemeError(f"{where}: must lie in [{key.minimum:g}, {key.maximum:g}]")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ThemeError(f"{where}: expected true or false")
        return value
    raise AssertionError(f"unknown key kind {kind}")
