"""svgattn: publication-quality vector figures of transformer attention.

>>> from svgattn import Diagram

Names are imported on first use, so ``import svgattn`` stays cheap (the figure machinery,
cairo and the fonts load only when a figure is drawn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_EXPORTS = {
    "Diagram": ".diagram", "Head": ".diagram", "Scene": ".scene",
    "SvgattnError": ".errors", "SpecError": ".errors", "ThemeError": ".errors",
    "FontError": ".errors", "ExportError": ".errors",
    "Theme": ".theme", "builtin_themes": ".theme", "load_theme": ".theme",
    "limits": ".limits", "views": ".views", "record": ".sources.recorder",
    "record_diffusion": ".sources.diffusion",
}
__all__ = ["Diagram", "ExportError", "FontError", "Head", "Scene", "SpecError", "SvgattnError",
           "Theme", "ThemeError", "__version__", "builtin_themes", "limits", "load_theme",
           "record", "record_diffusion", "views"]

if TYPE_CHECKING:  # pragma: no cover
    from . import limits, views
    from .diagram import Diagram, Head
    from .errors import ExportError, FontError, SpecError, SvgattnError, ThemeError
    from .scene import Scene
    from .sources.diffusion import record_diffusion
    from .sources.recorder import record
    from .theme import Theme, builtin_themes, load_theme


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'svgattn' has no attribute {name!r}")
    loaded = importlib.import_module(module, __name__)
    value = loaded if name in ("limits", "views") else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
