"""Fields: one record for every setting a user can give svgattn.

A figure option (``focus``: the flag ``--focus``, the spec key ``focus``, the keyword
``focus=``) and a theme key (``colors.text``) are the same thing: a :class:`Field` with a
name, a :class:`Kind` (what it holds: a validator function and a name for the docs), a
default and a one-line help. The command line, spec files, the API, theme files and the
docs' tables all come from these records; views declare their own fields in their
module.

A validator gets the value and an :class:`At` (where the value comes from, for its
messages) and returns the value normalised (lengths in points, colours as ``#rrggbb``)
or raises a one-line error naming the place, the field and the fix. Values from theme
files are never echoed (a shared theme is not the user's own text).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .errors import SpecError, SvgattnError, quote

_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")
_MAP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:+-]{0,63}$")


class At(NamedTuple):
    """Where a value comes from. ``field`` names it in messages (``spec.json: focus``,
    ``theme.toml:3: colors.text``); ``error`` is the exception raised; ``echo`` whether
    the value may be quoted back; ``text`` whether it is a flag's text (numbers are then
    read from it); ``em`` the type size that ``em`` lengths are relative to."""

    field: str
    error: type[SvgattnError] = SpecError
    echo: bool = True
    text: bool = False
    em: float = 10.0

    def fail(self, message: str) -> SvgattnError:
        return self.error(f"{self.field}: {message}")

    def shown(self, value: Any) -> str:
        """``value`` quoted for a message, followed by a space; nothing when not echoed."""
        return f"{quote(value)} " if self.echo else ""

    def at(self, suffix: str) -> At:
        return self._replace(field=f"{self.field}{suffix}")


Check = Callable[[Any, At], Any]


class Kind(NamedTuple):
    """What a field holds: its name in the docs, its validator, its choices (if it is
    one of a few words) and how a command-line flag gives it (``value``: the flag's text
    goes through the validator; ``switch``: the flag alone means true)."""

    name: str
    check: Check
    choices: tuple[str, ...] = ()
    flag: str = "value"


class Field(NamedTuple):
    """One setting: a figure option or a theme key."""

    name: str
    kind: Kind
    default: Any
    help: str
    group: str = "figure"  # the command line's help section
    metavar: str | None = None
    real_only: bool = False  # needs real attention (layers, heads), not a matrix by hand

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def section(self) -> str:
        """A theme key's table (``lines`` for ``lines.gap``)."""
        return self.name.split(".", 1)[0]

    def parse(self, value: Any, at: At) -> Any:
        """``value`` validated and normalised (``None`` stays ``None``: not given)."""
        return None if value is None else self.kind.check(value, at)


# --- kinds ----------------------------------------------------------------------------
def boolean() -> Kind:
    def check(value: Any, at: At) -> bool:
        if isinstance(value, bool):
            return value
        raise at.fail(f"expected true or false, not {quote(value)}" if at.echo
                      else "expected true or false")
    return Kind("true/false", check, flag="switch")


def choice(*options: str) -> Kind:
    def check(value: Any, at: At) -> str:
        if value not in options:
            raise at.fail(f"{at.shown(value)}is not one of {', '.join(options)}")
        return str(value)
    return Kind("one of", check, choices=options)


def number(lo: float | None = None, hi: float | None = None, *, whole: bool = False) -> Kind:
    """A finite number in [``lo``, ``hi``]; ``whole``: an integer. A string is a number
    only on the command line (a spec's ``vmax = "0.5"`` is a mistake, not a number)."""
    what = "a whole number" if whole else "a number"

    def check(value: Any, at: At) -> float | int:
        if isinstance(value, str):
            if not at.text:
                raise at.fail(f"{at.shown(value)}is a string; write {what} without quotes"
                              if at.echo else "expected a finite number")
            try:
                value = int(value) if whole else float(value)
            except ValueError:
                raise at.fail(f"{at.shown(value)}is not {what}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise at.fail(f"{at.shown(value)}is not {what}" if at.echo
                          else "expected a finite number")
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise at.fail(f"{x:g} must be a finite number" if at.echo
                          else "expected a finite number")
        if whole and x != int(x):
            raise at.fail(f"{x:g} must be a whole number")
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            if not at.echo:
                raise at.fail(f"must lie in [{lo:g}, {hi:g}]")
            span = f"from {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
            raise at.fail(f"{x:g} must be {span}")
        return int(x) if whole else x
    return Kind("number", check)


def text(most: int = 1000) -> Kind:
    """A string of at most ``most`` characters (drawn text is made safe where it is
    drawn: :mod:`svgattn.text.metrics`, :mod:`svgattn.render.svg`)."""
    def check(value: Any, at: At) -> str:
        if not isinstance(value, str) or len(value) > most:
            if at.echo and isinstance(value, str):
                raise at.fail(f"longer than {most} characters; shorten it")
            raise at.fail(f"expected a string of at most {most} characters" if not at.echo
                          else f"expected a string, not {type(value).__name__}")
        return value
    return Kind("string", check)


