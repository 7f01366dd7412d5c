"""Where a figure's settings and options are validated, once, and defaults applied.

- Figure-level settings (view, theme, width, text mode, dpi, prefix, format) are
  :class:`~svgattn.fields.Field` records too (:data:`SETTINGS`), read into a
  :class:`Settings` by :func:`settings`.
- :func:`parse` reads a figure's options for its view: the framework's (title,
  show_title, caption), the common options the view ``reads`` and its own; anything else
  is a one-line error naming the view and what to do instead.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import SpecError, closest, quote
from .export import FORMATS
from .fields import At, Field, Kind, choice, number, width
from .options import BY_NAME, FRAME
from .theme import Theme, load_theme
from .views.registry import builtin_names, get

if TYPE_CHECKING:  # pragma: no cover
    from .views.base import View


def schema(view: View) -> dict[str, Field]:
    """Every option ``view`` takes: the framework's, the common ones it reads, its own."""
    out = {n: BY_NAME[n] for n in (*FRAME, *view.reads) if n in BY_NAME}
    for own in view.options:
        if own.name in BY_NAME and BY_NAME[own.name] != own:
            raise SpecError(f"view: {quote(view.name)} declares the option {quote(own.name)}, "
                            "which svgattn already has; rename it (or list it in reads)")
        out[own.name] = own
    return out


def parse(view: View, given: Mapping[str, Any], at: At, *,
          explicit: bool = False) -> dict[str, Any]:
    """The options of a figure of ``view``: each given value validated (``None``: not
    given), every option the view reads not given set to its default, once, here. An
    option the view does not read, an unknown one, or one that needs real attention in a
    figure given by hand (``explicit``) is a one-line error naming the view and the fix."""
    takes = schema(view)
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        field = takes.get(name)
        if field is None:
            raise at.error(f"{_where(at)}{quote(name) if name not in BY_NAME else name}: "
                           f"{_not_read(view, name)}")
        if explicit and field.real_only:
            raise at.error(f"{_where(at)}{name}: applies to real attention (.npz/.npy files "
                           "and models), not to a matrix given by hand; drop it")
        values[name] = field.parse(value, at.at(f": {name}") if at.field
                                   else At(name, at.error, at.echo, at.text, at.em))
    why = view.check(values)
    if why:  # options that cannot go together for this view
        raise at.error(f"{_where(at)}{why}")
    return {**{n: f.default for n, f in takes.items()}, **values}


def check_keys(view: View, keys: Sequence[str], spec_keys: Sequence[str], where: str) -> None:
    """Every key of a spec is a key of the spec format or an option (of some view: which
    view reads it is :func:`parse`'s to say); else an error with a close match."""
    known = [*spec_keys, *BY_NAME, *schema(view)]
    for key in keys:
        if key not in known and not _owners(key):
            close = closest(key, known)
            hint = f"did you mean '{close}'?" if close else \
                "see the spec keys in the docs (docs/specs.md)"
            raise SpecError(f"{where}: {quote(key)}: unknown spec key; {hint}")


def _where(at: At) -> str:
    return f"{at.field}: " if at.field else ""


def _not_read(view: View, name: str) -> str:
    """Why ``view`` refuses option ``name``, and what to do instead."""
    hint = view.hints.get(name)
    if name in BY_NAME:
        return (f"the {view.name} view does not read it; "
                f"{hint or _readers(name) or 'drop it or choose another view'}")
    owners = _owners(name)
    if owners:
        return (f"an option of the {_names(owners)} view{'s' if len(owners) > 1 else ''}, not "
                f"of {view.name}; drop it or choose --view {owners[0]}")
    known = [*BY_NAME, *(o.name for o in view.options)]
    close = closest(name, known)
    return ("unknown option; " + (f"did you mean '{close}'?" if close else
                                  "see svgattn render --help"))


