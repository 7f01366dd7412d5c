"""Load a theme: a built-in name or a TOML path, with ``extends`` inheritance."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import ThemeError, closest, printable, quote
from ..fields import At
from ..files import check_regular, read_text
from ..limits import current
from ..resources import data_dir
from .schema import BY_NAME, KEYS, SECTIONS, find

if TYPE_CHECKING:  # pragma: no cover
    from ..views.base import View

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_THEME = "light"


@dataclass(frozen=True, eq=False)
class Theme:
    """A validated theme: lengths in points, colours as hex. Every key of svgattn's own a
    theme file sets was validated when it was loaded; the keys of a view's table
    (``[lines]``) are validated when that view draws (:meth:`with_view`) or the theme is
    checked whole (:meth:`check`), so loading a theme imports no view. A view's key the
    file does not set is its default, resolved (``em`` against this theme's
    ``font.size``) when asked for."""

    name: str
    source: str
    values: Mapping[str, Any] = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    # view keys as the file gives them, not yet validated: key -> (value, "file:line")
    pending: Mapping[str, tuple[Any, str]] = field(repr=False, default_factory=dict)
    _defaults: dict[str, Any] = field(repr=False, default_factory=dict, compare=False)

    def __getitem__(self, key: str) -> Any:
        if key in self.values:
            return self.values[key]
        if key not in self._defaults:
            found = find(key)
            if found is None:
                raise KeyError(key)
            value, where = self.pending.get(key, (found.default, f"{self.source}: {key}"))
            self._defaults[key] = found.parse(value, At(
                where if key in self.pending else f"{self.source}: {key}", ThemeError,
                echo=False, em=self.values["font.size"]))
        return self._defaults[key]

    def with_view(self, view: View) -> Theme:
        """This theme with ``view``'s keys validated and resolved (an unknown key in its
        table is an error with a close match)."""
        section = f"{view.name}."
        own = {f.name: f for f in view.theme_keys}
        values = dict(self.values)
        for key, (value, where) in self.pending.items():
            if not key.startswith(section):
                continue
            found = own.get(key)
            if found is None:
                close = closest(key, list(own))
                hint = f"did you mean '{close}'?" if close else \
                    f"the {view.name} view has no such key"
                raise ThemeError(f"{where}: unknown theme key {quote(key)}; {hint}")
            values[key] = found.parse(value, At(where, ThemeError, echo=False,
                                                em=self.values["font.size"]))
        for key, found in own.items():
            if key not in values:
                values[key] = found.parse(found.default, At(
                    f"{self.source}: {key}", ThemeError, echo=False, em=self.values["font.size"]))
        return replace(self, values=MappingProxyType(values),
                       pending={k: v for k, v in self.pending.items()
                                if not k.startswith(section)}, _defaults={})

    def check(self) -> Theme:
        """The theme validated whole: every view table it sets, each view loaded."""
        from ..views.registry import find as find_view

        checked = self
        for section in sorted({k.split(".", 1)[0] for k in self.pending}):
            view = find_view(section)
            if view is None:
                where = next(w for k, (_, w) in self.pending.items()
                             if k.startswith(f"{section}."))
                raise ThemeError(f"{where}: unknown theme table [{section}]; no view is called "
                                 f"{quote(section)}")
            checked = checked.with_view(view)
        return checked

    def replace(self, **overrides: Any) -> Theme:
        """Return a copy with keys overridden, e.g. ``theme.replace(**{"figure.width": "6in"})``.
        An unknown key is an error, never silently dropped."""
        for key in overrides:
            if find(key) is None:
                close = closest(key, list(BY_NAME))
                hint = f"did you mean '{close}'?" if close else "see the theme key table"
                raise ThemeError(f"Theme.replace: unknown theme key {quote(key)}; {hint}")
        raw = {**self.raw, **{k: v for k, (v, _) in self.pending.items()}, **overrides}
        return _finish(raw, self.name, f"{self.source} + overrides", {})


def builtin_themes() -> dict[str, Path]:
    """Built-in theme names mapped to their files, sorted by name."""
    return {p.stem: p for p in sorted(data_dir("themes").glob("*.toml"))}


def load_theme(theme: str | os.PathLike[str] | Theme | None = None) -> Theme:
    """Load a built-in theme by name (``"paper"``) or a user theme by path (relative to
    the current directory). A theme's ``extends`` is a built-in name or a file in the
    theme's own folder."""
    if isinstance(theme, Theme):
        return theme
    if theme is not None and not isinstance(theme, (str, os.PathLike)):
        raise ThemeError(f"theme: expected a built-in theme name, a path or a Theme, not "
                         f"{type(theme).__name__}; built-in themes are "
                         f"{', '.join(builtin_themes())}")
    ref: str | Path = (DEFAULT_THEME if theme is None else
                       theme if isinstance(theme, str) else Path(theme))
    top = _locate(ref, None)
    raw, lines = _load_chain(top)
    # A theme's name is its own `name`, else its file name; never its parent's name.
    own = "name" in lines and lines["name"].rsplit(":", 1)[0] == str(top)
    name = raw["name"] if own else top.stem
    return _finish(raw, str(name), str(theme or DEFAULT_THEME), lines)


