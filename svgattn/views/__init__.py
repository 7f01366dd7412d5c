"""Views: one module per picture (flow, matrix, lines, grid, text), found at run time.

See :mod:`svgattn.views.base` for the abstraction; ``svgattn views`` lists them.
"""

from .base import REGISTRY, View, describe, get, load_all, register

__all__ = ["REGISTRY", "View", "describe", "get", "load_all", "register"]
