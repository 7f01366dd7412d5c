"""A figure's colour scale: the theme's colour maps and colours with the figure's colour
options (``colormap``, ``scale``, ``vmin``, ``vmax``, ``norm``, ``gamma``), made by the
analysis (:func:`svgattn.analysis.scale.scale_for`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.scale import ColourScale, Rows, Settings, scale_for
from ..options import BY_NAME, COLOUR
from .context import Context

LONG_CAUSAL = 128  # causal attention of this many tokens or more: colours relative to uniform


def colour_scale(ctx: Context, values: object, data: FigureData, opts: Mapping[str, Any], *,
                 binary: bool = True, rows: Rows | None = None,
                 signed: bool | None = None, attention: bool = True) -> ColourScale:
    """The colour scale of ``values`` (``data``'s matrix, its heads or its small multiples,
    whose rows are ``rows``, by default ``data``'s own) for a view drawn with ``ctx`` and
    the colour options in ``opts`` (those the view does not read: their defaults).
    Values that are not attention weights (``attention=False``: scores of heads ...) have
    no rows, masked cells or sink columns, whatever their shape.
    ``scale = "auto"`` colours long causal attention relative to uniform on a log scale,
    where a raw weight fades with the number of keys its row sees."""
    colour = {name: opts.get(name, BY_NAME[name].default) for name in COLOUR}
    name = colour["colormap"]
    v = np.asarray(values)
    if attention and rows is None and v.ndim >= 2 and v.shape[-2:] == data.matrix.shape:
        rows = data.rows()
    relative, norm = choose(data, colour) if rows is not None else (
        "weight", str(colour["norm"] or "linear"))
    settings = Settings(colormap=name or ctx.value("colors.colormap"),  # type: ignore[arg-type]
                        diverging=name or ctx.value("colors.diverging"),  # type: ignore[arg-type]
                        high=str(ctx.value("colors.cell_high")),
                        low=str(ctx.value("colors.cell_low")), vmin=colour["vmin"],
                        vmax=colour["vmax"], norm=norm, gamma=float(colour["gamma"]),
                        relative=relative, masked=str(ctx.value("colors.masked")))
    return scale_for(v, settings, signed=data.signed if signed is None else signed,
                     sinks=rows.sinks if rows is not None else data.sinks if attention else (),
                     binary=binary, rows=rows)


def choose(data: FigureData, colour: Mapping[str, Any]) -> tuple[str, str]:
    """(relative, norm) for ``data``: as asked, or by the ``auto`` rule (``norm`` unset:
    log where colours are relative to uniform, linear otherwise)."""
    asked, norm = colour["scale"], colour["norm"]
    if asked == "auto":
        long = data.causal and not data.signed and data.total[0] >= LONG_CAUSAL
        asked = "uniform" if long else "weight"
        if long and norm is None:
            norm = "log"
    return str(asked), str(norm or "linear")