def _looks_like_path(ref: str | Path) -> bool:
    text = str(ref)
    return isinstance(ref, Path) or "/" in text or "\\" in text or Path(text).suffix != ""


def _locate(ref: str | Path, base: Path | None) -> Path:
    """The file of theme ``ref``. ``base`` is the folder of the theme that names ``ref`` in
    its ``extends``: such a reference must stay inside that folder (a shared theme cannot
    make svgattn read files elsewhere)."""
    text = str(ref)
    builtins = builtin_themes()
    beside = (base if base is not None else Path.cwd()) / text
    if not _looks_like_path(ref) and text not in builtins and beside.is_file():
        ref = Path(text)  # an existing file named like a theme: say what is wrong with it
    if not _looks_like_path(ref):
        if text in builtins:
            return builtins[text].resolve()
        close = closest(text, list(builtins))
        hint = f"did you mean '{close}'? " if close else ""
        raise ThemeError(f"theme: no built-in theme {quote(text)}; {hint}built-in themes are "
                         f"{', '.join(builtins)} (or give a path to a .toml file)")
    path = Path(text)
    if base is not None:
        if path.is_absolute() or ".." in path.parts:
            raise ThemeError(f"extends: {quote(text)} must be a built-in theme or a relative "
                             "path inside the theme's folder (no absolute paths, no '..')")
        path = (base / path).resolve()
        if not path.is_relative_to(base.resolve()):
            raise ThemeError(f"extends: {quote(text)} leads outside the theme's folder")
    if path.suffix.lower() != ".toml":
        field = "extends" if base is not None else "theme"
        raise ThemeError(f"{field}: {quote(text)} is not a .toml file; a theme is a TOML file "
                         f"named .toml, or a built-in theme ({', '.join(builtins)})")
    check_regular(path, "theme", ThemeError, "spec_mb")
    return path.resolve()


