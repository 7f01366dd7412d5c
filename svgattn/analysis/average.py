"""Several inputs of one length averaged position by position (the matrix and grid views:
StreamingLLM's sink maps are attention averaged over many prompts of one length).

Each input is analysed on its own first (the same heads and layers, its own sinks); the
mean is taken cell by cell. When the inputs' tokens differ, a row or column is a position,
not a token, and the labels say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..errors import SpecError
from .figure import FigureData, HeadData, frozen


def averaged(inputs: Sequence[FigureData], where: str) -> FigureData:
    """The position-by-position mean of ``inputs`` (one length, the same heads)."""
    first = inputs[0]
    shapes = sorted({d.matrix.shape for d in inputs})
    if len(shapes) > 1:
        lengths = ", ".join(f"{q} x {k}" for q, k in shapes[:4])
        raise SpecError(f"{where}: inputs: {len(inputs)} inputs of different lengths "
                        f"({lengths}); averaging is position by position: give inputs of one "
                        "length (cut or pad the prompts), or use the heads or profile view, "
                        "which average per-head scores")
    if any(d.stack_layers != first.stack_layers or d.stack_heads != first.stack_heads
           for d in inputs):
        raise SpecError(f"{where}: inputs: the inputs have different layers or heads; give "
                        "attention of one model")
    count = len(inputs)
    matrix = sum((np.asarray(d.matrix, dtype=np.float64) for d in inputs[1:]),
                 np.asarray(first.matrix, dtype=np.float64)) / count

    def stack_of(r: int, c: int) -> np.ndarray:
        return sum((np.asarray(d.stack_of(r, c), dtype=np.float64) for d in inputs[1:]),
                   np.asarray(first.stack_of(r, c), dtype=np.float64)) / count

    def head(k: int) -> HeadData:
        def make() -> np.ndarray:
            found = [d.heads[k].weights for d in inputs]
            return frozen(sum((np.asarray(w, dtype=np.float64) for w in found[1:]),
                              np.asarray(found[0], dtype=np.float64)) / count, owned=True)
        return HeadData(first.heads[k].name, first.heads[k].color, layer=first.heads[k].layer,
                        make=make)

    same = all(d.query_tokens == first.query_tokens and d.key_tokens == first.key_tokens
               for d in inputs)
    rows, cols = first.matrix.shape
    said = f"mean over {count} inputs of {rows} tokens" if rows == cols else \
        f"mean over {count} inputs of {rows} query and {cols} key tokens"
    if not same:  # a row is a position, not a token
        first = replace(first, query_tokens=tuple(str(i) for i in range(rows)),
                        key_tokens=tuple(str(i) for i in range(cols)),
                        query_labels=tuple(str(i) for i in range(rows)),
                        key_labels=tuple(str(i) for i in range(cols)), key_spaced=())
    note = f"{said[:1].upper()}{said[1:]}, position by position" + (
        "" if same else " (their tokens differ: rows and columns are positions)")
    sinks = set(first.sinks).intersection(*(d.sinks for d in inputs[1:]))
    return replace(first, matrix=frozen(matrix, owned=True), stack_of=stack_of,
                   heads=tuple(head(k) for k in range(len(first.heads))), groups=(),
                   sinks=tuple(sorted(sinks)), causal=all(d.causal for d in inputs),
                   matrix_caption=f"{first.matrix_caption}; {said}",
                   short_caption=f"{first.short_caption}; {said}" if first.short_caption
                   else "", notes=(*first.notes, note), more=(), vectors=None,
                   patches=None, generated=(None, None), inputs=count)
