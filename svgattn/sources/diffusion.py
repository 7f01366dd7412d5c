"""Cross-attention of a diffusers denoiser (UNet or SD3-style transformer) for the words view:
one map per prompt token over the latent grid (Prompt-to-Prompt / DAAM style).

``record_diffusion`` wraps each cross-attention layer's processor in an observer that
recomputes ``softmax(q kᵀ · attn.scale)`` for one batch row and then delegates to the original
processor, so the model's output is unchanged. The originals come back on exit, also after an
error.

Which batch row: the diffusers pipelines run classifier-free guidance as one batch
``[unconditional; conditional]`` (``torch.cat([negative_prompt_embeds, prompt_embeds])``), so
the conditional half starts at ``batch // 2``; with one image and guidance that is row 1. When
the target is a pipeline, its ``do_classifier_free_guidance`` decides; for a bare model an even
batch is taken as such a pair and an odd batch above 1 needs ``batch_index``.

Memory (float32 on CPU): one layer holds ``heads x pixels x tokens``. Stable Diffusion 1.5 at
512 px (8 heads, 77 tokens) has 5 layers on 64x64 (50 MB a step), 5 on 32x32 (13 MB), 5 on
16x16 (3.2 MB) and 1 on 8x8: about 66 MB a step, 3.3 GB for 50 steps kept one by one. The
default ``average_steps=True`` keeps a running sum per layer (66 MB whatever the steps); a
``resolution`` given up front keeps (and computes) only the layers of that grid, e.g.
``resolution=16`` (Prompt-to-Prompt's choice): 3.2 MB.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np

__all__ = ["DiffusionRecording", "attention_of", "record_diffusion", "recording_arrays"]

# Joint attention: query rows per chunk so that one chunk of scores has at most this many
# elements (SD3 at 1024 px: 24 heads x 4096 x 4429 keys would be 1.7 GB in one piece).
_JOINT_CHUNK = 1 << 24


class DiffusionRecording:
    """Cross-attention kept by :func:`record_diffusion`.

    ``steps`` counts the model's calls (one per denoising step in the diffusers pipelines);
    ``layer_grids`` maps every cross-attention layer seen, in call order, to its (rows, cols)
    grid; ``grid``, ``layer_names`` and ``attentions`` describe the layers kept (one grid);
    ``tokens`` are the prompt's token strings when a pipeline and a prompt were given;
    ``joint`` is true for SD3-style joint attention, whose image-to-text block is a part of
    one softmax over image and text keys (rows sum to less than 1: renormalise over the text
    tokens for a words view).
    """

    def __init__(self, *, resolution: int | None, average_steps: bool,
                 batch_index: int | None) -> None:
        self.resolution = resolution
        self.average_steps = average_steps
        self.batch_index = batch_index
        self.steps = 0
        self.joint = False
        self.tokens: list[str] | None = None
        self.layer_grids: dict[str, tuple[int, int]] = {}
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}
        self._per_step: list[dict[str, np.ndarray]] = []
        self._latent: tuple[int, int] | None = None
        self._cfg: bool | None = None

    # -- filled while the model runs -------------------------------------------------------

    def _begin_step(self, sample: Any, cfg: bool | None) -> None:
        self.steps += 1
        shape = tuple(getattr(sample, "shape", ()))
        self._latent = (int(shape[-2]), int(shape[-1])) if len(shape) >= 4 else None
        self._cfg = cfg
        if not self.average_steps:
            self._per_step.append({})

    def _row(self, batch: int) -> int:
        if self.batch_index is not None:
            if not -batch <= self.batch_index < batch:
                raise ValueError(f"record_diffusion: batch_index {self.batch_index} is outside "
                                 f"the batch of {batch}")
            return self.batch_index % batch
        if batch == 1 or self._cfg is False:
            return 0
        if self._cfg or batch % 2 == 0:
            return batch // 2  # [uncond; cond]: the first conditional row
        raise ValueError(f"record_diffusion: a batch of {batch} is no [uncond; cond] pair; "
                         "choose the row with batch_index")

    def _grid(self, pixels: int) -> tuple[int, int]:
        """(rows, cols) of a layer of ``pixels`` positions: the latent divided by the layer's
        stride (UNet downsamplings and patch sizes round up, as strided convolutions do)."""
        if self._latent is None:
            side = math.isqrt(pixels)
            if side * side != pixels:
                raise ValueError(f"record_diffusion: cannot tell the grid of {pixels} pixels "
                                 "without the latent's size (call the recorded model itself)")
            return side, side
        rows, cols = self._latent
        for stride in range(1, max(rows, cols) + 1):
            r, c = -(-rows // stride), -(-cols // stride)
            if r * c == pixels:
                return r, c
            if r * c < pixels:
                break
        raise ValueError(f"record_diffusion: {pixels} pixels fit no stride of the "
                         f"{rows}x{cols} latent")

    def _wanted(self, name: str, grid: tuple[int, int]) -> bool:
        self.layer_grids.setdefault(name, grid)
        return self.resolution is None or grid[0] == self.resolution

    def _add(self, name: str, probs: np.ndarray) -> None:
        if not self.average_steps:
            if not self._per_step:
                self._per_step.append({})
            self._per_step[-1][name] = probs
            return
        total = self._sums.get(name)
        if total is None:
            self._sums[name] = probs.copy()
        elif total.shape != probs.shape:
            raise ValueError(f"record_diffusion: layer {name} changed shape from {total.shape} "
                             f"to {probs.shape} between calls (another image size?)")
        else:
            total += probs
        self._counts[name] = self._counts.get(name, 0) + 1

    # -- read afterwards -------------------------------------------------------------------

    def _recorded(self) -> list[str]:
        held = set(self._sums) if self.average_steps else {
            name for step in self._per_step for name in step}
        return [name for name in self.layer_grids if name in held]

    @property
    def grid(self) -> tuple[int, int]:
        """The grid kept: ``resolution``'s, else the one with most layers (ties: larger)."""
        names = self._recorded()
        if not names:
            found = sorted(set(self.layer_grids.values()))
            raise ValueError("record_diffusion: no cross-attention was recorded"
                             + (f" at resolution {self.resolution}; grids seen: {found}"
                                if self.resolution is not None and found else ""))
        counts: dict[tuple[int, int], int] = {}
        for name in names:
            counts[self.layer_grids[name]] = counts.get(self.layer_grids[name], 0) + 1
        return max(counts, key=lambda g: (counts[g], g[0] * g[1], g))

    @property
    def layer_names(self) -> list[str]:
        """Module names of the layers kept, in call order (e.g. ``…attn2``)."""
        grid = self.grid
        return [name for name in self._recorded() if self.layer_grids[name] == grid]

    @property
    def attentions(self) -> np.ndarray:
        """float32 ``[steps, layers, heads, pixels, tokens]`` (pixels row-major over ``grid``);
        with ``average_steps`` one step: the mean over all steps."""
        names = self.layer_names
        try:
            if self.average_steps:
                return np.stack([self._sums[n] / self._counts[n] for n in names])[None]
            return np.stack([np.stack([step[n] for n in names]) for step in self._per_step
                             if any(n in step for n in names)])
        except KeyError as missing:
            raise ValueError(f"record_diffusion: layer {missing} is missing from a step") from None
        except ValueError as error:  # layers of one grid with different head counts
            raise ValueError(f"record_diffusion: the layers of grid {self.grid} do not stack "
                             f"({error}); average their heads first") from None

    @property
    def nbytes(self) -> int:
        """Bytes of attention held."""
        held = self._sums.values() if self.average_steps else (
            a for step in self._per_step for a in step.values())
        return sum(a.nbytes for a in held)


