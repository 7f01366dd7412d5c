"""Views by name: svgattn's own (a module ``svgattn/views/NAME.py`` each) and those of other
installed packages (the ``svgattn.views`` entry-point group: ``bars = mypkg.bars:Bars``,
a :class:`~svgattn.views.View` subclass).

Nothing else imports a view module: this finds and loads views when they are named, so
drawing a matrix imports the matrix view only, and loading a theme imports the views
whose tables (``[lines]``) it sets, nothing else. Entry points are looked at only for a
name that is not built in, or to list every view (reading installed packages' metadata
costs tens of milliseconds).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import SpecError, SvgattnWarning, closest, printable, quote

if TYPE_CHECKING:  # pragma: no cover
    from ..fields import Field
    from .base import View

GROUP = "svgattn.views"
_views: dict[str, View] = {}


def register(cls: type[View]) -> type[View]:
    """Class decorator of svgattn's own views: make ``cls`` available by its ``name``."""
    _add(cls, f"svgattn.views.{cls.name}")
    return cls


def _add(cls: Any, origin: str) -> View:
    from .base import View

    if not isinstance(cls, type) or not issubclass(cls, View):
        raise SpecError(f"view: {printable(origin, 80)} is not a svgattn.views.View subclass; "
                        "an entry point of the svgattn.views group must name one")
    name = cls.name
    if not isinstance(name, str) or not name.isidentifier() or not name.islower():
        raise SpecError(f"view: {printable(origin, 80)} has the name {quote(name)}; a view's "
                        "name is a lower-case identifier")
    if name in _views and type(_views[name]) is not cls:
        raise SpecError(f"view: {quote(name)} is declared twice (by {printable(origin, 80)} "
                        "too); rename one")
    from ..options import BY_NAME

    unknown = [r for r in cls.reads if r not in BY_NAME]
    if unknown:
        raise SpecError(f"view: {quote(name)} reads {quote(unknown[0])}, which is not a common "
                        "option; list svgattn.options.COMMON names in reads, and declare the "
                        "view's own options in options")
    for field in cls.theme_keys:
        if not field.name.startswith(f"{name}."):
            raise SpecError(f"view: {quote(name)}: its theme key {quote(field.name)} must be "
                            f"in its own table ({name}.*)")
    _views.setdefault(name, cls())
    return _views[name]


@lru_cache(maxsize=1)
def builtin_names() -> tuple[str, ...]:
    """svgattn's own views, from the file names in ``svgattn/views`` (nothing imported)."""
    spec = importlib.util.find_spec("svgattn.views")
    assert spec is not None and spec.submodule_search_locations is not None
    return tuple(sorted(m.name for m in pkgutil.iter_modules(spec.submodule_search_locations)
                        if m.name not in ("base", "registry") and not m.name.startswith("_")))


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def plugin_names() -> tuple[str, ...]:
    """The views other installed packages declare (reads installed packages' metadata)."""
    return tuple(sorted(_entry_points()))


def find(name: str) -> View | None:
    """The view called ``name``, loaded if need be; ``None`` when there is none."""
    if name in _views:
        return _views[name]
    if name in builtin_names():
        importlib.import_module(f"svgattn.views.{name}")
        return _views.get(name)
    point = _entry_points().get(name)
    if point is None:
        return None
    try:
        loaded = point.load()
    except Exception as exc:  # a broken plug-in: say which, never crash the command
        raise SpecError(f"view: the plug-in {quote(name)} ({printable(point.value, 80)}) does "
                        f"not load ({type(exc).__name__}: {printable(str(exc), 120)}); "
                        "reinstall or remove it") from None
    view = _add(loaded, point.value)
    if view.name != name:
        raise SpecError(f"view: the entry point {quote(name)} names a view called "
                        f"{quote(view.name)}; the two names must agree")
    return view


def get(name: object) -> View:
    """The view called ``name``, or a one-line error listing the views."""
    found = find(name) if isinstance(name, str) else None
    if found is None:
        names = sorted(load_all())
        close = closest(str(name), names)
        hint = f"did you mean '{close}'? " if close else ""
        raise SpecError(f"view: {quote(name)} is not a view; {hint}views are {', '.join(names)}")
    return found


def load_all() -> dict[str, View]:
    """Every view: svgattn's own and every installed plug-in's, by name. A plug-in that
    does not load is left out with a warning (asking for it by name is the error)."""
    for name in builtin_names():
        find(name)
    for name in _entry_points():
        try:
            find(name)
        except SpecError as exc:
            if name not in _broken:
                _broken.add(name)
                warnings.warn(SvgattnWarning(f"{exc}; it is left out"), stacklevel=2)
    return dict(sorted(_views.items()))


_broken: set[str] = set()


def theme_field(key: str) -> Field | None:
    """The field of a view's theme key (``lines.gap``), loading that view; ``None`` when
    no view declares it."""
    section = key.split(".", 1)[0]
    if not section.isidentifier():
        return None
    try:
        view = find(section)
    except SpecError:
        return None
    if view is None:
        return None
    return next((f for f in view.theme_keys if f.name == key), None)
