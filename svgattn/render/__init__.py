"""Backends: the scene as SVG (jinja2 templates)."""

from .svg import render_svg

__all__ = ["render_svg"]
