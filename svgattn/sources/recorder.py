"""Record what a Hugging Face model's attention is computed from, whatever attention
implementation it runs (sdpa, eager, flash), without changing its outputs.

transformers' attention modules compute q and k (rotary embedding applied), then call the
function their config names (``config._attn_implementation``) from
``ALL_ATTENTION_FUNCTIONS``, with the mask, the scaling and any extras (a relative position
bias, a soft cap, a sliding window, learned sink logits). svgattn registers
``"svgattn|<name>"`` (and the matching mask function: the mask creators look the name up
too) as a function that hands the call to the recording of this context, then to the
original function; the model's config is pointed at it for the ``with`` block only.
Weights are then computed from q and k only for the rows a figure needs
(:class:`svgattn.blocks.FromVectors`): a model run over 8,192 tokens with sdpa never
holds a ``[heads, n, n]`` array.

Which module is which layer (and, in an encoder-decoder, which is encoder, decoder and
cross-attention) comes from the classes transformers itself records for
``output_attentions`` (``_can_record_outputs``).
"""

from __future__ import annotations

import contextvars
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from ..errors import SpecError

PREFIX = "svgattn|"
ROLES = ("self", "encoder", "decoder", "cross")
_SINK: contextvars.ContextVar[Callable[..., None] | None] = contextvars.ContextVar(
    "svgattn_recording", default=None)
_REGISTER = threading.Lock()
_SWITCHED: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


class Enough(Exception):
    """Raised after the last layer a figure needs: the forward pass stops there."""


class Call(NamedTuple):
    """One attention call as recorded: q ``[batch, heads, query, dim]``, k ``[batch,
    kv_heads, key, dim]`` (tensors, detached), the mask as the implementation got it, and
    what else turns q and k into weights."""

    query: Any
    key: Any
    mask: Any
    scaling: float
    causal: bool
    window: int | None
    softcap: float | None
    bias: Any  # a relative position bias [batch or 1, heads, query, key] (T5), or None
    sinks: Any  # learned sink logits [heads] (gpt-oss), or None
    flash: bool  # a flash implementation: the window and causality are not in the mask


def _register(base: str) -> str:
    """``"svgattn|<base>"``, registered once as a recording front for ``base``."""
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    name = PREFIX + base
    with _REGISTER:
        if name in ALL_ATTENTION_FUNCTIONS:
            return name

        def recording(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                      *args: Any, **kwargs: Any) -> Any:
            sink = _SINK.get()
            if sink is not None:
                sink(module, query, key, attention_mask, base, kwargs)
            eager = sys.modules[type(module).__module__].eager_attention_forward
            impl = eager if base == "eager" else \
                ALL_ATTENTION_FUNCTIONS.get_interface(base, eager)
            return impl(module, query, key, value, attention_mask, *args, **kwargs)

        AttentionInterface.register(name, recording)
        if base in ALL_MASK_ATTENTION_FUNCTIONS:  # else the mask creators give None
            AttentionMaskInterface.register(name, ALL_MASK_ATTENTION_FUNCTIONS[base])
    return name


def _configs(model: Any) -> list[Any]:
    """Every config an attention module of ``model`` reads its implementation from."""
    seen: dict[int, Any] = {}
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "_attn_implementation_internal"):
            seen.setdefault(id(config), config)
    return list(seen.values())


@contextmanager
def _switched(model: Any) -> Iterator[None]:
    """The model's configs pointed at the recording front of their implementation, for
    the block (counted: nested or concurrent recordings restore once, at the last end)."""
    with _REGISTER:
        entry = _SWITCHED.get(model)
        if entry is None:
            saved = [(c, c._attn_implementation_internal) for c in _configs(model)]
            entry = _SWITCHED[model] = [0, saved]
    names = [(c, impl, _register(impl or "sdpa")) for c, impl in entry[1]
             if not str(impl or "").startswith(PREFIX)]
    with _REGISTER:
        if entry[0] == 0:
            for config, _, name in names:
                config._attn_implementation_internal = name
        entry[0] += 1
    try:
        yield
    finally:
        with _REGISTER:
            entry[0] -= 1
            if entry[0] == 0:
                for config, impl in entry[1]:
                    config._attn_implementation_internal = impl
                del _SWITCHED[model]