def _load_chain(top: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (flat raw values, key -> 'file:line') with parents applied first. The chain
    is followed iteratively and bounded by the ``extends`` limit."""
    chain: list[tuple[Path, str, dict[str, Any]]] = []
    path: Path | None = top
    while path is not None:
        if any(path == p for p, _, _ in chain):
            names = " -> ".join(p.name for p, _, _ in (*chain, (path, "", {})))
            raise ThemeError(f"{printable(path.name, 60)}: 'extends' forms a cycle ({names}); "
                             "remove one 'extends'")
        if len(chain) >= current().extends:
            raise ThemeError(f"{quote(top.name)}: the 'extends' chain is longer than "
                             f"{current().extends} themes; "
                             f"{current().describe('extends')}")
        text = read_text(path, "theme", ThemeError)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ThemeError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
        except (RecursionError, ValueError):
            raise ThemeError(f"{path}: not a valid theme (nested too deeply or a number too "
                             "long); a theme is a few tables of keys") from None
        flat = _flatten(data, path, text)
        chain.append((path, text, flat))
        parent = flat.pop("extends", None)
        if parent is not None and not isinstance(parent, str):
            raise ThemeError(f"{path}: extends must be a theme name or a path string")
        if parent is None:
            break
        try:
            path = _locate(parent, path.parent)
        except ThemeError as exc:
            raise ThemeError(f"{printable(path.name, 60)}: {exc}") from None
    raw: dict[str, Any] = {}
    where: dict[str, str] = {}
    for path, text, flat in reversed(chain):
        for key, value in flat.items():
            location = f"{path}:{_line_of(text, key)}"
            found = BY_NAME.get(key)
            if found is not None:  # a view's keys wait for the view (Theme.with_view)
                found.parse(value, At(f"{location}: {key}", ThemeError, echo=False))
            raw[key] = value
            where[key] = location
    return raw, where


def _flatten(data: Mapping[str, Any], path: Path, text: str) -> dict[str, Any]:
    """``{"colors": {"text": ...}}`` -> ``{"colors.text": ...}``; unknown keys are errors.
    Iterative: dotted keys can nest a table thousands deep without recursion."""
    flat: dict[str, Any] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    while stack:
        prefix, table = stack.pop(0)
        for key, value in table.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and not prefix and _is_table(name):
                stack.append((name + ".", value))
            elif name == "extends" or name in BY_NAME or (
                    "." in name and _is_view_table(name.split(".", 1)[0])):
                flat[name] = value
            else:
                close = closest(name, [*BY_NAME, "extends"])
                hint = (f"did you mean '{close}'?" if close
                        else "see the theme key table in the docs (docs/themes.md)")
                raise ThemeError(f"{path}:{_line_of(text, name)}: unknown theme key "
                                 f"{quote(name)}; {hint}")
    return flat


def _is_table(name: str) -> bool:
    """A theme table: svgattn's own (``[colors]``) or a view's (``[lines]``: svgattn's own
    by file name, a plug-in's by its entry point; no view is imported)."""
    return name in SECTIONS or _is_view_table(name)


def _is_view_table(name: str) -> bool:
    from ..views.registry import builtin_names, plugin_names

    return name.isidentifier() and (name in builtin_names() or name in plugin_names())


def _line_of(text: str, dotted: str) -> int:
    """Best-effort line number of a key (TOML parsers do not report positions)."""
    return _key_lines(text).get(dotted.rsplit(".", 1)[-1], 1)


_KEY_LINE = re.compile(r'^\s*(?:[\w."]*\.)?"?([\w-]+)"?\s*=')


@lru_cache(maxsize=8)
def _key_lines(text: str) -> dict[str, int]:
    """The first line of each key name in a theme file, found in one pass."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        found = _KEY_LINE.match(line)
        if found:
            lines.setdefault(found.group(1), number)
    return lines


def _finish(raw: Mapping[str, Any], name: str, source: str, where: Mapping[str, str]) -> Theme:
    """Resolve every key svgattn reads and every view key the theme sets, ``em`` lengths
    against the theme's own ``font.size``."""
    merged = {key.name: key.default for key in KEYS}
    merged.update({k: v for k, v in raw.items() if k in BY_NAME})
    pending = {k: (v, f"{where[k]}: {k}" if k in where else f"{source}: {k}")
               for k, v in raw.items() if k not in BY_NAME}

    def at(key: str, em: float) -> At:
        return At(f"{where[key]}: {key}" if key in where else f"{source}: {key}", ThemeError,
                  echo=False, em=em)

    size = BY_NAME["font.size"]
    base = size.parse(merged["font.size"], at("font.size", 10.0))
    values = {key: BY_NAME[key].parse(value, at(key, base)) for key, value in merged.items()}
    return Theme(name=name, source=source, values=MappingProxyType(values),
                 raw=MappingProxyType(dict(merged)), pending=MappingProxyType(pending))
