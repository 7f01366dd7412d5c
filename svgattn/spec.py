"""Spec files: TOML or JSON, one schema. See README "Spec files"."""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .errors import SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SPEC_KEYS = ("title", "theme", "width", "tokens", "query_tokens", "key_tokens", "weights",
             "vmax", "heads", "groups")


def read_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a spec file into a dict with only known keys; ``theme`` paths become absolute
    (relative to the spec file)."""
    path = Path(path)
    where = path.name
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file; give the path of a .toml or .json spec")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{where}: not UTF-8 text (byte {exc.start}); save the spec as UTF-8"
                        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text, parse_constant=_reject_constant)
        else:
            raise SpecError(f"{where}: unknown spec format '{suffix}'; name the file .toml or "
                            ".json")
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML ({exc}); fix the syntax") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                        f"{exc.colno}); fix the syntax") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a table/object of keys")
    for key in data:
        if key not in SPEC_KEYS:
            close = difflib.get_close_matches(key, SPEC_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(SPEC_KEYS)}"
            raise SpecError(f"{where}: {key}: unknown spec key; {hint}")
    theme = data.get("theme")
    if isinstance(theme, str) and (theme.endswith(".toml") or "/" in theme):
        candidate = path.parent / theme
        if candidate.is_file():
            data["theme"] = str(candidate)
    return data


def _reject_constant(name: str) -> float:
    # JSON has no NaN/Infinity; Python's parser accepts them, so they are caught later
    # with the field name (weights must be finite).
    return float(name.lower().replace("infinity", "inf"))
