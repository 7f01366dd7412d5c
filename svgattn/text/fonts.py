"""Resolve font families to files with fontconfig, and find fallback faces per character.

The same file is used to measure a label and is named in the output, so layout never
measures one font while a renderer draws another.
"""

from __future__ import annotations

import bisect
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb

from ..errors import FontError, SvgattnWarning

# Debian packages that provide the families the built-in themes and fallbacks use.
DEBIAN_PACKAGES = {
    "DejaVu Sans": "fonts-dejavu-core",
    "DejaVu Serif": "fonts-dejavu-core",
    "Liberation Sans": "fonts-liberation2",
    "Liberation Serif": "fonts-liberation2",
    "Noto Sans": "fonts-noto-core",
    "Noto Serif": "fonts-noto-core",
    "Noto Sans CJK JP": "fonts-noto-cjk",
    "Noto Sans CJK SC": "fonts-noto-cjk",
    "Symbola": "fonts-symbola",
}


class FontWarning(SvgattnWarning):
    """A theme's first font family is missing and a listed fallback is used, or no
    installed font draws some characters of a label."""


@dataclass(frozen=True)
class FontFace:
    """One font file (and face index in a collection) with the family name it answers to."""

    family: str
    path: str
    index: int
    bold: bool

    @property
    def outlines(self) -> bool:
        """True when the face has vector outlines (not a colour-bitmap emoji font)."""
        return has_outlines(self)


def _fc_match(pattern: str) -> tuple[list[str], str, int]:
    exe = shutil.which("fc-match")
    if exe is None:
        raise FontError("fontconfig's fc-match is not installed; install it (Debian: apt-get"
                        " install fontconfig) so svgattn can find font files")
    out = fontconfig([exe, "-f", "%{family}\t%{file}\t%{index}", pattern], _match_answer)
    if not _match_answer(out):
        raise FontError(f"fontconfig's fc-match gave no font for {pattern!r}; check the "
                        "fontconfig installation (fc-match DejaVu\\ Sans should name a file)")
    families, path, index = out.split("\t")
    return [f.strip() for f in families.split(",")], path, int(index or 0)


def _match_answer(out: str) -> bool:
    """An ``fc-match`` answer of the form svgattn asks for: family, file, face index."""
    parts = out.split("\t")
    return len(parts) == 3 and bool(parts[0]) and parts[1].startswith("/") and \
        (parts[2] == "" or (parts[2].isascii() and parts[2].isdigit()))


def fontconfig(args: list[str], valid: Callable[[str], bool] = bool) -> str:
    """The output of a fontconfig command, remembered across processes (svgattn.cache:
    keyed by a fingerprint of the installed fonts); a remembered answer that ``valid``
    refuses is asked again."""
    from ..cache import FONTCONFIG

    key = "\x1f".join(args[1:])
    known = FONTCONFIG.get(key)
    if isinstance(known, str) and valid(known):
        return known
    FONTCONFIG.forget(key)
    import subprocess  # only on a cache miss: kept off the start-up path

    out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    if out:
        FONTCONFIG.put(key, out)
    return out


@lru_cache(maxsize=64)
def resolve_family(families: tuple[str, ...], bold: bool = False) -> FontFace:
    """Return the face of the first family in ``families`` that is installed.

    A family that fontconfig silently substitutes (asks for 'Foo', gets 'DejaVu Sans') is an
    error naming the family and how to install it, never a quiet change of font.
    """
    tried: list[str] = []
    for family in families:
        style = ":weight=bold" if bold else ":weight=regular"
        names, path, index = _fc_match(family.replace("-", r"\-") + style)
        if family.lower() in (n.lower() for n in names):
            if tried:  # the theme's list allows this fallback; say so
                warnings.warn(f"font.family: {tried[0]} is not installed; using the theme's "
                              f"fallback '{family}'", FontWarning, stacklevel=2)
            return FontFace(family=family, path=path, index=index, bold=bold)
        tried.append(f"'{family}' (fontconfig offers '{names[0]}' instead)")
    what = (f"{tried[0]} is not installed" if len(tried) == 1
            else "none of " + ", ".join(tried) + " is installed")
    raise FontError(f"font.family: {what}; {install_hint(families)} or name "
                    "an installed family in the theme (list them with: fc-list : family)")


def install_hint(families: tuple[str, ...]) -> str:
    """How to install ``families``: Debian packages for the fonts svgattn knows."""
    packages = sorted({DEBIAN_PACKAGES[f] for f in families if f in DEBIAN_PACKAGES})
    if packages:
        return f"install it (Debian: apt-get install {' '.join(packages)})"
    return "install the font"


