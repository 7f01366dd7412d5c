"""numpy arrays, torch tensors (duck-typed), ``.npy`` and ``.npz`` files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..attention import Attention, make_attention, to_numpy
from ..errors import SpecError

NPZ_KEYS = ("attentions", "tokens", "query_tokens", "key_tokens", "head_names", "layer_names")


def from_array(weights: Any, tokens: Sequence[str] | None = None, *,
               query_tokens: Sequence[str] | None = None,
               key_tokens: Sequence[str] | None = None, batch_index: int | None = None,
               head_names: Sequence[str] | None = None,
               layer_names: Sequence[str] | None = None, source: str = "array") -> Attention:
    """Attention from an array of 2 to 5 axes:

    ``[query, key]``, ``[heads, query, key]``, ``[layers, heads, query, key]`` or
    ``[layers, batch, heads, query, key]`` (``np.stack(outputs.attentions)``) with
    ``batch_index`` choosing the input. Without tokens, positions are numbered.
    """
    array = to_numpy(weights)
    if array.ndim == 5:
        batch = array.shape[1]
        if batch_index is None:
            if batch != 1:
                raise SpecError(f"{source}: batch_index: the array holds a batch of {batch} "
                                "inputs on axis 1 ([layers, batch, heads, query, key]); choose "
                                "one with batch_index")
            batch_index = 0
        if not -batch <= batch_index < batch:
            raise SpecError(f"{source}: batch_index: {batch_index} is out of range for a batch "
                            f"of {batch}")
        array = array[:, batch_index]
    elif batch_index not in (None, 0):
        raise SpecError(f"{source}: batch_index: the array has no batch axis (shape "
                        f"{array.shape}); drop batch_index")
    if array.ndim in (2, 3):
        array = array.reshape((1,) * (4 - array.ndim) + array.shape)
    if array.ndim != 4:
        raise SpecError(f"{source}: attentions: {array.ndim} axes; expected [query, key], "
                        "[heads, query, key], [layers, heads, query, key] or "
                        "[layers, batch, heads, query, key]")
    q_tokens, k_tokens = _tokens(tokens, query_tokens, key_tokens, array.shape[2:], source)
    return make_attention(array, q_tokens, k_tokens, head_names=head_names,
                          layer_names=layer_names, source=source)


def _tokens(tokens: Sequence[str] | None, query: Sequence[str] | None,
            key: Sequence[str] | None, shape: tuple[int, ...],
            source: str) -> tuple[list[str], list[str]]:
    if tokens is not None and (query is not None or key is not None):
        raise SpecError(f"{source}: tokens: give tokens or query_tokens + key_tokens, not both")
    if tokens is not None:
        return list(tokens), list(tokens)
    if query is not None or key is not None:
        if query is None or key is None:
            raise SpecError(f"{source}: tokens: give both query_tokens and key_tokens")
        return list(query), list(key)
    return [str(i) for i in range(shape[0])], [str(i) for i in range(shape[1])]


def load_file(path: str | os.PathLike[str], *, tokens: Sequence[str] | None = None,
              batch_index: int | None = None) -> Attention:
    """Attention from ``.npy`` (the array) or ``.npz`` (keys: ``attentions``, ``tokens`` or
    ``query_tokens`` + ``key_tokens``, optional ``head_names``, ``layer_names``)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise SpecError(f"{path}: no such file; give a .npy or .npz file")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SpecError(f"{name}: cannot read it as numpy data ({exc}); save it with "
                        "np.save or np.savez") from None
    try:
        return _from_loaded(data, name, tokens, batch_index)
    except ValueError as exc:
        if isinstance(exc, SpecError):
            raise
        # e.g. an object array, which would need pickle (never allowed: it runs code)
        raise SpecError(f"{name}: cannot read the arrays ({exc}); save plain numeric "
                        "arrays and string tokens with np.savez") from None


def _from_loaded(data: Any, name: str, tokens: Sequence[str] | None,
                 batch_index: int | None) -> Attention:
    if isinstance(data, np.ndarray):
        return from_array(data, tokens, batch_index=batch_index, source=name)
    with data:
        unknown = sorted(set(data.files) - set(NPZ_KEYS))
        if unknown:
            raise SpecError(f"{name}: {unknown[0]}: unknown key; an .npz holds "
                            f"{', '.join(NPZ_KEYS)}")
        if "attentions" not in data.files:
            raise SpecError(f"{name}: attentions: missing; save the weights under the key "
                            "'attentions' (np.savez(path, attentions=..., tokens=...))")

        def strings(key: str) -> list[str] | None:
            return [str(t) for t in data[key].tolist()] if key in data.files else None

        file_tokens = strings("tokens")
        return from_array(data["attentions"], tokens if tokens is not None else file_tokens,
                          query_tokens=None if tokens is not None else strings("query_tokens"),
                          key_tokens=None if tokens is not None else strings("key_tokens"),
                          batch_index=batch_index, head_names=strings("head_names"),
                          layer_names=strings("layer_names"), source=name)
