"""The numbers a figure draws, as a view hands them to the CSV writer
(:mod:`svgattn.render.table`): a header row, then one row per cell, line, token or head."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.figure import FigureData


@dataclass(frozen=True, eq=False)
class Table:
    """``header`` and ``rows`` (numbers as Python floats and ints, names as strings).
    ``note`` says what the figure did to the numbers before drawing them (a window, a
    pooling, a thinning); it goes into the first header cell, so a table is never taken
    for the whole input when it is not (``query (mean over 8 x 8 token blocks)``)."""

    header: Sequence[str]
    rows: Iterable[Sequence[object]]  # read once, as the CSV is written (a generator may do)
    note: str = ""
    noted: int = 0  # the header cell the note is added to

    def lines(self) -> Iterator[Sequence[object]]:
        """The header (with the note), then the rows, as the CSV writes them."""
        head: list[object] = list(self.header)
        if self.note and head:
            head[self.noted] = f"{head[self.noted]} ({self.note})"
        yield head
        yield from self.rows


def reduction(data: FigureData) -> str:
    """What a figure did to its tokens before drawing them, in a few words (``tokens
    128–255 of 512; mean over 8 x 8 token blocks``); empty when it shows them all."""
    parts = []
    q, k = data.query_spans, data.key_spans
    nq, nk = data.total
    if q and k and ((q[0][0], q[-1][1]) != (0, nq or q[-1][1]) or
                    (k[0][0], k[-1][1]) != (0, nk or k[-1][1])):
        parts.append(f"tokens {q[0][0]}\u2013{q[-1][1] - 1} of {nq}"
                     if (q[0], q[-1]) == (k[0], k[-1]) else
                     f"queries {q[0][0]}\u2013{q[-1][1] - 1} of {nq}, keys "
                     f"{k[0][0]}\u2013{k[-1][1] - 1} of {nk}")
    if data.inputs > 1:
        parts.append(f"mean over {data.inputs} inputs, position by position")
    method, size = data.pooling
    if size > 1:
        parts.append(f"{method} over {size} x {size} token blocks")
    return "; ".join(parts)


def wide(data: FigureData, matrix: np.ndarray, *, first: Sequence[tuple[str, object]] = (),
         note: str = "") -> Table:
    """A matrix as drawn, wide: the header ``query`` and the key labels, then a row per
    query, its label and its weights; ``first``: (column, value) pairs before ``query`` in
    every row (``head``, ``H3``)."""
    header = [name for name, _ in first] + ["query", *data.key_labels]
    lead = [value for _, value in first]
    rows = ([*lead, label, *row.tolist()]
            for label, row in zip(data.query_labels, np.asarray(matrix, dtype=np.float64),
                                  strict=True))
    return Table(header, rows, note or reduction(data), noted=len(first))