@lru_cache(maxsize=64)
def hb_face(face: FontFace) -> hb.Face:
    """The HarfBuzz face of a font file (HarfBuzz reads tables lazily: opening a face costs
    well under a millisecond, where parsing the file with fontTools took 0.1 s)."""
    return hb.Face(hb.Blob.from_file_path(face.path), face.index)


@lru_cache(maxsize=64)
def hb_font(face: FontFace) -> hb.Font:
    return hb.Font(hb_face(face))


@lru_cache(maxsize=64)
def has_outlines(face: FontFace) -> bool:
    tags = set(hb_face(face).table_tags)
    return bool(tags & {"glyf", "CFF ", "CFF2"})


@lru_cache(maxsize=64)
def cmap(face: FontFace) -> frozenset[int]:
    return frozenset(hb_face(face).unicodes)


@lru_cache(maxsize=4096)
def face_for_char(primary: FontFace, char: str) -> FontFace:
    """The face that draws ``char``: the primary face if it has the glyph, else the first
    outline face in fontconfig's preference order for the primary family that has it
    (per-run fallback, like browsers do). Characters no installed font covers stay with
    the primary face and draw as its missing-glyph box."""
    code = ord(char)
    if code in cmap(primary) or code < 0x20:
        return primary
    for face, ranges in fallback_order(primary):
        if _covers(ranges, code) and code in cmap(face) and face.outlines:
            return face
    _no_font(char)
    return primary


_warned: set[str] = set()
SCRIPT_PACKAGES = {"CJK": "fonts-noto-cjk", "HIRAGANA": "fonts-noto-cjk",
                   "KATAKANA": "fonts-noto-cjk", "HANGUL": "fonts-noto-cjk"}


def _no_font(char: str) -> None:
    """Warn, once per script, that no installed outline font draws ``char``: it is drawn
    as the font's empty box, which a reader would take for a character."""
    import unicodedata

    if unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Cs") or \
            unicodedata.name(char, "").startswith("VARIATION SELECTOR"):
        return  # invisible or unassigned: labels show these by code point anyway
    script = ("symbol" if unicodedata.category(char).startswith("S")
              else unicodedata.name(char, "UNKNOWN").split(" ")[0].title())
    if script in _warned:
        return
    _warned.add(script)
    package = SCRIPT_PACKAGES.get(script.upper(), "fonts-symbola" if script == "symbol"
                                  else "fonts-noto-core")
    warnings.warn(FontWarning(
        f"font: no installed font draws {char!r} (U+{ord(char):04X}, {script}); it is "
        f"drawn as an empty box; install one (Debian: apt-get install {package})"), stacklevel=2)


@lru_cache(maxsize=16)
def fallback_order(primary: FontFace) -> tuple[tuple[FontFace, tuple[int, ...]], ...]:
    """Every installed face in fontconfig's order of preference for ``primary``'s family
    and weight, with its character coverage, from one ``fc-match -a`` call.

    Asking fontconfig per missing character cost two processes each (a token of 3,000
    private-use characters took 36 s); this is one call per face, and a character lookup
    is a binary search. Taking the first covering face in this order is what
    ``fc-match family:charset=X`` chooses: coverage ranks above family similarity.
    Colour-bitmap faces (Noto Color Emoji) are skipped: cairosvg and the outline mode
    cannot draw them.
    """
    exe = shutil.which("fc-match")
    if exe is None:
        return ()
    weight = ":weight=bold" if primary.bold else ":weight=regular"
    pattern = primary.family.replace("-", r"\-") + weight
    out = fontconfig([exe, "-a", "-f", "%{file}\t%{index}\t%{family[0]}\t%{color}\t"
                      "%{charset}\n", pattern])
    order = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or parts[3].strip().lower() == "true" or \
                not parts[0].startswith("/") or not (parts[1] or "0").isascii() or \
                not (parts[1] or "0").isdigit():
            continue  # a colour font, or not a line of the form asked for
        ranges = _ranges(parts[4])
        if ranges:
            face = FontFace(family=parts[2].strip(), path=parts[0],
                            index=int(parts[1] or 0), bold=primary.bold)
            order.append((face, ranges))
    return tuple(order)


def _ranges(charset: str) -> tuple[int, ...]:
    """fontconfig's ``20-7e a0-2e9 ...`` as flat sorted bounds ``(lo0, hi0+1, lo1, ...)``."""
    bounds: list[int] = []
    for part in charset.split():
        lo, _, hi = part.partition("-")
        try:
            start, stop = int(lo, 16), int(hi or lo, 16) + 1
        except ValueError:
            continue
        bounds += [start, stop]
    return tuple(bounds)


def _covers(bounds: tuple[int, ...], code: int) -> bool:
    # inside a range exactly when the number of bounds <= code is odd
    return bisect.bisect_right(bounds, code) % 2 == 1
