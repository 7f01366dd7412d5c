"""The view abstraction.

A view is one module in ``svgattn/views/`` holding a :class:`View` subclass decorated
with :func:`register`: its name (``--view NAME``, ``view=``, ``view = "..."`` in a spec),
the options only it takes (each becomes a command-line flag, a keyword argument and a
spec key, validated in one place), the theme keys only it reads, and ``layout``, which
turns the analysed :class:`~svgattn.analysis.figure.FigureData` into a
:class:`~svgattn.scene.Scene`. Nothing else in svgattn knows a view by name: adding one
is adding its module, its tests and a gallery spec.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..analysis.figure import FigureData
from ..errors import SpecError, closest, quote
from ..layout.context import Context
from ..options import Option
from ..scene import Scene
from ..theme.schema import Key


class View:
    """Base class of the views (subclass it and decorate it with :func:`register`)."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()
    theme_keys: ClassVar[tuple[Key, ...]] = ()
    default_heads: ClassVar[str] = "focused"  # focused: a few most focused heads; all
    # options this view ignores silently when given (shared analysis options it has no use
    # for are errors otherwise, so nothing is quietly dropped)
    signed: ClassVar[bool] = True  # draws a difference (diverging colours)

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        raise NotImplementedError


REGISTRY: dict[str, View] = {}


def register(cls: type[View]) -> type[View]:
    """Class decorator: make ``cls`` available by its ``name``."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"view name {cls.name!r} is empty or taken")
    REGISTRY[cls.name] = cls()
    return cls


_loaded = False


def load_all() -> dict[str, View]:
    """Import every module of ``svgattn.views`` (so each registers itself)."""
    global _loaded
    if not _loaded:
        package = importlib.import_module("svgattn.views")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name != "base":
                importlib.import_module(f"svgattn.views.{info.name}")
        _loaded = True
    return REGISTRY


def get(name: object) -> View:
    views = load_all()
    if not isinstance(name, str) or name not in views:
        close = closest(str(name), list(views))
        hint = f"did you mean '{close}'? " if close else ""
        raise SpecError(f"view: {quote(name)} is not a view; {hint}views are "
                        f"{', '.join(sorted(views))}")
    return views[name]


@dataclass(frozen=True)
class ViewInfo:
    name: str
    summary: str


def describe() -> list[ViewInfo]:
    return [ViewInfo(v.name, v.summary) for _, v in sorted(load_all().items())]