def roles(model: Any) -> dict[int, tuple[str, int]]:
    """(role, layer) of each module of ``model`` that calls attention (by ``id``), from
    the classes transformers records for ``output_attentions``: ``self`` for a decoder-
    or encoder-only model, ``encoder``, ``decoder`` and ``cross`` for an encoder-decoder."""
    encoder = None
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        get = getattr(model, "get_encoder", None)
        encoder = get() if callable(get) else None
    found: dict[int, tuple[str, int]] = {}
    # the innermost owners first: a T5 model lists the same classes as its encoder and
    # decoder stacks do, and those say which stack a layer is in
    owners = sorted(model.named_modules(), key=lambda item: -item[0].count(".") - bool(item[0]))
    for _, owner in owners:
        specs = getattr(type(owner), "_can_record_outputs", None) or {}
        for key, role in (("attentions", "self"), ("cross_attentions", "cross")):
            if key not in specs:
                continue
            if role == "self" and encoder is not None:
                role = "encoder" if owner is encoder else "decoder"
            for layer, module in enumerate(_recorded(owner, specs[key])):
                for inner in module.modules():  # the module that calls attention may be inside
                    found.setdefault(id(inner), (role, layer))
    return found


def _recorded(owner: Any, spec: Any) -> list[Any]:
    """The modules of ``owner`` that transformers' recorder ``spec`` names, in order."""
    specs = spec if isinstance(spec, list) else [spec]
    out = []
    for one in specs:
        target = getattr(one, "target_class", one)
        name = getattr(one, "layer_name", None)
        for path, module in owner.named_modules():
            if isinstance(target, type) and isinstance(module, target) and \
                    (name is None or path.endswith(name)):
                out.append(module)
    return out


class Recording:
    """What :func:`record` (or svgattn's own model run) recorded: the last call of each
    attention layer, by role (``self``, ``encoder``, ``decoder``, ``cross``) and layer, and
    the input ids the model was called with (for tokens). Build attention from it with
    :meth:`attention`, or a figure with ``Diagram.from_record``."""

    def __init__(self, model: Any, layers: Sequence[int] | None) -> None:
        self.model = model
        self.layers = None if layers is None else set(int(i) for i in layers)
        self.calls: dict[str, dict[int, Call]] = {}
        self.inputs: dict[str, Any] = {}
        self.stop_after: tuple[str, int] | None = None
        self._roles = roles(model)
        self._order: dict[str, int] = {}

    def keep(self, module: Any, query: Any, key: Any, mask: Any, base: str,
             kwargs: dict[str, Any]) -> None:
        """The recording's sink: one attention call. A call that continues the layer's
        last one (generation with a cache: new queries over the keys so far plus theirs)
        adds its rows to it, so a ``generate()`` recorded gives every row but the last
        token's (never fed back)."""
        role, layer = self._roles.get(id(module)) or ("self", self._next("self", module))
        if self.layers is None or layer in self.layers:
            scaling = kwargs.get("scaling", getattr(module, "scaling", None))
            call = Call(query.detach(), key.detach(), None if mask is None else mask.detach(),
                        float(query.shape[-1] ** -0.5 if scaling is None else scaling),
                        bool(kwargs.get("is_causal", getattr(module, "is_causal", False))),
                        kwargs.get("sliding_window"), kwargs.get("softcap"),
                        _detached(kwargs.get("position_bias")), _detached(kwargs.get("s_aux")),
                        "flash" in base)
            kept = self.calls.setdefault(role, {})
            kept[layer] = _continued(kept.get(layer), call)
        if self.stop_after == (role, layer):
            raise Enough

    def _next(self, role: str, module: Any) -> int:
        """A layer number for a module transformers does not list: its call order."""
        index = getattr(module, "layer_idx", None)
        if isinstance(index, int):
            return index
        self._order[role] = self._order.get(role, -1) + 1
        return self._order[role]

    def vectors(self, role: str = "self", batch_index: int = 0) -> tuple[Any, list[int]]:
        """The recorded layers of ``role`` as a :class:`svgattn.blocks.FromVectors` (the
        weights computed from q and k as they are read), and their layer indices."""
        from ..blocks import FromVectors

        calls = self.calls.get(role)
        if not calls:
            kinds = ", ".join(sorted(self.calls)) or "none"
            raise SpecError(f"record: no {role} attention was recorded (recorded: {kinds}); "
                            "run the model inside the with block, on the layers asked for")
        layers = sorted(calls)
        batch = int(calls[layers[0]].query.shape[0])
        if not -batch <= batch_index < batch:
            raise SpecError(f"record: batch_index: {batch_index} is out of range for a batch "
                            f"of {batch}")
        parts = [_vectors(calls[i], batch_index % batch) for i in layers]
        return FromVectors([p[0] for p in parts], [p[1] for p in parts],
                           [calls[i].scaling for i in layers], [p[2] for p in parts],
                           softcap=[calls[i].softcap for i in layers],
                           bias=[p[3] for p in parts], sinks=[p[4] for p in parts]), layers

    def batch(self) -> int:
        """How many inputs the recorded calls hold."""
        for calls in self.calls.values():
            for call in calls.values():
                return int(call.query.shape[0])
        return 0


