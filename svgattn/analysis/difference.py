"""Differences: the matrix subtracted in a difference figure (``minus``, ``minus_layer``,
``minus_head``) and the words the caption uses for it. Which colour means "less" is the
colour scale's to say (:mod:`svgattn.analysis.scale`): the map is the user's choice."""

from __future__ import annotations

import numpy as np

from ..data import Attention
from ..errors import SpecError
from . import tokens as tok
from .combine import combined_rows, rollout
from .reduce import Read
from .request import Request
from .select import index_of


class Subtrahend:
    """The same selection in another attention over the same input (another checkpoint),
    another layer, or another head of the same layer."""

    def __init__(self, att: Attention, request: Request, prepared: tok.Prepared, layer: int,
                 heads: list[int], where: str) -> None:
        self.att, self.request, self.layer, self.heads, self.where = (att, request, layer,
                                                                      heads, where)
        minus = request.minus
        if minus is not None:
            if minus.query_tokens != att.query_tokens or minus.key_tokens != att.key_tokens:
                raise SpecError(f"{where}: minus: {minus.source} has other tokens; a difference "
                                "needs attention over the same input")
            if minus.shape[:2] != att.shape[:2]:
                raise SpecError(f"{where}: minus: {minus.source} has {minus.shape[0]} layers x "
                                f"{minus.shape[1]} heads, this one {att.shape[0]} x "
                                f"{att.shape[1]}")
            self.weights = tok.prepare(minus.weights, list(minus.query_tokens),
                                       list(minus.key_tokens), request.hide_special,
                                       request.merge_words, request.leading_space,
                                       where).weights
        else:
            self.weights = prepared.weights

    def subtracted_from(self, read: Read | np.ndarray, width: int) -> Read:
        """Rows of ``read`` (``width`` keys) minus the same rows of the matrix to subtract,
        a block of rows at a time."""
        other = self._rows()
        mine = _reader(read)

        def difference(start: int, stop: int) -> np.ndarray:
            theirs = other(start, stop)
            if theirs.shape[-1] != width:
                raise SpecError(f"{self.where}: minus: the other matrix has {theirs.shape[-1]} "
                                f"keys, this one {width}; compare attention over the same "
                                "tokens")
            return np.asarray(mine(start, stop), dtype=np.float64) - theirs
        return difference

    def _rows(self) -> Read:
        r, w, how = self.request, self.weights, self.request.combine
        if r.minus is not None:
            if how == "rollout":
                return _reader(rollout(w[: self.layer + 1][:, self.heads]))
            return combined_rows(w[self.layer], how, self.heads)
        if r.minus_head is not None:
            if r.minus_layer is not None:
                raise SpecError(f"{self.where}: minus: give minus_head or minus_layer, not both")
            h = index_of(r.minus_head, self.att.head_names, "heads", f"{self.where}: minus_head")
            head = w[self.layer, h]
            return lambda a, b: np.asarray(head[a:b], dtype=np.float64)
        other = self.att.layer_index(r.minus_layer)
        if how == "rollout":
            return _reader(rollout(w[: other + 1][:, self.heads]))
        return combined_rows(w[other], how, self.heads)

    def caption(self) -> str:
        r, att = self.request, self.att
        if r.minus is not None:
            return f"minus the same in {r.minus.source}"
        if r.minus_head is not None:
            head = index_of(r.minus_head, att.head_names, "heads", "minus_head")
            return f"minus head {att.head_names[head]}"
        return f"minus layer {att.layer_names[att.layer_index(r.minus_layer)]}"


def _reader(matrix: Read | np.ndarray) -> Read:
    """Rows of a matrix already made, as a :data:`Read`."""
    if isinstance(matrix, np.ndarray):
        return lambda a, b: matrix[a:b]
    return matrix
