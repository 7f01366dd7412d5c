"""Load a theme: a built-in name or a TOML path, with ``extends`` inheritance."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ThemeError
from ..resources import data_dir
from .schema import BY_NAME, KEYS
from .validate import check_raw, resolve

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_THEME = "light"


@dataclass(frozen=True)
class Theme:
    """A validated theme: every schema key present, lengths in points, colours as hex."""

    name: str
    source: str
    values: Mapping[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def replace(self, **overrides: Any) -> Theme:
        """Return a copy with keys overridden, e.g. ``theme.replace(**{"figure.width": "6in"})``."""
        raw = {**_raw_of(self), **overrides}
        return _finish(raw, self.name, f"{self.source} + overrides", {})


def builtin_themes() -> dict[str, Path]:
    """Built-in theme names mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(data_dir("themes").glob("*.toml"))}


def load_theme(theme: str | Path | Theme | None = None) -> Theme:
    """Load a built-in theme by name (``"paper"``) or a user theme by path."""
    if isinstance(theme, Theme):
        return theme
    ref = theme if theme is not None else DEFAULT_THEME
    raw, lines = _load_chain(ref, ())
    top = str(_locate(ref, None).resolve())
    # A theme's name is its own `name`, else its file name; never its parent's name.
    own = "name" in lines and lines["name"].rsplit(":", 1)[0] == top
    name = raw["name"] if own else Path(str(ref)).stem
    return _finish(raw, str(name), str(theme or DEFAULT_THEME), lines)


def _locate(ref: str | Path, base: Path | None) -> Path:
    text = str(ref)
    builtins = builtin_themes()
    if text in builtins:
        return builtins[text]
    looks_like_path = isinstance(ref, Path) or "/" in text or "\\" in text or text.endswith(".toml")
    if looks_like_path:
        path = Path(text)
        if not path.is_absolute() and base is not None and not path.exists():
            path = base / path
        if path.is_file():
            return path
        raise ThemeError(f"theme: file {text} does not exist; give a path to a .toml theme or"
                         f" one of {', '.join(builtins)}")
    close = difflib.get_close_matches(text, list(builtins), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ThemeError(f"theme: no built-in theme '{text}'; {hint}built-in themes are "
                     f"{', '.join(builtins)} (or give a path to a .toml file)")


def _load_chain(ref: str | Path, seen: tuple[Path, ...],
                base: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (flat raw values, key -> 'file:line') with parents applied first."""
    path = _locate(ref, base).resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ThemeError(f"{path}: 'extends' forms a cycle ({chain}); remove one 'extends'")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ThemeError(f"{path}: not UTF-8 text (byte {exc.start}); save the theme as UTF-8"
                         ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    flat = _flatten(data, path, text)
    parent = flat.pop("extends", None)
    raw: dict[str, Any] = {}
    where: dict[str, str] = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise ThemeError(f"{path}: extends must be a theme name or a path string")
        raw, where = _load_chain(parent, (*seen, path), path.parent)
    for key, value in flat.items():
        location = f"{path}:{_line_of(text, key)}"
        check_raw(BY_NAME[key], value, f"{location}: {key}")
        raw[key] = value
        where[key] = location
    return raw, where


def _flatten(data: Mapping[str, Any], path: Path, text: str, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path, text, name + "."))
        elif name in BY_NAME or name == "extends":
            flat[name] = value
        else:
            close = difflib.get_close_matches(name, [*BY_NAME, "extends"], n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "see the theme key table in README"
            raise ThemeError(f"{path}:{_line_of(text, name)}: unknown theme key '{name}'; {hint}")
    return flat


def _line_of(text: str, dotted: str) -> int:
    """Best-effort line number of a key (TOML parsers do not report positions)."""
    leaf = re.escape(dotted.rsplit(".", 1)[-1])
    pattern = re.compile(rf"^\s*(?:[\w.\"]*\.)?\"?{leaf}\"?\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


def _finish(raw: Mapping[str, Any], name: str, source: str, where: Mapping[str, str]) -> Theme:
    merged = {key.name: raw.get(key.name, key.default) for key in KEYS}

    def at(key: str) -> str:
        return f"{where[key]}: {key}" if key in where else f"{source}: {key}"

    base = resolve(BY_NAME["font.size"], merged["font.size"], at("font.size"), em=10.0)
    values = {key.name: resolve(key, merged[key.name], at(key.name), em=base) for key in KEYS}
    values["_raw"] = MappingProxyType(dict(merged))
    return Theme(name=name, source=source, values=MappingProxyType(values))


def _raw_of(theme: Theme) -> dict[str, Any]:
    return dict(theme.values["_raw"])
