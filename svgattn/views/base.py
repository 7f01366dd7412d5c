"""The view abstraction.

A view is a :class:`View` subclass: its name (``--view NAME``, ``view=``, ``view = "..."``
in a spec), a one-line summary, the options only it takes (:class:`~svgattn.fields.Field`
records: each becomes a command-line flag, a keyword argument and a spec key, validated in
one place), the theme keys only it reads (in its own table: ``lines.gap``), and
``layout``, which places what the analysis derived (:class:`~svgattn.analysis.figure.
FigureData`) into a :class:`~svgattn.scene.Scene`. svgattn's own views are modules of
this package decorated with :func:`svgattn.views.registry.register`; other packages register
theirs in the ``svgattn.views`` entry-point group (README "Writing a view").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..fields import Field

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.figure import FigureData
    from ..layout.context import Context
    from ..scene import Scene


class View:
    """Base class of every view."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Field, ...]] = ()
    theme_keys: ClassVar[tuple[Field, ...]] = ()
    default_heads: ClassVar[str] = "focused"  # focused: the few most focused heads; all
    signed: ClassVar[bool] = True  # can draw a difference (diverging colours)
    many_inputs: ClassVar[bool] = False  # summarises several inputs (FigureData.more)
    vectors: ClassVar[bool] = False  # reads query and key vectors (FigureData.vectors)
    # options every view is offered but this one does not use: giving one is an error
    unused: ClassVar[Mapping[str, str]] = {}  # option -> what to do instead

    def refuse(self, options: Mapping[str, Any]) -> str | None:
        """Why ``options`` hold one this view would ignore (``None``: they do not)."""
        for name, hint in self.unused.items():
            if options.get(name) is not None:
                return (f"{name}: the {self.name} view does not use it; "
                        f"{hint or 'drop it or choose another view'}")
        return None

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Scene:
        """Place ``data`` in a scene ``width`` points wide (``None``: the view's natural
        size), with ``ctx``'s theme and measured text and the figure's options ``opts``."""
        raise NotImplementedError

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> list[list[object]] | None:
        """The numbers the figure shows, a header row first, for ``-o FILE.csv``
        (:mod:`svgattn.render.table`); ``None``: this view has no such table."""
        return None
