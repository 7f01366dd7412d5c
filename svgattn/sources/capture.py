"""Run a model once and keep what the attention of chosen layers is computed from.

``output_attentions=True`` needs eager attention and keeps every layer's ``[heads, tokens,
tokens]`` weights: 1.3 GB for SmolLM2 on a 1,024-token prompt, and 2.4 GB a layer at
8,192 tokens, of which a figure draws one layer's pooled cells. Here the model runs with
its own attention (sdpa by default) while :mod:`svgattn.sources.recorder` keeps the q and
k of the layers a figure needs, and the forward pass stops after the last of them: nothing
later can change them. The weights are computed from q and k as the figure reads them
(:class:`svgattn.blocks.FromVectors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from ..errors import SpecError
from .recorder import Enough, Recording, record, roles


def layer_count(model: Any, role: str = "self") -> int:
    """How many attention layers of ``role`` the model has (none is refused)."""
    found = {layer for kind, layer in roles(model).values() if kind == role}
    count = len(found) if found else int(getattr(model.config, "num_hidden_layers", 0) or 0)
    if count < 1:
        raise SpecError(f"model: the model has no {role} attention layers to draw")
    return count


def run_recorded(model: Any, inputs: dict[str, Any], layers: Sequence[int] | None,
                 role: str = "self", runner: Any = None) -> Recording:
    """Run ``model`` (or ``runner``, a part of it: its base model, its encoder) on
    ``inputs`` (tensors on its device), keeping the calls of ``layers`` of ``role`` (every
    layer when ``None``), stopping after the last of them."""
    import torch

    called = runner or model
    extra = {"use_cache": False} if _takes(called, "use_cache") else {}  # no cache to build
    with record(model, layers) as rec, torch.no_grad():
        if layers:
            rec.stop_after = (role, max(layers))
        with contextlib.suppress(Enough):  # raised after the last layer needed
            called(**inputs, **extra)
    if not rec.calls.get(role):
        raise SpecError(f"model: {type(model).__name__} computes attention outside "
                        "transformers' attention functions, so svgattn cannot record it; save "
                        "its attention in an .npz (outputs.attentions with eager attention)")
    missing = sorted(set(layers or ()) - set(rec.calls[role]))
    if missing:
        raise SpecError(f"model: layer(s) {missing[:8]} of the {role} attention were not run "
                        "(the model has fewer); choose layers it has")
    return rec


def _takes(module: Any, name: str) -> bool:
    """Whether ``module``'s forward takes the keyword ``name``."""
    import inspect

    try:
        parameters = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
