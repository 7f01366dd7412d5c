"""Explicit figures: the matrix and the heads given by hand (spec files, and
``Diagram(tokens, weights, heads)``), validated into the analysis' input.

Both the Python API and spec files go through :func:`explicit`, so they share one set of
checks and one error family. Errors name the field, the place (file or API argument)
and the fix. Tokens are kept exactly as given: heads name them by their raw strings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..colours import color as _color
from ..data import (
    Explicit,
    ExplicitHead,
    check_magnitude,
    check_text,
    to_numpy,
    token_strings,
)
from ..errors import SpecError, closest, printable, quote


@dataclass(frozen=True)
class Head:
    """One attention head in the flow view.

    Give either ``tokens`` (the tokens it connects to, by string or index) or ``weights``
    (its own query x key attention, from which the connections are derived).
    """

    name: str
    tokens: Sequence[str | int] | None = None
    weights: Any = None
    color: str | None = None


def check_vmax(value: Any, field: str) -> float:
    """A colour-scale maximum: a finite number no smaller than the smallest normal float
    (a subnormal would overflow every weight divided by it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise SpecError(f"{field}: {quote(value)} is not a number; give the weight drawn in the "
                        "strongest colour, e.g. 0.3")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or number < np.finfo(np.float64).tiny:
        raise SpecError(f"{field}: {number:g} must be a finite positive number (the weight drawn"
                        " in the strongest colour, e.g. 0.3)")
    return number


def _fail(where: str, field: str, message: str) -> SpecError:
    return SpecError(f"{where}: {field}: {message}")


def _tokens(value: Any, where: str, field: str) -> tuple[str, ...]:
    """The raw token strings (matching uses these; labels are made from them for display)."""
    return token_strings(value, f"{where}: {field}")


def _no_booleans(value: Any, where: str, field: str) -> None:
    """Refuse ``true``/``false`` mixed into nested lists of numbers: numpy would read them
    as 1 and 0 and draw them without a word."""
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, (list, tuple)):
            for i, sub in enumerate(item):
                if isinstance(sub, bool):
                    raise _fail(where, f"{at}[{i}]", f"is {str(sub).lower()}; weights are numbers "
                                "(write 1 or 0)")
            # depth first, in order: the first offending cell is the one reported
            stack.extend((sub, f"{at}[{i}]") for i, sub in reversed(list(enumerate(item)))
                         if isinstance(sub, (list, tuple)))


def _matrix(value: Any, where: str, field: str, shape: tuple[int, int]) -> np.ndarray:
    _no_booleans(value, where, field)
    array = to_numpy(value, f"{where}: {field}").astype(np.float64)
    if array.ndim != 2:
        raise _fail(where, field, f"has {array.ndim} dimension(s); expected a 2-D matrix "
                    f"of {shape[0]} rows (query tokens) x {shape[1]} columns (key tokens)")
    if array.shape != shape:
        raise _fail(where, field, f"is {array.shape[0]}x{array.shape[1]} but there are "
                    f"{shape[0]} query and {shape[1]} key tokens; make the shape "
                    f"{shape[0]}x{shape[1]} (rows are queries)")
    bad = ~np.isfinite(array)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise _fail(where, f"{field}[{r}][{c}]", f"is {array[r, c]}; weights must be finite "
                    "numbers (replace NaN/inf, e.g. with 0)")
    if (array < 0).any():
        r, c = map(int, np.argwhere(array < 0)[0])
        raise _fail(where, f"{field}[{r}][{c}]", f"is {array[r, c]:g}; weights must be >= 0 "
                    "(pass attention probabilities, not logits)")
    check_magnitude(array, f"{where}: {field}", terms=max(shape))
    array.setflags(write=False)
    return array