def recording_arrays(rec: DiffusionRecording) -> dict[str, Any]:
    """``{"attentions", "grid": [rows, cols], "layer_names", "steps", "tokens", "averaged",
    "joint"}`` of a recording (``attentions`` as :attr:`DiffusionRecording.attentions`)."""
    return {"attentions": rec.attentions, "grid": list(rec.grid), "layer_names": rec.layer_names,
            "steps": rec.steps, "tokens": rec.tokens, "averaged": rec.average_steps,
            "joint": rec.joint}


def attention_of(rec: DiffusionRecording, *, tokens: list[str] | None = None,
                 image: Any = None, source: str = "diffusion") -> Any:
    """The recording as an :class:`~svgattn.data.Attention` for the words view: pixels as
    queries on its grid, the prompt's tokens as keys (``tokens``, else the ones recorded
    from the pipeline's tokenizer), averaged over the steps (the caption says how many);
    ``image``: the generated picture (a path or pixels ``[H, W, 3]``) under the maps. Joint
    attention (SD3) is renormalised over the text tokens."""
    from ..errors import SpecError
    from .arrays import from_array

    words = tokens if tokens is not None else rec.tokens
    if not words:
        raise SpecError(f"{source}: tokens: the recording has no token strings; give "
                        "tokens=, or record_diffusion(pipe, prompt=...)")
    weights = rec.attentions.astype(np.float64)
    if rec.joint:
        weights = weights / np.maximum(weights.sum(-1, keepdims=True), 1e-30)
    rows, cols = rec.grid
    mean = weights.mean(axis=0)  # [layers, heads, pixels, tokens]
    if len(words) != mean.shape[-1]:
        raise SpecError(f"{source}: tokens: {len(words)} given for {mean.shape[-1]} text "
                        "tokens in the recording")
    att = from_array(mean, query_tokens=[f"{r},{c}" for r in range(rows) for c in range(cols)],
                     key_tokens=list(words), layer_names=rec.layer_names, source=source,
                     grid=[rows, cols], patch_start=0, grid_axis="query", image=image)
    from dataclasses import replace

    steps = rec.steps
    note = f"mean over {steps} denoising step{'s' * (steps != 1)}, the layers at {rows} x " \
        f"{cols}" + ("; joint attention: each pixel's share of the text tokens, renormalised "
                     "over them" if rec.joint else "")
    assert att.patches is not None
    return replace(att, patches=replace(att.patches, note=note))


