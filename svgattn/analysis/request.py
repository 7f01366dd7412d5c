"""What a figure asks of the analysis: the figure options that decide what is derived from
real attention (which layer and heads, how they combine, a difference, a window ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data import Attention
from .links import LinkRule


@dataclass(frozen=True)
class Request:
    """What to show of real attention (README "Real attention"): the figure options the
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

    @classmethod
    def of(cls, options: dict[str, Any], default_heads: str,
           minus: Attention | None = None) -> Request:
        """A request from validated figure options (absent ones take their defaults)."""
        names = {f for f in cls.__dataclass_fields__ if f not in ("default_heads", "minus")}
        given = {k: v for k, v in options.items() if k in names and v is not None}
        return cls(**given, default_heads=default_heads, minus=minus)
