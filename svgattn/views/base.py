"""The view abstraction: what a picture declares and the one method that places it.

A view is a :class:`View` subclass: its name (``--view NAME``, ``view=``, ``view = "..."``
in a spec), a one-line summary, the options only it takes (:class:`~svgattn.fields.Field`
records: each becomes a command-line flag, a keyword argument and a spec key, validated in
one place), the common options it reads (``reads``: any other one given is an error), the
theme keys only it reads (in its own table: ``lines.gap``), and :meth:`View.layout`, which
places what the analysis derived (:class:`~svgattn.analysis.figure.FigureData`) into a
:class:`~svgattn.layout.frame.Body` and says the words of its caption. The framework
does the rest, for every view alike: the title, the caption mode, fitting the requested
width (or refusing it in one line), margins, tooltips and the CSV of its numbers.
svgattn's own views are modules of this package decorated with
:func:`svgattn.views.registry.register`; other packages register theirs in the
``svgattn.views`` entry-point group (docs: "Writing a view").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..fields import Field

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.figure import FigureData
    from ..layout.context import Context
    from ..layout.frame import Body
    from ..layout.table import Table


class View:
    """Base class of every view."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[Field, ...]] = ()  # the view's own options
    # The common options (svgattn.options.COMMON) the view reads, besides the framework's
    # (title, show_title, caption): any other one given is an error naming the view.
    reads: ClassVar[tuple[str, ...]] = ()
    # What to do instead of an option the view does not read (for its error message).
    hints: ClassVar[Mapping[str, str]] = {}
    theme_keys: ClassVar[tuple[Field, ...]] = ()
    default_heads: ClassVar[str] = "focused"  # focused: the few most focused heads; all
    signed: ClassVar[bool] = True  # can draw a difference (diverging colours)
    many_inputs: ClassVar[bool] = False  # summarises several inputs (FigureData.more)
    # several inputs of one length are averaged position by position before it draws them
    # (svgattn.analysis.average): its FigureData is their mean
    averages: ClassVar[bool] = False
    vectors: ClassVar[bool] = False  # reads query and key vectors (FigureData.vectors)
    # scores self-attention only: a model run of cross-attention is refused before it runs
    square: ClassVar[bool] = False
    # draws the matrix cell by cell: an input of more tokens than a figure can show
    # (svgattn.analysis.reduce.DISPLAY) is max-pooled as it is computed, unless --pool is
    # given (the caption says so)
    fits: ClassVar[bool] = False
    # draws over a grid of image patches: its input must have one (Attention.patches)
    pictures: ClassVar[bool] = False

    def check(self, options: Mapping[str, Any]) -> str | None:
        """Why ``options`` (the options given, validated, before defaults) cannot go
        together for this view (``None``: they can). Options it does not read at all are
        refused before this is asked."""
        return None

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        """Place ``data`` in a body at most ``width`` points wide, margins included
        (``None``: the view's natural size), with ``ctx``'s theme and measured text and
        the figure's options ``opts`` (every option the view reads, defaults applied).
        The body carries the caption's words; the framework frames it."""
        raise NotImplementedError

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table | None:
        """The numbers the figure draws, for ``-o FILE.csv``
        (:class:`~svgattn.layout.table.Table`); ``None``: this view has no such table."""
        return None
