"""Sources: every input kind becomes one validated :class:`svgattn.data.Attention`.

Names are imported on first use: a figure given by hand needs none of the readers."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["from_array", "from_huggingface", "from_transformerlens", "load_file", "load_inputs"]
_WHERE = {"from_array": ".arrays", "load_file": ".arrays", "load_inputs": ".arrays",
          "from_huggingface": ".huggingface", "from_transformerlens": ".transformerlens"}

if TYPE_CHECKING:  # pragma: no cover
    from .arrays import from_array, load_file, load_inputs
    from .huggingface import from_huggingface
    from .transformerlens import from_transformerlens


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'svgattn.sources' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
