"""Size limits, checked before any large allocation.

Inputs are untrusted: a 1 KB ``.npy`` can claim a 75 GB shape, a 400 KB ``.npz`` can
inflate to gigabytes, a spec can nest ten thousand levels deep. Every reader checks the
limit that applies *before* it reads, allocates or measures, and the error names the
limit and how to raise it:

- command line: ``--limit tokens=5000`` (repeatable);
- environment: ``SVGATTN_LIMITS="tokens=5000,file_mb=512"``;
- Python: ``with svgattn.limits.override(tokens=5000): ...``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

from .errors import SpecError

DOCS = {
    "file_mb": "bytes of one array read whole (an `.npz`'s arrays; a compressed one inflated): a "
               "long float attention array in a `.npy`, or stored uncompressed in an `.npz` "
               "(`np.savez`), is read a block at a time and not bounded by this",
    "spec_mb": "bytes of one spec or theme file (a figure given by hand; about 1,400 tokens "
               "of weights; long attention belongs in `.npz`)",
    "tokens": "query or key tokens of one figure (a matrix draws at most 4,096 cells a side: "
              "a longer input is max-pooled)",
    "token_chars": "characters of one token, head name or title (labels are shortened to "
                   "`text.max_label_chars`)",
    "cells": "weights held at once: an attention array read whole; for attention read a "
             "block at a time (a long `.npy`, a model run), every head pooled to 4,096 a "
             "side, or a model's q and k and the matrix drawn",
    "model_gb": "bytes of a model's weights on disk (a `.gguf` file, or a folder's "
                "`.safetensors` files), and the memory its config describes in float32",
    "megapixels": "pixels of one PNG written, or of one picture read (checked from its "
                  "header, before a pixel is decoded)",
    "depth": "nesting of a spec file",
    "extends": "length of a theme's `extends` chain",
}


class Limits(NamedTuple):
    """Upper bounds on what one figure may be made from (the docs' limit table is
    generated from these fields and :data:`DOCS`)."""

    file_mb: float = 1024.0
    spec_mb: float = 16.0
    tokens: int = 32768
    token_chars: int = 1000
    cells: int = 100_000_000
    model_gb: float = 16.0
    megapixels: float = 100.0
    depth: int = 32
    extends: int = 16

    def describe(self, name: str) -> str:
        """How to raise limit ``name`` (for error messages)."""
        return (f"raise it with --limit {name}=N (or SVGATTN_LIMITS={name}=N, "
                f"or svgattn.limits.override({name}=N))")


NAMES = Limits._fields
_current: ContextVar[Limits | None] = ContextVar("svgattn_limits", default=None)


def parse(text: str, where: str = "--limit") -> dict[str, float]:
    """``"tokens=5000,file_mb=512"`` -> ``{"tokens": 5000, "file_mb": 512.0}``."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in NAMES:
            raise SpecError(f"{where}: {part[:40]!r} is not NAME=VALUE with NAME one of "
                            f"{', '.join(NAMES)}")
        out[name] = _number(name, value.strip(), where)
    return out


def _number(name: str, value: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number < 1e15:
        raise SpecError(f"{where}: {name}={value[:20]!r}: give a positive number")
    return number


def _from_env() -> Limits:
    text = os.environ.get("SVGATTN_LIMITS", "")
    return _apply(Limits(), parse(text, "SVGATTN_LIMITS")) if text.strip() else Limits()


def _apply(base: Limits, changes: dict[str, float]) -> Limits:
    typed: dict[str, Any] = {k: (int(v) if isinstance(getattr(base, k), int) else float(v))
                             for k, v in changes.items()}
    return base._replace(**typed)


def current() -> Limits:
    """The limits in force: an :func:`override`, else ``SVGATTN_LIMITS``, else defaults."""
    found = _current.get()
    return found if found is not None else _from_env()


@contextlib.contextmanager
def override(**changes: float) -> Iterator[Limits]:
    """Raise (or lower) limits inside a ``with`` block: ``override(tokens=5000)``."""
    unknown = sorted(set(changes) - set(NAMES))
    if unknown:
        raise SpecError(f"limits: unknown limit {unknown[0]!r}; limits are {', '.join(NAMES)}")
    for name, value in changes.items():
        _number(name, str(value), "limits")
    token = _current.set(_apply(current(), dict(changes)))
    try:
        yield current()
    finally:
        _current.reset(token)


def file_bytes(name: str = "file_mb") -> int:
    """The byte limit ``name`` (``file_mb`` for arrays, ``spec_mb`` for specs and themes)."""
    return int(getattr(current(), name) * 1024 * 1024)


def check_tokens(count: int, where: str) -> None:
    limit = current().tokens
    if count > limit:
        raise SpecError(f"{where}: {count} tokens exceed the limit of {limit}; "
                        f"{current().describe('tokens')}")


def check_cells(count: int, where: str) -> None:
    limit = current().cells
    if count > limit:
        raise SpecError(f"{where}: {count:,} weights exceed the limit of {limit:,}; select "
                        f"fewer layers or tokens, or {current().describe('cells')}")


def table() -> str:
    """Markdown table of the limits (generated into the docs)."""
    rows = ["| limit | default | what it bounds |", "|---|---|---|"]
    for name in NAMES:
        value = Limits._field_defaults[name]
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        rows.append(f"| `{name}` | {shown} | {DOCS[name]} |")
    return "\n".join(rows)
