"""svgattn: publication-quality vector figures of transformer attention.

>>> from svgattn import Diagram, Head
"""

from .diagram import Diagram
from .errors import ExportError, FontError, SpecError, SvgattnError, ThemeError
from .model import Head
from .scene import Scene
from .theme import Theme, builtin_themes, load_theme

__version__ = "0.1.0"
__all__ = [
    "Diagram", "ExportError", "FontError", "Head", "Scene", "SpecError", "SvgattnError",
    "Theme", "ThemeError", "__version__", "builtin_themes", "load_theme",
]
