"""The numbers behind a figure as CSV (``-o scores.csv``): the
:class:`~svgattn.layout.table.Table` a view's :meth:`~svgattn.views.base.View.numbers`
returns, its header row first.

Floats are written as Python's shortest round-trip form (the same input gives the same
bytes). Text cells hold token strings, which are untrusted: one that a spreadsheet would
run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
leading apostrophe, as OWASP advises against CSV injection; numbers are never altered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def encode_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """``rows`` as UTF-8 CSV, ``\\n`` line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA) else text
