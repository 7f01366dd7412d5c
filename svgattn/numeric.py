"""Real-valued arrays from whatever a user holds: numpy arrays, lists, torch tensors
(duck-typed: torch is never imported here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import SpecError

_KIND_NAMES = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "byte strings",
               "O": "Python objects (ragged rows, None or numbers too large for a float)",
               "V": "a structured record", "M": "dates", "m": "time spans"}


def to_numpy(value: Any, where: str = "attentions") -> np.ndarray:
    """A real-valued array from an array-like or a torch tensor (duck-typed: torch is never
    imported here). Integers become float64; float16/bfloat16 become float32; float32 and
    float64 are kept. Booleans, complex numbers, strings and objects are refused: casting
    them would silently draw something other than the data."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        tensor = value.detach().cpu()
        if getattr(tensor, "is_complex", lambda: False)():
            raise SpecError(f"{where}: is a complex tensor; attention weights are real (take "
                            ".real or .abs() yourself if that is what you mean)")
        if str(getattr(tensor, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            tensor = tensor.float()  # numpy has no bfloat16
        value = tensor.numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"{where}: is not a numeric array; give numbers in rows of equal "
                        "length") from None
    kind = array.dtype.kind
    if kind in _KIND_NAMES:
        raise SpecError(f"{where}: holds {_KIND_NAMES[kind]}, not real numbers; give attention "
                        "probabilities as floats (not strings, booleans or complex values)")
    if kind == "f" and array.dtype.itemsize >= 4:
        return array
    return array.astype(np.float32 if kind == "f" else np.float64)
