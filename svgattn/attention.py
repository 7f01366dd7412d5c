"""The validated attention a source produces: weights ``[layers, heads, query, key]``.

Every source (arrays, files, Hugging Face outputs, TransformerLens caches) builds an
:class:`Attention` through :func:`make_attention`, so nothing downstream knows where the
data came from and every source reports the same one-line errors.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SpecError

AXES = ("layers", "heads", "query", "key")


@dataclass(frozen=True, eq=False)
class Attention:
    """Attention weights of one input, ``weights[layer, head, query, key]`` (read-only)."""

    weights: np.ndarray
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    layer_names: tuple[str, ...]
    head_names: tuple[str, ...]
    source: str = "attention"

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.weights.shape  # type: ignore[return-value]

    def layer_index(self, layer: int | str | None) -> int:
        """Resolve a layer given by index (negative counts from the end) or by name;
        ``None`` means the last layer."""
        n = self.shape[0]
        if layer is None:
            return n - 1
        return _index(layer, self.layer_names, n, f"{self.source}: layer", "layers")

    def head_indices(self, heads: Sequence[int | str] | int | str | None) -> list[int]:
        """Resolve heads given by index or name; ``None`` means all heads."""
        n = self.shape[1]
        if heads is None:
            return list(range(n))
        if isinstance(heads, (int, str, np.integer)):
            heads = [heads]
        if len(heads) == 0:
            raise SpecError(f"{self.source}: heads: the list is empty; give head indices or "
                            f"names such as 0,1,2 (or leave it out for all {n} heads)")
        out = [_index(h, self.head_names, n, f"{self.source}: heads", "heads") for h in heads]
        if len(set(out)) != len(out):
            raise SpecError(f"{self.source}: heads: a head is listed twice; list each once")
        return out


def _index(ref: Any, names: tuple[str, ...], n: int, field: str, what: str) -> int:
    if isinstance(ref, str) and ref.strip().lstrip("-").isdigit():
        ref = int(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -n <= ref < n:
            return int(ref) % n
        raise SpecError(f"{field}: {ref} is out of range; there are {n} {what} (0..{n - 1})")
    if isinstance(ref, str) and ref in names:
        return names.index(ref)
    raise SpecError(f"{field}: {ref!r} is neither an index (0..{n - 1}) nor one of the names "
                    f"{', '.join(names[:6])}{' ...' if n > 6 else ''}")


def to_numpy(value: Any) -> np.ndarray:
    """Array-likes and torch tensors (duck-typed: torch is never imported here)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
        if hasattr(value, "float"):
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def _axis_hint(shape: tuple[int, ...], q: int, k: int) -> str:
    """Suggest the transpose that puts (query, key) last, when one exists."""
    for perm in itertools.permutations(range(len(shape))):
        if perm[-2:] != (len(shape) - 2, len(shape) - 1) and \
                (shape[perm[-2]], shape[perm[-1]]) == (q, k) and list(perm) != sorted(perm):
            return (f"; the axes look out of order, try np.transpose(weights, {perm}) "
                    f"(or .permute{perm} for a tensor)")
    return ""


def make_attention(weights: Any, query_tokens: Sequence[str], key_tokens: Sequence[str], *,
                   layer_names: Sequence[str] | None = None,
                   head_names: Sequence[str] | None = None, source: str = "attention",
                   first_layer: int = 0) -> Attention:
    """Validate a 4-D ``[layers, heads, query, key]`` array and its tokens."""
    try:
        array = to_numpy(weights)
    except (TypeError, ValueError):
        raise SpecError(f"{source}: attentions: not a numeric array") from None
    q, k = len(query_tokens), len(key_tokens)
    if q == 0 or k == 0:
        raise SpecError(f"{source}: tokens: the token list is empty; give the input's tokens")
    if array.ndim != 4:
        raise SpecError(f"{source}: attentions: expected 4 axes [layers, heads, query, key], "
                        f"got shape {array.shape}")
    if array.shape[2:] != (q, k):
        raise SpecError(f"{source}: attentions: shape {tuple(array.shape)} does not end in "
                        f"(query={q}, key={k}) for {q} query and {k} key tokens; axes must be "
                        f"[layers, heads, query, key] and the tokens those of this input"
                        f"{_axis_hint(array.shape, q, k)}")
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise SpecError(f"{source}: attentions{list(where)}: is {array[where]}; weights must be "
                        "finite (a fully masked row gives NaN: drop it with attention_mask)")
    if (array < 0).any():
        where = tuple(int(i) for i in np.argwhere(array < 0)[0])
        raise SpecError(f"{source}: attentions{list(where)}: is {array[where]:g}; weights must be"
                        " >= 0 (pass softmax probabilities, not scores)")
    n_layers, n_heads = array.shape[:2]
    layers = tuple(layer_names) if layer_names else tuple(
        f"L{first_layer + i}" for i in range(n_layers))
    heads = tuple(head_names) if head_names else tuple(f"H{i}" for i in range(n_heads))
    if len(layers) != n_layers or len(heads) != n_heads:
        raise SpecError(f"{source}: head_names/layer_names: {len(heads)} head and {len(layers)} "
                        f"layer names for {n_heads} heads and {n_layers} layers; give one each")
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return Attention(array, tuple(str(t) for t in query_tokens),
                     tuple(str(t) for t in key_tokens), layers, heads, source)
