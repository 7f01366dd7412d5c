"""Views: one module per picture (flow, matrix, lines, grid, text), found by name.

:class:`View` is the abstraction (:mod:`svgattn.views.base`); :mod:`svgattn.views.registry` finds
views, svgattn's own and other packages', by name; ``svgattn views`` lists them.
"""

from .base import View

__all__ = ["View"]