def _continued(last: Call | None, call: Call) -> Call:
    """``call``, or ``last`` with ``call``'s rows added when ``call`` is the next step of
    the same decoding (its keys are ``last``'s plus one per new query)."""
    import torch

    if last is None or call.bias is not None or last.bias is not None:
        return call
    new, keys = call.query.shape[-2], call.key.shape[-2]
    if keys != last.key.shape[-2] + new or new >= keys or \
            call.query.shape[:2] != last.query.shape[:2]:
        return call
    mask = None
    if call.mask is not None or last.mask is not None:
        if last.mask is None or call.mask is None or last.mask.ndim != 4 or call.mask.ndim != 4:
            return call
        before = _allowed(last.mask)
        padded = torch.zeros((*before.shape[:-1], keys), dtype=torch.bool,
                             device=before.device)
        padded[..., : before.shape[-1]] = before
        mask = torch.cat([padded, _allowed(call.mask)[..., -new:, :]], dim=-2)
    return call._replace(query=torch.cat([last.query, call.query], dim=-2), mask=mask)


def _allowed(mask: Any) -> Any:
    """A 4-D attention mask as bool, True where a query may attend (sdpa's masks are bool
    already; eager's add 0 or a large negative number)."""
    if not mask.dtype.is_floating_point:
        return mask.bool()
    return mask > mask.new_tensor(float(np.finfo(np.float32).min) / 2)


def _detached(value: Any) -> Any:
    return value.detach() if hasattr(value, "detach") else value


def _numpy(tensor: Any) -> np.ndarray:
    """A float32 numpy copy of a tensor on any device, in any precision."""
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy())


