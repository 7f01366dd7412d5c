"""Attention from what :func:`svgattn.record` kept of an open model: the layers recorded,
the tokens given or read back from the ids the model was called with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Attention, make_attention, with_vectors
from ..errors import SpecError
from .recorder import ROLES, Recording

_IDS = {"self": "input_ids", "encoder": "input_ids", "decoder": "decoder_input_ids"}


def attention_of(recording: Any, tokens: Sequence[str] | Sequence[Sequence[str]] | None = None,
                 tokenizer: Any = None, role: str = "self",
                 batch_index: int | None = None) -> Attention:
    """The recorded attention of ``role`` (``self``; an encoder-decoder's ``encoder``,
    ``decoder`` or ``cross``) for input ``batch_index`` of the batch. Tokens: ``tokens``
    (for cross-attention, a pair: the decoder's tokens, then the encoder's), or
    ``tokenizer`` with the ids the model was called with."""
    if hasattr(recording, "lens_attention"):  # a TransformerLens model's recording
        return recording.lens_attention(tokens, batch_index)
    if not isinstance(recording, Recording):
        raise SpecError(f"record: expected what `with svgattn.record(model) as rec` gives, not "
                        f"{type(recording).__name__}")
    if role not in ROLES:
        raise SpecError(f"attention: {role!r} is not one of {', '.join(ROLES)}")
    batch = recording.batch()
    if batch_index is None:
        if batch > 1:
            raise SpecError(f"record: batch_index: the model ran a batch of {batch} inputs; "
                            "choose one with batch_index=0 (or another)")
        batch_index = 0
    source, layers = recording.vectors(role, batch_index)
    n_q, n_k = source.shape[2:]
    queries, keys = _tokens(recording, tokens, tokenizer, role, batch_index, (n_q, n_k))
    from ..blocks import Lazy, position_biased

    att = make_attention(Lazy(source), queries, keys, layer_names=[f"L{i}" for i in layers],
                         source=f"recorded {type(recording.model).__name__}")
    if position_biased(source):  # T5: q.k alone is not the attention
        return att
    return with_vectors(att, np.stack(source.queries), np.stack(source.keys),
                        list(source.scaling))


def model_layer(figure: dict[str, Any]) -> dict[str, Any]:
    """A recording's layers are named by the model's numbers (``L20``): a whole number
    ``layer`` (0 or more) or a list of them in ``layers`` means those, not positions among
    the layers recorded."""
    out = dict(figure)
    layer = out.get("layer")
    if isinstance(layer, int) and not isinstance(layer, bool) and layer >= 0:
        out["layer"] = f"L{layer}"
    layers = out.get("layers")
    if isinstance(layers, (list, tuple)) and layers and all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in layers):
        out["layers"] = ",".join(f"L{i}" for i in layers)
    return out


def _tokens(rec: Recording, tokens: Any, tokenizer: Any, role: str, batch: int,
            shape: tuple[int, int]) -> tuple[list[str], list[str]]:
    """(query tokens, key tokens) of the recorded rows and columns."""
    if tokens is not None:
        if role == "cross":
            if len(tokens) != 2 or isinstance(tokens[0], str):
                raise SpecError("tokens: cross-attention has two token lists: give tokens=("
                                "decoder tokens, encoder tokens)")
            found = (list(tokens[0]), list(tokens[1]))
        else:
            found = (list(tokens), list(tokens))
    elif tokenizer is not None:
        query_ids = rec.inputs.get("decoder_input_ids" if role == "cross" else _IDS[role])
        key_ids = rec.inputs.get(_IDS["encoder" if role == "cross" else role])
        if query_ids is None or key_ids is None:
            raise SpecError("tokenizer: the ids of these tokens were not given to the model "
                            "(inputs_embeds, or decoder ids it made from labels); give "
                            "tokens=[...] (for cross-attention: tokens=(decoder tokens, "
                            "encoder tokens))")
        found = (_strings(tokenizer, query_ids[batch]), _strings(tokenizer, key_ids[batch]))
    else:
        raise SpecError("record: tokens: give tokens=[...] or tokenizer= (the model's)")
    if (len(found[0]), len(found[1])) != shape:
        raise SpecError(f"tokens: {len(found[0])} query and {len(found[1])} key tokens for "
                        f"recorded attention of {shape[0]} x {shape[1]}; give the tokens of "
                        "the input the model ran on (a generation's last token has no row)")
    return found


def _strings(tokenizer: Any, ids: Any) -> list[str]:
    return [str(t) for t in tokenizer.convert_ids_to_tokens(
        np.asarray(ids).reshape(-1).tolist())]
