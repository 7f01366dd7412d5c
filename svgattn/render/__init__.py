"""Backends: the SVG writer (templates + scene primitives)."""

from .svg import render_svg

__all__ = ["render_svg"]