def length(lo: float, hi: float) -> Kind:
    """A length: a number of points or a number and a unit (pt, bp, in, cm, mm, em), in
    PostScript points within [``lo``, ``hi``]."""
    def check(value: Any, at: At) -> float:
        from .units import parse_length

        try:
            points = parse_length(value, at.field, em=at.em, echo=at.echo)
        except SpecError as exc:
            raise at.error(str(exc)) from None
        return _within(points, lo, hi, at)
    return Kind("length (pt, in, cm, mm, em)", check)


def width(lo: float, hi: float) -> Kind:
    """A figure width: ``auto``, a length or a venue (``icml``, ``acl-page`` ...)."""
    def check(value: Any, at: At) -> float | str:
        from .units import parse_width

        if value == "auto":
            return "auto"
        try:
            points = parse_width(value, at.field, echo=at.echo)
        except SpecError as exc:
            raise at.error(str(exc)) from None
        return _within(points, lo, hi, at)
    return Kind("length, venue or `auto`", check)


def _within(points: float, lo: float, hi: float, at: At) -> float:
    if points < lo:
        raise at.fail(f"is {points:g}bp, below the minimum {lo:g}bp")
    if points > hi:
        raise at.fail(f"is {points:g}bp, above the maximum {hi:g}bp")
    return points


def colour(*words: str) -> Kind:
    """A colour (``#rgb``, ``#rrggbb`` or a basic name) as ``#rrggbb``, or one of
    ``words`` (``none``, ``auto``)."""
    def check(value: Any, at: At) -> str:
        from .colours import color

        if value in words:
            return str(value)
        return color(value, at.field, at.error)
    name = "colour" + "".join(f" or `{w}`" for w in words)
    return Kind(name, check)


def palette() -> Kind:
    def check(value: Any, at: At) -> tuple[str, ...]:
        return _colours(value, 1, at)
    return Kind("list of colours", check)


def _colours(value: Any, least: int, at: At) -> tuple[str, ...]:
    from .colours import color

    if not isinstance(value, list) or len(value) < least:
        raise at.fail(f"expected a list of at least {least} colours")
    return tuple(color(v, f"{at.field}[{i}]", at.error) for i, v in enumerate(value))


def colormap(stops: bool = True) -> Kind:
    """A colour-map name from the catalogue (``viridis``, ``Blues``, ``RdBu_r``: checked
    now, not when a figure is drawn) or, with ``stops``, a list of at least two colours."""
    def check(value: Any, at: At) -> str | tuple[str, ...]:
        from .colours import named_map

        if isinstance(value, str):
            if not _MAP_NAME.match(value):
                raise at.fail("is not a colour-map name (such as viridis, Blues, RdBu_r)"
                              + (" nor a list of colours" if stops else ""))
            try:
                named_map(value)
            except SpecError:
                shown = quote(value) if at.echo else "the name"
                raise at.fail(f"{shown} is not a known colour map; try viridis, cividis, "
                              "magma, Blues, Greys (sequential) or RdBu_r, PuOr (diverging)"
                              ) from None
            return value
        if not stops:
            raise at.fail("expected a colour-map name such as viridis")
        return _colours(value, 2, at)
    return Kind("colour-map name or list of >= 2 colours" if stops else "colour-map name",
                check)


def family() -> Kind:
    """Font families: a name or a list (letters, digits, spaces, ``. _ -``: they reach
    CSS and fontconfig)."""
    def check(value: Any, at: At) -> tuple[str, ...]:
        names = [value] if isinstance(value, str) else value
        if (not isinstance(names, list) or not names
                or not all(isinstance(n, str) and _FAMILY.match(n) for n in names)):
            raise at.fail("is not a font family; write a name such as 'DejaVu Sans' (letters, "
                          "digits, spaces, . _ -) or a list of them")
        return tuple(names)
    return Kind("font family (or list)", check)


# --- reading many fields at once ----------------------------------------------------------
def parse_all(values: dict[str, Any], schema: dict[str, Field], at: At,
              unknown: str = "unknown option") -> dict[str, Any]:
    """Validate every given value against ``schema``; an unknown name is an error with a
    close match."""
    from .errors import closest

    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in schema:
            close = closest(name, list(schema))
            hint = f"did you mean '{close}'?" if close else "see svgattn render --help"
            raise at.error(f"{at.field}: {quote(name)}: {unknown}; {hint}")
        out[name] = schema[name].parse(value, at.at(f": {name}") if at.field
                                       else at._replace(field=name))
    return out


def defaults(fields: Sequence[Field]) -> dict[str, Any]:
    return {f.name: f.default for f in fields}