def _readers(name: str) -> str:
    """'it is read by the matrix and flow views' (svgattn's own views: no plug-in is
    imported to say so)."""
    users = [n for n in builtin_names() if name in get(n).reads]
    return f"drop it (the {_names(users)} view{'s' if len(users) > 1 else ''} read it)" \
        if users else ""


def _owners(name: str) -> list[str]:
    return [n for n in builtin_names() if any(o.name == name for o in get(n).options)]


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- figure-level settings ----------------------------------------------------------------
MIN_WIDTH, MAX_WIDTH = 36.0, 7200.0  # 0.5in .. 100in
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def view_name() -> Kind:
    def check(value: Any, at: At) -> str:
        return get(value).name  # an unknown view: the views listed, a close match
    return Kind("view name", check)


def theme_ref() -> Kind:
    """A built-in theme's name, a ``.toml`` path, or a loaded :class:`~svgattn.theme.Theme`
    (validated whole when it loads)."""
    def check(value: Any, at: At) -> Any:
        return load_theme(value)
    return Kind("theme name or path", check)


def figure_width() -> Kind:
    """A figure width between 0.5in and 100in: a length, a venue, or ``auto`` (the
    view's natural size)."""
    any_width = width(0.0, math.inf)

    def check(value: Any, at: At) -> float | str:
        found = any_width.check(value, at)
        if found != "auto" and not MIN_WIDTH <= found <= MAX_WIDTH:
            raise at.fail(f"{at.shown(value)}is {found:g}bp; give a width between 0.5in and "
                          "100in")
        return found
    return Kind("length, venue or `auto`", check)


def id_prefix() -> Kind:
    def check(value: Any, at: At) -> str:
        if not isinstance(value, str) or not _PREFIX.match(value):
            raise at.fail(f"{quote(value)} must be a lower-case letter followed by up to 30 "
                          "letters, digits or '-'")
        return value
    return Kind("id prefix", check)


SETTINGS: tuple[Field, ...] = (
    Field("view", view_name(), "flow", "The picture (svgattn views lists them).",
          metavar="NAME"),
    Field("theme", theme_ref(), None, "Built-in theme name (svgattn themes) or a .toml path."),
    Field("width", figure_width(), None, "Figure width: a length (6.5in, 16cm, a pasted "
          "\\the\\columnwidth such as 229.5pt), a venue (icml, neurips, acl, ieee, cvpr, "
          "article ...) or auto; default: the theme's figure.width."),
    Field("text", choice("native", "paths"), None, "native: editable <text>; paths: "
          "outlines, identical in every renderer (default: the theme's text.mode)."),
    Field("dpi", number(10, 4800), 300.0, "PNG resolution in dots per inch (300 for print)."),
    Field("prefix", id_prefix(), None, "Prefix of the figure's ids and classes (default: "
          "derived from its content)."),
    Field("format", choice(*FORMATS), None, "Output format "
          "(default: from the file name's suffix)."),
)
SETTING = {f.name: f for f in SETTINGS}


class Settings(NamedTuple):
    """A figure's settings, validated: the view's name, the theme (loaded), the width in
    points or ``auto`` (``None``: the theme's), the text mode (``None``: the theme's), the
    PNG resolution, the id prefix and the output format."""

    theme: Theme
    view: str = "flow"
    width: float | str | None = None
    text: str | None = None
    dpi: float = 300.0
    prefix: str | None = None
    format: str | None = None


def settings(given: Mapping[str, Any], at: At) -> Settings:
    """Validate figure-level settings (``None``: not given, the default)."""
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name not in SETTING:
            raise at.error(f"{_where(at)}{quote(name)}: not a figure setting; settings are "
                           f"{', '.join(SETTING)}")
        if isinstance(value, os.PathLike) and name == "theme":
            value = os.fspath(value)
        values[name] = SETTING[name].parse(value, at.at(f": {name}") if at.field
                                           else At(name, at.error, at.echo, at.text))
    if "theme" not in values:
        values["theme"] = load_theme(None)
    return Settings(**values)
