"""Hugging Face model outputs: ``outputs.attentions`` (a tuple over layers of
``[batch, heads, query, key]``), and encoder-decoder outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Attention, make_attention, to_numpy
from ..errors import SpecError

KINDS = {"self": "attentions", "encoder": "encoder_attentions",
         "decoder": "decoder_attentions", "cross": "cross_attentions"}
EAGER_HINT = ("load the model with attn_implementation=\"eager\" and call it with "
              "output_attentions=True (sdpa and flash attention return no weights)")


def _field(outputs: Any, name: str) -> Any:
    if isinstance(outputs, dict):
        return outputs.get(name)
    return getattr(outputs, name, None)


def _keep(mask: Any, batch_index: int, n: int, what: str) -> np.ndarray:
    if mask is None:
        return np.ones(n, dtype=bool)
    row = to_numpy(mask)
    row = row[batch_index] if row.ndim == 2 else row
    if row.shape != (n,):
        raise SpecError(f"huggingface: {what}: has {row.shape[-1]} positions but the "
                        f"attention has {n}; pass the mask of the same batch")
    return row > 0


def from_huggingface(outputs: Any, tokens: Sequence[str] | None = None, *,
                     kind: str = "self", tokenizer: Any = None, input_ids: Any = None,
                     attention_mask: Any = None, key_tokens: Sequence[str] | None = None,
                     decoder_input_ids: Any = None, decoder_attention_mask: Any = None,
                     batch_index: int | None = None) -> Attention:
    """Attention from a model output.

    ``kind``: ``self`` (``outputs.attentions``), ``encoder``, ``decoder`` or ``cross``
    (queries are decoder tokens, keys encoder tokens). Tokens come from ``tokens`` (and
    ``key_tokens`` for cross-attention) or from ``tokenizer`` + ``input_ids`` (and
    ``decoder_input_ids``). ``attention_mask`` (and ``decoder_attention_mask``) drop
    padding positions from the matrix.
    """
    if kind not in KINDS:
        raise SpecError(f"huggingface: kind: {kind!r} is not one of {', '.join(KINDS)}")
    # Accept the model output, or the attentions tuple itself (outputs.attentions).
    layers = outputs if isinstance(outputs, (tuple, list)) else _field(outputs, KINDS[kind])
    if layers is None or len(layers) == 0:
        raise SpecError(f"huggingface: outputs.{KINDS[kind]} is empty; {EAGER_HINT}")
    per_layer = []
    for i, layer in enumerate(layers):
        if layer is None:
            raise SpecError(f"huggingface: outputs.{KINDS[kind]}[{i}] is None; {EAGER_HINT}")
        array = to_numpy(layer)
        if array.ndim != 4:
            raise SpecError(f"huggingface: outputs.{KINDS[kind]}[{i}]: has shape {array.shape};"
                            " each layer must be [batch, heads, query, key]")
        per_layer.append(array)
    batch = per_layer[0].shape[0]
    if batch_index is None:
        if batch > 1:
            raise SpecError(f"huggingface: batch_index: the outputs hold a batch of {batch} "
                            "inputs; choose one with batch_index=0 (or another)")
        batch_index = 0
    if isinstance(batch_index, bool) or not isinstance(batch_index, (int, np.integer)):
        raise SpecError("huggingface: batch_index: expected a whole number")
    if not -batch <= batch_index < batch:
        raise SpecError(f"huggingface: batch_index: {batch_index} is out of range for a batch "
                        f"of {batch}")
    weights = np.stack([a[batch_index] for a in per_layer])  # [layers, heads, q, k]

    def from_ids(ids: Any, what: str) -> list[str]:
        if tokenizer is None or ids is None:
            raise SpecError(f"huggingface: tokens: give tokens=[...] or tokenizer= and {what}=")
        row = to_numpy(ids).astype(np.int64)
        row = row[batch_index] if row.ndim == 2 else row
        return [str(t) for t in tokenizer.convert_ids_to_tokens(row.tolist())]

    encoder_ids_tokens = list(tokens) if tokens is not None else None
    if kind == "cross":
        queries = encoder_ids_tokens if encoder_ids_tokens is not None else from_ids(
            decoder_input_ids, "decoder_input_ids")
        keys = list(key_tokens) if key_tokens is not None else from_ids(input_ids, "input_ids")
        q_keep = _keep(decoder_attention_mask, batch_index, weights.shape[2],
                       "decoder_attention_mask")
        k_keep = _keep(attention_mask, batch_index, weights.shape[3], "attention_mask")
    else:
        ids, mask, what = ((decoder_input_ids, decoder_attention_mask, "decoder_input_ids")
                           if kind == "decoder" else (input_ids, attention_mask, "input_ids"))
        queries = encoder_ids_tokens if encoder_ids_tokens is not None else from_ids(ids, what)
        keys = queries
        q_keep = k_keep = _keep(mask, batch_index, weights.shape[2],
                                "decoder_attention_mask" if kind == "decoder"
                                else "attention_mask")
    if len(queries) != weights.shape[2] or len(keys) != weights.shape[3]:
        raise SpecError(f"huggingface: tokens: {len(queries)} query and {len(keys)} key tokens "
                        f"for attention of shape {weights.shape[2:]}; pass the tokens of this "
                        "input (same tokenizer, same batch element)")
    weights = weights[:, :, q_keep][:, :, :, k_keep]
    queries = [t for t, keep in zip(queries, q_keep, strict=True) if keep]
    keys = [t for t, keep in zip(keys, k_keep, strict=True) if keep]
    return make_attention(weights, queries, keys, source=f"huggingface {kind} attention")