class _Observer:
    """Wraps one layer's processor: records, then lets the original compute the output."""

    def __init__(self, name: str, inner: Any, rec: DiffusionRecording) -> None:
        self.name, self.inner, self.rec = name, inner, rec

    def __call__(self, attn: Any, hidden_states: Any, encoder_hidden_states: Any = None,
                 attention_mask: Any = None, **kwargs: Any) -> Any:
        if encoder_hidden_states is not None:
            import torch

            with torch.no_grad():
                self._observe(attn, hidden_states, encoder_hidden_states, attention_mask)
        return self.inner(attn, hidden_states, encoder_hidden_states=encoder_hidden_states,
                          attention_mask=attention_mask, **kwargs)

    def _observe(self, attn: Any, hidden: Any, context: Any, mask: Any) -> None:
        raise NotImplementedError


class _ObserveCross(_Observer):
    """Classic ``Attention`` cross-attention (UNet and PixArt ``attn2``), as
    ``AttnProcessor2_0`` computes it."""

    def _observe(self, attn: Any, hidden: Any, context: Any, mask: Any) -> None:
        rec, batch = self.rec, hidden.shape[0]
        if hidden.ndim == 4:
            grid = (int(hidden.shape[2]), int(hidden.shape[3]))
            hidden = hidden.flatten(2).transpose(1, 2)
        else:
            grid = rec._grid(int(hidden.shape[1]))
        if not rec._wanted(self.name, grid):
            return
        row = rec._row(batch)
        hidden, context = hidden[row:row + 1], context[row:row + 1]
        if attn.group_norm is not None:
            hidden = attn.group_norm(hidden.transpose(1, 2)).transpose(1, 2)
        if attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        query, key = attn.to_q(hidden), attn.to_k(context)
        heads = attn.heads
        query = query.view(1, -1, heads, key.shape[-1] // heads).transpose(1, 2)
        key = key.view(1, -1, heads, key.shape[-1] // heads).transpose(1, 2)
        if getattr(attn, "norm_q", None) is not None:
            query = attn.norm_q(query)
        if getattr(attn, "norm_k", None) is not None:
            key = attn.norm_k(key)
        if mask is not None:
            if mask.shape[0] == batch:
                mask = mask[row:row + 1]
            mask = attn.prepare_attention_mask(mask, key.shape[2], 1)
        probs = attn.get_attention_scores(query[0], key[0], mask)  # [heads, pixels, tokens]
        rec._add(self.name, probs.float().cpu().numpy())


class _ObserveJoint(_Observer):
    """SD3-style joint attention (``JointAttnProcessor2_0``): keys ``[image; text]``; keeps
    the image-query x text-key block of the one softmax."""

    def _observe(self, attn: Any, hidden: Any, context: Any, mask: Any) -> None:
        import torch

        rec, batch, pixels = self.rec, hidden.shape[0], int(hidden.shape[1])
        if not rec._wanted(self.name, rec._grid(pixels)):
            return
        rec.joint = True
        row = rec._row(batch)
        hidden, context = hidden[row:row + 1], context[row:row + 1]
        heads = attn.heads

        def split(t: Any) -> Any:
            return t.view(1, -1, heads, t.shape[-1] // heads).transpose(1, 2)

        query, key, text = split(attn.to_q(hidden)), split(attn.to_k(hidden)), split(
            attn.add_k_proj(context))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        if attn.norm_added_k is not None:
            text = attn.norm_added_k(text)
        query = query[0].float()
        keys = torch.cat([key, text], 2)[0].float().transpose(1, 2)  # [heads, d, pixels+text]
        rows = max(1, _JOINT_CHUNK // (heads * keys.shape[2]))
        parts = []
        for start in range(0, pixels, rows):
            scores = (query[:, start:start + rows] @ keys) * attn.scale
            parts.append((scores[..., pixels:] - scores.logsumexp(-1, keepdim=True)).exp())
        rec._add(self.name, torch.cat(parts, 1).cpu().numpy())


_CLASSES: dict[tuple[type, type], type] = {}


def _wrap(kind: type[_Observer], name: str, inner: Any, rec: DiffusionRecording) -> _Observer:
    """An observer whose ``__call__`` signature is the inner processor's: ``Attention.forward``
    drops every keyword its processor's signature does not name."""
    key = (kind, type(inner))
    cls = _CLASSES.get(key)
    if cls is None:
        def __call__(self: _Observer, *args: Any, **kwargs: Any) -> Any:
            return kind.__call__(self, *args, **kwargs)

        with suppress(TypeError, ValueError):
            __call__.__signature__ = inspect.signature(type(inner).__call__)  # type: ignore[attr-defined]
        cls = _CLASSES[key] = type(kind.__name__, (kind,), {"__call__": __call__})
    return cls(name, inner, rec)


def _kind(module: Any) -> type[_Observer] | None:
    inner = module.processor
    while isinstance(inner, _Observer):
        inner = inner.inner
    if not (hasattr(module, "to_q") and hasattr(module, "to_k") and hasattr(module, "heads")):
        return None
    if getattr(module, "add_k_proj", None) is not None:
        return _ObserveJoint if type(inner).__name__.startswith("JointAttnProcessor") else None
    if getattr(module, "is_cross_attention", False) and hasattr(module, "get_attention_scores"):
        return _ObserveCross
    return None


def _tokens(pipe: Any, prompt: str, count: int) -> list[str] | None:
    """Token strings of ``prompt`` as the pipeline pads them (CLIP: ``model_max_length``, 77;
    SD3: then ``tokenizer_3``'s T5 tokens up to ``count``)."""
    strings: list[str] = []
    for name in ("tokenizer", "tokenizer_3"):
        tok = getattr(pipe, name, None)
        if tok is None or len(strings) >= count:
            continue
        length = tok.model_max_length if not strings else count - len(strings)
        ids = tok(prompt, padding="max_length", max_length=length, truncation=True)["input_ids"]
        strings += tok.convert_ids_to_tokens(ids)
    return strings if len(strings) == count else None


@contextmanager
def record_diffusion(target: Any, *, resolution: int | None = None, average_steps: bool = True,
                     prompt: str | None = None,
                     batch_index: int | None = None) -> Iterator[DiffusionRecording]:
    """Record the cross-attention of ``target`` (a diffusers pipeline with ``.unet`` or
    ``.transformer``, or such a model) while the block runs.

    ``resolution``: keep only the layers whose grid has that many rows (also saves their
    compute); by default every layer is kept and the grid with most layers is chosen at the
    end. ``average_steps``: keep a running sum per layer instead of every step. ``prompt``
    (with a pipeline): fill ``tokens``. ``batch_index``: the batch row to keep (default: the
    first conditional row, see the module docstring).
    """
    import torch

    pipe = None
    model = target
    for attr in ("unet", "transformer"):
        if getattr(target, attr, None) is not None:
            pipe, model = target, getattr(target, attr)
            break
    if not isinstance(model, torch.nn.Module):
        raise TypeError("record_diffusion: expected a diffusers pipeline (.unet or "
                        f".transformer) or its model, not {type(target).__name__}")
    rec = DiffusionRecording(resolution=resolution, average_steps=average_steps,
                             batch_index=batch_index)
    layers = [(name, module, kind) for name, module in model.named_modules()
              if getattr(module, "processor", None) is not None
              and hasattr(module, "set_processor") and (kind := _kind(module)) is not None]
    if not layers:
        raise ValueError(f"record_diffusion: {type(model).__name__} has no cross-attention "
                         "layer this recorder knows (classic attn2 or SD3 joint attention)")

    def on_call(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        sample = args[0] if args else kwargs.get("sample", kwargs.get("hidden_states"))
        try:
            cfg = None if pipe is None else bool(pipe.do_classifier_free_guidance)
        except AttributeError:  # no such property, or called outside the pipeline's run
            cfg = None
        rec._begin_step(sample, cfg)

    saved: list[tuple[Any, Any]] = []
    handle = model.register_forward_pre_hook(on_call, with_kwargs=True)
    try:
        for name, module, kind in layers:
            saved.append((module, module.processor))
            module.set_processor(_wrap(kind, name, module.processor, rec))
        yield rec
    finally:
        handle.remove()
        for module, processor in reversed(saved):
            module.set_processor(processor)
    held = next(iter(rec._sums.values()), None) if average_steps else next(
        (a for step in rec._per_step for a in step.values()), None)
    if prompt is not None and pipe is not None and held is not None:
        rec.tokens = _tokens(pipe, prompt, int(held.shape[-1]))
