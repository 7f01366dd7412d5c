"""Capture the attention weights of chosen layers as a model runs.

``output_attentions=True`` keeps every layer's ``[heads, tokens, tokens]`` weights: 1.3 GB
for SmolLM2 on a 1,024-token prompt, of which a one-layer figure draws 43 MB. Here a
forward hook on each chosen layer's attention module copies its weights as they are made
(the same modules transformers itself records, from the model's ``_can_record_outputs``),
and the forward pass stops after the last chosen layer: nothing later can change them.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def run_capturing(model: Any, encoded: Any, layers: Sequence[int] | None) -> list[np.ndarray]:
    """Run ``model`` on ``encoded`` and return the ``[batch, heads, query, key]`` weights of
    ``layers`` (every layer when ``None``), in their order, as float32 arrays."""
    import torch

    modules = attention_modules(model)
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
