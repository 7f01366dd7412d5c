"""Pure layout: (data, theme, text metrics) -> frozen scene. No I/O, no SVG strings."""

from .flow import layout_flow

__all__ = ["layout_flow"]
