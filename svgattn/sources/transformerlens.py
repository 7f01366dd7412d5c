"""TransformerLens ``ActivationCache``: ``cache["pattern", layer]`` is ``[batch, heads,
query, key]`` (hook name ``blocks.{layer}.attn.hook_pattern``); the query and key vectors
(the neuron view) are ``hook_rot_q``/``hook_rot_k`` where a rotary embedding turned them,
else ``hook_q``/``hook_k``, each ``[batch, position, heads, dim]``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..data import Attention, make_attention, to_numpy, with_vectors
from ..errors import SpecError


def _pattern(cache: Any, layer: int) -> Any:
    for key in (("pattern", layer), f"blocks.{layer}.attn.hook_pattern"):
        try:
            return cache[key]
        except (KeyError, IndexError, TypeError):
            continue
    return None


def from_transformerlens(cache: Any, tokens: Sequence[str] | None = None, *,
                         model: Any = None, input: Any = None,
                         layers: Sequence[int] | None = None,
                         batch_index: int | None = None) -> Attention:
    """Attention from a cache of ``model.run_with_cache(...)``. Tokens are ``tokens`` or
    ``model.to_str_tokens(input)``. ``layers`` defaults to every layer in the cache."""
    if layers is None:
        n = getattr(getattr(getattr(cache, "model", None), "cfg", None), "n_layers", None)
        if n is None and model is not None:
            n = getattr(getattr(model, "cfg", None), "n_layers", None)
        layers = []
        for layer in range(n if n is not None else 10_000):
            if _pattern(cache, layer) is None:
                break
            layers.append(layer)
    patterns = []
    for layer in layers:
        found = _pattern(cache, layer)
        if found is None:
            raise SpecError(f"transformerlens: cache has no pattern for layer {layer}; run "
                            "model.run_with_cache(...) without a names_filter that drops "
                            "hook_pattern")
        array = to_numpy(found)
        if array.ndim == 3:
            array = array[None]
        if array.ndim != 4:
            raise SpecError(f"transformerlens: pattern of layer {layer} has shape {array.shape};"
                            " expected [batch, heads, query, key]")
        index = batch_index
        if index is None:
            if array.shape[0] > 1:
                raise SpecError(f"transformerlens: batch_index: the cache holds a batch of "
                                f"{array.shape[0]} inputs; choose one with batch_index=0 (or "
                                "another)")
            index = 0
        if not -array.shape[0] <= index < array.shape[0]:
            raise SpecError(f"transformerlens: batch_index: {index} is out of range")
        patterns.append(array[index])
    if not patterns:
        raise SpecError("transformerlens: the cache holds no attention patterns; cache "
                        "'blocks.*.attn.hook_pattern'")
    if tokens is None:
        if model is None or input is None:
            raise SpecError("transformerlens: tokens: give tokens=[...] or model= and input= "
                            "(tokens come from model.to_str_tokens(input))")
        tokens = [str(t) for t in model.to_str_tokens(input)]
    att = make_attention(np.stack(patterns), list(tokens), list(tokens),
                         layer_names=[f"L{layer}" for layer in layers],
                         source="transformerlens cache")
    cfg = getattr(model if model is not None else getattr(cache, "model", None), "cfg", None)
    found = _vectors(cache, list(layers), batch_index or 0)
    if found is None:
        return att
    scale = getattr(cfg, "attn_scale", None)
    scaling: list[float | None] = [None] * len(layers)  # 1/sqrt(dim) unless the model says
    if isinstance(scale, (int, float)) and scale > 0 and getattr(cfg, "use_attn_scale", True):
        by_layer = bool(getattr(cfg, "scale_attn_by_inverse_layer_idx", False))
        scaling = [1.0 / (scale * (layer + 1 if by_layer else 1)) for layer in layers]
    return with_vectors(att, found[0], found[1], scaling)


def _vectors(cache: Any, layers: list[int], batch: int) -> tuple[np.ndarray, np.ndarray] | None:
    """([layers, heads, position, dim] queries, keys) as the pattern was computed from them
    (rotated where the model rotates), or ``None`` when the cache holds none. A rotary
    model's ``hook_q``/``hook_k`` are before the rotation (a native TransformerBridge never
    fires its rotated hooks): the neuron view's check refuses them, naming the hooks."""
    out: list[list[np.ndarray]] = [[], []]
    for layer in layers:
        for i, name in enumerate(("q", "k")):
            found = None
            hooks = (f"blocks.{layer}.attn.hook_rot_{name}", f"blocks.{layer}.attn.hook_{name}")
            for hook in hooks:
                try:
                    found = cache[hook]
                    break
                except (KeyError, IndexError, TypeError):
                    continue
            if found is None:
                return None
            array = to_numpy(found, f"transformerlens: {hook}")
            if array.ndim != 4:
                raise SpecError(f"transformerlens: {hook}: shape {array.shape}; expected "
                                "[batch, position, heads, dim]")
            out[i].append(np.swapaxes(array[batch], 0, 1))
    return np.stack(out[0]), np.stack(out[1])


class LensRecording:
    """What :func:`record_lens` kept: each layer's pattern (and q and k, for the neuron
    view) as the model ran, and its input."""

    def __init__(self, model: Any, layers: list[int]) -> None:
        self.model, self.layers = model, layers
        self.cache: dict[str, Any] = {}
        self.input: Any = None

    def lens_attention(self, tokens: Sequence[str] | None, batch_index: int | None) -> Attention:
        """The recorded layers as :func:`from_transformerlens` reads a cache."""
        if not self.cache:
            raise SpecError("record: nothing was recorded; run the model inside the with block")
        return from_transformerlens(self.cache, tokens, model=self.model, input=self.input,
                                    layers=self.layers, batch_index=batch_index)


@contextmanager
def record_lens(model: Any, layers: Sequence[int] | None) -> Iterator[LensRecording]:
    """:func:`svgattn.record` of a TransformerLens model (``HookedTransformer`` or
    ``TransformerBridge``), through its hooks: ``hook_pattern`` of each layer, and the
    rotated q and k where the model rotates them (else ``hook_q``/``hook_k``)."""
    count = int(getattr(model.cfg, "n_layers", 0) or 0)
    chosen = list(range(count)) if layers is None else [int(i) for i in layers]
    if not chosen or any(not 0 <= i < count for i in chosen):
        raise SpecError(f"record: layers: the model has layers 0..{count - 1}; choose among them")
    rec = LensRecording(model, chosen)

    def keep(value: Any, hook: Any) -> None:
        rec.cache[keep.names[id(hook)]] = value.detach().float().cpu()  # type: ignore[attr-defined]

    names = [f"blocks.{i}.attn.hook_{n}" for i in chosen
             for n in ("pattern", "q", "k", "rot_q", "rot_k")]
    points = getattr(model, "hook_dict", {})
    wanted = [(n, keep) for n in names if n in points]
    keep.names = {id(points[n]): n for n, _ in wanted}  # type: ignore[attr-defined]
    handle = model.register_forward_pre_hook(
        lambda _m, args: setattr(rec, "input", args[0] if args else rec.input))
    try:
        with model.hooks(fwd_hooks=wanted):
            yield rec
    finally:
        handle.remove()
