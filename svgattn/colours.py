"""Colours: parsing and validating them, named colour maps, head colours, contrast.

Below every stage: theme validation, the analysis' colour scale and the views all use it.
Named colour maps come from the `cmap` library (the matplotlib, ColorBrewer, cmocean,
crameri ... catalogues without matplotlib), imported only when a map is asked for.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import SpecError, ThemeError, quote

# Continuous colours are quantised to this many levels: invisible steps (< 0.4 %), and
# equal colours can then be merged into runs by the cell writer.
LEVELS = 256
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:+-]{0,63}$")
# Short names resolved in this catalogue first (cmap warns when a short name is ambiguous).
_PREFERRED = ("colorbrewer", "bids", "matplotlib", "cmocean", "crameri", "colorcet")


def _hex(rgb: Sequence[float]) -> str:
    r, g, b = (round(max(0.0, min(1.0, float(c))) * 255) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@lru_cache(maxsize=64)
def named_map(name: str, levels: int = LEVELS) -> tuple[str, ...]:
    """``levels`` colours of the named map (``viridis``, ``Blues``, ``RdBu_r`` ...), from
    the lowest to the highest value; ``_r`` reverses a map. A map once read is kept in the
    per-user cache (keyed by the installed catalogue), so later processes need not import
    it (importing ``cmap`` is a fifth of a small figure's time)."""
    if not _NAME.match(name):
        raise SpecError(f"colormap: {quote(name)} is not a colour-map name such as viridis, "
                        "Blues or RdBu_r")
    from .cache import COLOUR_MAPS

    key = f"{name}|{levels}|{_catalogue_stamp()}"
    known = COLOUR_MAPS.get(key)
    if isinstance(known, list) and len(known) == levels and \
            all(isinstance(c, str) and _HEX6.match(c) for c in known):
        return tuple(known)
    colours = _catalogue_map(name, levels)
    COLOUR_MAPS.put(key, list(colours))
    return colours


_HEX6 = re.compile(r"^#[0-9a-f]{6}$")


@lru_cache(maxsize=1)
def _catalogue_stamp() -> str:
    """Changes when the colour-map catalogue (the cmap package) is installed anew."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("cmap")
    if spec is None or spec.origin is None:
        return "-"
    return str(os.stat(spec.origin).st_mtime_ns)


def _catalogue_map(name: str, levels: int) -> tuple[str, ...]:
    import cmap  # a well-kept catalogue of colour maps; imported only when needed

    base, reverse = (name[:-2], True) if name.endswith("_r") else (name, False)
    candidates = [base] if ":" in base else [f"{c}:{base}" for c in _PREFERRED] + [base]
    for candidate in candidates:
        try:
            lut = cmap.Colormap(candidate).lut(levels)
        except (ValueError, KeyError, TypeError):
            continue
        colours = tuple(_hex(row) for row in lut)
        return colours[::-1] if reverse else colours
    raise SpecError(f"colormap: {quote(name)} is not a known colour map; try viridis, cividis, "
                    "magma, Blues, Greys (sequential) or RdBu_r, PuOr (diverging)")


def interpolate(stops: Sequence[str], levels: int = LEVELS,
                positions: Sequence[float] | None = None) -> tuple[str, ...]:
    """``levels`` colours interpolated linearly (in sRGB, as SVG gradients do) between
    ``stops``, evenly spaced unless ``positions`` (0..1, increasing) place them."""
    rgb = np.array([_rgb(s) for s in stops], dtype=float)
    pos = np.linspace(0.0, 1.0, len(stops)) if positions is None else np.asarray(positions)
    t = np.linspace(0.0, 1.0, levels)
    channels = [np.interp(t, pos, rgb[:, c]) for c in range(3)]
    ints = np.rint(np.stack(channels, axis=1)).astype(int)
    return tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in ints.tolist())


def palette(colormap: str | Sequence[str], levels: int = LEVELS) -> tuple[str, ...]:
    """A colour map given by name or by its stops, as ``levels`` colours."""
    if isinstance(colormap, str):
        return named_map(colormap, levels)
    return interpolate(colormap, levels)



_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# A small, unambiguous set of CSS colour names; anything else must be hex.
NAMED_COLORS = {
    "black": "#000000", "white": "#ffffff", "gray": "#808080", "grey": "#808080",
    "darkgray": "#a9a9a9", "darkgrey": "#a9a9a9", "dimgray": "#696969", "lightgray": "#d3d3d3",
    "silver": "#c0c0c0", "red": "#ff0000", "darkred": "#8b0000", "orange": "#ffa500",
    "gold": "#ffd700", "yellow": "#ffff00", "green": "#008000", "darkgreen": "#006400",
    "teal": "#008080", "blue": "#0000ff", "navy": "#000080", "steelblue": "#4682b4",
    "royalblue": "#4169e1", "purple": "#800080", "magenta": "#ff00ff", "crimson": "#dc143c",
    "tomato": "#ff6347", "brown": "#a52a2a",
}


def color(value: Any, where: str, error: type[Exception] = ThemeError) -> str:
    """Return ``value`` as lower-case ``#rrggbb`` or raise naming ``where``."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in NAMED_COLORS:
            return NAMED_COLORS[text]
        if _HEX.match(text):
            if len(text) == 4:
                text = "#" + "".join(c * 2 for c in text[1:])
            return text
    # The value is not echoed: it may come from a file that is not the user's own.
    raise error(f"{where}: is not a colour; write #rrggbb, #rgb or a basic name such as 'navy'")


def head_colour(colours: Sequence[str], index: int) -> str:
    """Colour of head ``index``: the palette in order; past its end, the palette again,
    darker on the second round and lighter on the third, so up to three times as many
    heads as colours stay distinguishable."""
    base = _rgb(colours[index % len(colours)])
    round_ = (index // len(colours)) % 3
    if round_ == 0:
        return colours[index % len(colours)]
    target, share = ((0, 0, 0), 0.4) if round_ == 1 else ((255, 255, 255), 0.45)
    r, g, b = (round(c + (t - c) * share) for c, t in zip(base, target, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def contrast_text(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (WCAG relative luminance)."""
    lum = luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def luminance(colour: str) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """Perceptual distance (CIE76 delta E) between two colours."""
    return math.dist(lab(a), lab(b))


def pairwise_min_distance(colours: Sequence[str]) -> float:
    return min((distance(a, b) for a, b in itertools.combinations(colours, 2)), default=math.inf)


def colour_name(colour: str) -> str:
    """A plain word for a colour (``#053061`` is blue), so a caption can say what its
    colours mean whatever map drew them."""
    import colorsys

    r, g, b = (c / 255 for c in _rgb(colour))
    hue, sat, val = colorsys.rgb_to_hsv(r, g, b)
    if sat < 0.2 or val < 0.12:
        return "black" if val < 0.2 else "white" if val > 0.9 and sat < 0.1 else "grey"
    degrees = hue * 360
    for limit, name in ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"),
                        (195, "teal"), (255, "blue"), (290, "purple"), (335, "pink"),
                        (360, "red")):
        if degrees < limit:
            if name == "orange" and val < 0.6:
                return "brown"
            return name
    return "red"  # pragma: no cover - hue is below 360
