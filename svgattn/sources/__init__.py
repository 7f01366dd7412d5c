"""Sources: every input kind becomes one validated :class:`svgattn.data.Attention`."""

from .arrays import from_array, load_file, load_inputs
from .huggingface import from_huggingface
from .transformerlens import from_transformerlens

__all__ = ["from_array", "from_huggingface", "from_transformerlens", "load_file", "load_inputs"]
