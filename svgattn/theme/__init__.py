"""Themes are data: TOML files validated against :mod:`svgattn.theme.schema`."""

from .loader import Theme, builtin_themes, load_theme

__all__ = ["Theme", "builtin_themes", "load_theme"]