def _resolve_token(ref: Any, tokens: tuple[str, ...], where: str, field: str) -> int:
    if isinstance(ref, bool) or not isinstance(ref, (int, str, np.integer)):
        raise _fail(where, field, f"{quote(ref)} is neither a token string nor an index")
    if not isinstance(ref, str):
        if not 0 <= int(ref) < len(tokens):
            raise _fail(where, field, f"index {ref} is out of range; tokens are numbered 0.."
                        f"{len(tokens) - 1}")
        return int(ref)
    hits = [i for i, t in enumerate(tokens) if t == ref]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise _fail(where, field, f"token {quote(ref)} occurs {len(hits)} times (at "
                    f"{hits[:8]}); name it by index instead")
    lowered = {t.lower(): t for t in reversed(tokens)}
    close = closest(ref.lower(), list(lowered))
    hint = f"did you mean {quote(lowered[close])}? " if close else ""
    raise _fail(where, field, f"{quote(ref)} is not one of the tokens; {hint}tokens are "
                f"{', '.join(quote(t, 16) for t in tokens[:8])}{' ...' if len(tokens) > 8 else ''}")


def explicit(*, tokens: Any = None, weights: Any = None,
             heads: Sequence[Head | Mapping[str, Any] | str] = (), query_tokens: Any = None,
             key_tokens: Any = None, where: str = "Diagram") -> Explicit:
    """Validate a figure given by hand."""
    if tokens is not None and (query_tokens is not None or key_tokens is not None):
        raise _fail(where, "tokens", "give either tokens or query_tokens + key_tokens, not both")
    if tokens is not None:
        q = k = _tokens(tokens, where, "tokens")
    elif query_tokens is not None and key_tokens is not None:
        q = _tokens(query_tokens, where, "query_tokens")
        k = _tokens(key_tokens, where, "key_tokens")
    else:
        raise _fail(where, "tokens", "missing; give tokens = [...] (or query_tokens and "
                    "key_tokens for cross-attention)")
    if weights is None:
        raise _fail(where, "weights", f"missing; give a {len(q)}x{len(k)} matrix (rows are "
                    "query tokens, columns key tokens)")
    matrix = _matrix(weights, where, "weights", (len(q), len(k)))
    if isinstance(heads, (str, bytes, Mapping)) or not isinstance(heads, Sequence):
        raise _fail(where, "heads", "expected a list of heads ([[heads]] tables in TOML, a "
                    "list of objects in JSON), each with a name")
    out: list[ExplicitHead] = []
    seen: dict[str, int] = {}
    for i, head in enumerate(heads):
        field = f"heads[{i}]"
        if isinstance(head, Mapping):
            unknown = set(head) - {"name", "tokens", "weights", "color"}
            if unknown:
                bad = sorted(unknown)[0]
                close = closest(bad, ["name", "tokens", "weights", "color"])
                hint = (f"did you mean '{close}'?" if close
                        else "allowed: name, tokens, weights, color")
                raise _fail(where, f"{field}.{printable(bad, 40)}", f"unknown key; {hint}")
            if "name" not in head:
                raise _fail(where, f"{field}.name", "missing; give each head a name, e.g. "
                            'name = "Head 0"')
            head = Head(**head)
        elif isinstance(head, str):
            head = Head(name=head)
        elif not isinstance(head, Head):
            raise _fail(where, field, "expected a Head, a table with a name, or a name")
        check_text(head.name, f"{where}: {field}.name")
        if not head.name.strip():
            raise _fail(where, f"{field}.name", "is empty; give each head a name")
        name = head.name
        if name in seen:
            raise _fail(where, f"{field}.name", f"{quote(name)} is also heads[{seen[name]}]; "
                        "give each head a unique name")
        seen[name] = i
        col = (None if head.color is None
               else _color(head.color, f"{where}: {field}.color", SpecError))
        if head.tokens is not None and head.weights is not None:
            raise _fail(where, field, "give either tokens or weights, not both")
        own = None
        linked: tuple[int, ...] | None
        if head.tokens is not None:
            if isinstance(head.tokens, (str, bytes)) or not isinstance(head.tokens, Sequence):
                raise _fail(where, f"{field}.tokens", "expected a list of tokens or indices")
            linked = tuple(sorted({_resolve_token(t, q, where, f"{field}.tokens[{j}]")
                                   for j, t in enumerate(head.tokens)}))
        elif head.weights is not None:
            own = _matrix(head.weights, where, f"{field}.weights", (len(q), len(k)))
            linked = None
        else:
            linked = ()
        out.append(ExplicitHead(name, linked, own, col))
    return Explicit(q, k, matrix, tuple(out))
