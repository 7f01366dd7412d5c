"""What a figure asks of the analysis: the figure options that decide what is derived from
real attention (which layer and heads, how they combine, a difference, a window ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..data import Attention
from .links import LinkRule
from .select import index_of, parse_selection


@dataclass(frozen=True)
class Request:
    """What to show of real attention (docs: "Real attention"): the figure options the
    analysis reads."""

    layer: object = None
    heads: object = None
    layers: object = None
    combine: str = "mean"
    links: LinkRule | None = None
    keep_sinks: bool = False
    hide_special: bool = False
    merge_words: bool = False
    leading_space: str = "hide"
    groups: bool = True
    title: str | None = None
    caption: str | None = None  # full, short, none, or the user's own first line
    default_heads: str = "focused"
    minus: Attention | None = None
    minus_layer: object = None
    minus_head: object = None
    window: object = None
    pool: object = None
    fit: bool = False  # the view draws the matrix: pool an input longer than it can show

    @classmethod
    def of(cls, options: dict[str, Any], default_heads: str,
           minus: Attention | None = None, *, fit: bool = False) -> Request:
        """A request from validated figure options (absent ones take their defaults);
        ``fit``: the view draws the matrix (and reads ``pool``)."""
        names = {f for f in cls.__dataclass_fields__
                 if f not in ("default_heads", "minus", "fit")}
        given = {k: v for k, v in options.items() if k in names and v is not None}
        return cls(**given, default_heads=default_heads, minus=minus, fit=fit)


def model_layers(options: Mapping[str, Any], count: int,
                 uses_layers: bool) -> tuple[tuple[int, ...], dict[str, Any]]:
    """The layers of a ``count``-layer model a figure draws from (its ``layer``, the layers
    a rollout multiplies, ``minus_layer``, and ``layers`` for a view that draws several),
    and the options with those references written as names ("L20"), which the captured
    layers keep: only these are kept as the model runs."""
    names = [f"L{i}" for i in range(count)]
    chosen = None
    if uses_layers:
        chosen = parse_selection(options.get("layers"), names, "layers", "model")
        chosen = list(range(count)) if chosen is None else chosen
    # the default layer: the last drawn (a grid of layers 17-20 runs the model to 20, not 30)
    layer = (max(chosen) if chosen else count - 1) if options.get("layer") is None else \
        index_of(options["layer"], names, "layer", "model")
    needed = set(range(layer + 1)) if options.get("combine") == "rollout" else {layer}
    out = dict(options)
    if options.get("layer") is not None:  # else the last layer kept: the one meant
        out["layer"] = names[layer]
    if options.get("minus_layer") is not None:
        minus = index_of(options["minus_layer"], names, "minus_layer", "model")
        needed.add(minus)
        out["minus_layer"] = names[minus]
    if chosen is not None:
        needed.update(chosen)
        out["layers"] = ",".join(names[i] for i in chosen)
    return tuple(sorted(needed)), out
