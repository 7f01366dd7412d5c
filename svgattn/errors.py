"""One exception family. Every message says what is wrong, where, and how to fix it."""

from __future__ import annotations


class SvgattnError(Exception):
    """Base class of every error svgattn raises on purpose."""


class SpecError(SvgattnError, ValueError):
    """A spec file or API argument describes a diagram that cannot be drawn."""


class ThemeError(SvgattnError, ValueError):
    """A theme file has an unknown key, a value of the wrong type, or an unsafe value."""


class FontError(SvgattnError):
    """A font family named by a theme does not resolve to an installed font file."""


class ExportError(SvgattnError):
    """Writing an output file failed; the destination was left untouched."""