def _vectors(call: Call, batch: int) -> tuple[np.ndarray, np.ndarray, Any, Any, Any]:
    """(q ``[heads, query, dim]``, k ``[kv_heads, key, dim]``, mask, bias, sinks) of one
    input of a call, as :class:`svgattn.blocks.FromVectors` takes them."""
    from ..blocks import Mask

    q, k = _numpy(call.query[batch]), _numpy(call.key[batch])
    n_q, n_k = q.shape[1], k.shape[1]
    mask, window = call.mask, call.window
    if mask is None:  # sdpa's plain causal (or none), or flash with no padding
        made = Mask(causal=call.causal, window=window if call.flash else None)
    elif mask.ndim == 2:  # flash: a padding mask over keys; causality and the window apart
        made = Mask(causal=call.causal, window=window, keys=_numpy(mask[batch]) > 0)
    else:  # [batch, 1 or heads, query, key]: bool (True: attend) or additive (0 or -inf)
        row = _allowed(mask[batch if mask.shape[0] > 1 else 0, 0])
        made = Mask(full=row.cpu().numpy()[-n_q:, -n_k:])
    bias = None
    if call.bias is not None:
        b = call.bias[batch if call.bias.shape[0] > 1 else 0]
        bias = _numpy(b)
    sinks = None if call.sinks is None else _numpy(call.sinks).reshape(-1)
    return q, k, made, bias, sinks


@contextmanager
def record(model: Any, layers: Sequence[int] | None = None) -> Iterator[Any]:
    """Record the attention of an open Hugging Face model as it runs:

        with svgattn.record(model, layers=[5, 6]) as rec:
            model(**inputs)
        Diagram.from_record(rec, tokenizer=tokenizer, view="matrix")

    Whatever attention the model was loaded with (sdpa, eager, flash); the model's outputs
    are those it gives without recording. ``layers``: the layer indices to keep (all by
    default; an 8,192-token layer keeps 25 MB of q and k, and the weights are computed
    from them only as a figure reads them). A TransformerLens model is recorded through
    its hooks (:func:`svgattn.sources.transformerlens.record_lens`)."""
    if hasattr(model, "run_with_hooks") and hasattr(model, "cfg"):
        from .transformerlens import record_lens

        with record_lens(model, layers) as lens:
            yield lens
        return
    if not hasattr(model, "named_modules") or not hasattr(model, "config"):
        raise SpecError(f"record: expected a transformers model (or a TransformerLens one), "
                        f"not {type(model).__name__}")
    rec = Recording(model, layers)
    if layers is not None:
        _check_layers(rec, layers)
    hook = model.register_forward_pre_hook(lambda _m, args, kwargs: _inputs(rec, args, kwargs),
                                           with_kwargs=True)
    token = _SINK.set(rec.keep)
    try:
        with _switched(model):
            yield rec
    finally:
        _SINK.reset(token)
        hook.remove()


def _check_layers(rec: Recording, layers: Sequence[int]) -> None:
    """Layers a model does not have are refused before it runs (not after, as nothing)."""
    found = {layer for _, layer in rec._roles.values()}
    count = max(found) + 1 if found else int(getattr(rec.model.config, "num_hidden_layers", 0)
                                             or 0)
    bad = [i for i in layers if isinstance(i, bool) or not isinstance(i, int) or
           not 0 <= i < count] if count else []
    if bad:
        raise SpecError(f"record: layers: {bad[0]!r} is not a layer of this model (it has "
                        f"{count}: 0..{count - 1})")


def _inputs(rec: Recording, args: Any, kwargs: dict[str, Any]) -> None:
    """Keep the ids a forward pass was called with (tokens for the figure); a step of
    generation with a cache adds its ids to those before (as its rows are added)."""
    import torch

    cache = kwargs.get("past_key_values", kwargs.get("cache"))  # transformers 5: "cache"
    length = getattr(cache, "get_seq_length", None)
    cached = int(length()) if callable(length) else 0
    for name in ("input_ids", "decoder_input_ids"):
        value = kwargs.get(name)
        if value is None and name == "input_ids" and args:
            value = args[0]
        if value is None or not hasattr(value, "shape"):
            continue
        ids = value.detach().cpu()
        before = rec.inputs.get(name)
        steps = name == ("decoder_input_ids" if "decoder_input_ids" in kwargs else "input_ids")
        if cached and steps and before is not None and before.shape[-1] == cached and \
                before.shape[0] == ids.shape[0]:
            ids = torch.cat([before, ids], dim=-1)
        rec.inputs[name] = ids
