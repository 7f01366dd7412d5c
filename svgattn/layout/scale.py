"""A figure's colour scale: the theme's colour maps and colours with the figure's colour
options (``colormap``, ``vmin``, ``vmax``, ``norm``, ``gamma``), made by the analysis
(:func:`svgattn.analysis.scale.scale_for`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..analysis.scale import ColourScale, Settings, scale_for
from .context import Context


def colour_scale(ctx: Context, values: object, *, signed: bool = False,
                 sinks: Sequence[int] = (), opts: Mapping[str, Any] | None = None,
                 binary: bool = True) -> ColourScale:
    """The colour scale of ``values`` for a view drawn with ``ctx`` and options ``opts``."""
    o = opts or {}
    name = o.get("colormap")
    settings = Settings(colormap=name or ctx.value("colors.colormap"),  # type: ignore[arg-type]
                        diverging=name or ctx.value("colors.diverging"),  # type: ignore[arg-type]
                        high=str(ctx.value("colors.cell_high")),
                        low=str(ctx.value("colors.cell_low")), vmin=o.get("vmin"),
                        vmax=o.get("vmax"), norm=str(o.get("norm") or "linear"),
                        gamma=float(o.get("gamma") or 0.5))
    return scale_for(np.asarray(values), settings, signed=signed, sinks=sinks, binary=binary)
