"""Capture the attention weights of chosen layers as a model runs.

``output_attentions=True`` keeps every layer's ``[heads, tokens, tokens]`` weights: 1.3 GB
for SmolLM2 on a 1,024-token prompt, of which a one-layer figure draws 43 MB. Here a
forward hook on each chosen layer's attention module copies its weights as they are made
(the same modules transformers itself records, from the model's ``_can_record_outputs``),
and the forward pass stops after the last chosen layer: nothing later can change them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import SpecError


class _Enough(Exception):
    """Raised by the last hook: the layers after it are not needed."""


def attention_modules(model: Any) -> list[Any] | None:
    """The model's self-attention modules in layer order, found the way transformers finds
    them for ``output_attentions`` (``None`` where the model does not say)."""
    specs = getattr(model, "_can_record_outputs", None) or {}
    wanted = specs.get("attentions")
    if wanted is None:
        return None
    wanted = wanted if isinstance(wanted, list) else [wanted]
    classes, names = [], []
    for spec in wanted:
        target = getattr(spec, "target_class", spec)
        if getattr(spec, "layer_name", None) is not None or getattr(spec, "index", 1) != 1:
            return None  # a recorder this simple hook does not reproduce
        if isinstance(target, type):
            classes.append(target)
        elif isinstance(target, str):
            names.append(target)
    found = [m for name, m in model.named_modules()
             if isinstance(m, tuple(classes)) or any(name.endswith(n) for n in names)]
    return found or None


EAGER = "eager_attention_forward"  # the name attention modules call their function by
_RECORDING = threading.Lock()  # held while that name is wrapped (threads would interleave)
# (queries [heads, query, dim], keys [kv_heads, key, dim], scaling or None) of one layer
Vectors = tuple[np.ndarray, np.ndarray, float | None]


def run_capturing(model: Any, encoded: Any, layers: Sequence[int] | None, *,
                  vectors: dict[int, Vectors] | None = None) -> list[np.ndarray]:
    """Run ``model`` on ``encoded`` and return the ``[batch, heads, query, key]`` weights of
    ``layers`` (every layer when ``None``), in their order, as float32 arrays. With
    ``vectors`` (a dict), also the query and key vectors of those layers as the attention
    used them (after a rotary embedding, before grouped-query keys are repeated), by layer:
    see :func:`recording_vectors`."""
    import torch

    modules = attention_modules(model)
    if vectors is not None:
        home = type(modules[0] if modules else model).__module__
        wanted = None if layers is None else set(layers)
        with recording_vectors(home, wanted, vectors):
            return run_capturing(model, encoded, layers)
    if modules is None:  # an older transformers or an unusual model: keep every layer
        with torch.no_grad():
            outputs = model(**encoded, output_attentions=True)
        every = [t.float().numpy() for t in (outputs.attentions or ())]
        return every if layers is None else [every[i] for i in layers]
    chosen = list(range(len(modules))) if layers is None else list(layers)
    kept: dict[int, np.ndarray] = {}
    last = max(chosen)

    def hook(index: int) -> Any:
        def keep(module: Any, args: Any, output: Any) -> None:
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if weights is None:
                raise SpecError("model: the attention weights were not returned; load the "
                                "model with attn_implementation='eager'")
            kept[index] = weights.detach().float().numpy().copy()
            if index == last:
                raise _Enough
        return keep

    handles = [modules[i].register_forward_hook(hook(i)) for i in sorted(set(chosen))]
    try:
        with torch.no_grad():
            model(**encoded)
    except _Enough:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return [kept[i] for i in chosen]


@contextmanager
def recording_vectors(home: str, wanted: set[int] | None,
                      out: dict[int, Vectors]) -> Iterator[None]:
    """While the model runs, record the query and key vectors of the layers ``wanted``
    (every layer when ``None``) into ``out``, by layer.

    transformers' attention modules compute q and k (and apply the rotary embedding) and
    then call their modeling file's (``home``'s) ``eager_attention_forward``, looked up by
    name at each call; that name is wrapped for the run, so the vectors recorded are
    exactly those the weights were computed from, whatever the architecture does before.
    A module's layer is its ``layer_idx`` (else the order of the calls)."""
    module = sys.modules.get(home)
    calls = [0]
    with _RECORDING:  # the name is a module global: one recording at a time
        original = getattr(module, EAGER, None)
        if module is None or original is None:
            raise SpecError(f"model: {home} does not compute attention through "
                            "transformers' eager_attention_forward, so its q and k cannot be "
                            "captured; save queries and keys yourself in an .npz")

        def eager(attention: Any, query: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
            layer = getattr(attention, "layer_idx", None)
            layer = calls[0] if not isinstance(layer, int) else layer
            calls[0] += 1
            if wanted is None or layer in wanted:
                scaling = kwargs.get("scaling", args[2] if len(args) > 2 else None)
                out[layer] = (query[0].detach().float().numpy().copy(),
                              key[0].detach().float().numpy().copy(),
                              None if scaling is None else float(scaling))
            return original(attention, query, key, *args, **kwargs)

        setattr(module, EAGER, eager)
        try:
            yield
        finally:
            setattr(module, EAGER, original)
    missing = sorted((wanted or set()) - set(out)) if out or wanted else ["all"]
    if missing:
        raise SpecError(f"model: the q and k of layer(s) {missing} were not seen (the model "
                        "took another attention path); save queries and keys yourself in an "
                        ".npz for the neuron view")
