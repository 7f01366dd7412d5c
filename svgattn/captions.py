"""Caption lines, and which of them a short caption keeps.

A figure's caption says where its picture comes from (which heads, how combined) and what
its colours mean, then notes (which heads were chosen, how labels were thinned ...). A
short caption (the paper theme's, or ``caption = "short"``) keeps the lines marked
:class:`Essential`; ``caption = "none"`` keeps none.
"""

from __future__ import annotations

from collections.abc import Sequence

MODES = ("full", "short", "none")


class Essential(str):
    """A caption line a short caption keeps, in its ``short`` form when it has one."""

    short: str

    def __new__(cls, text: str, short: str | None = None) -> Essential:
        line = super().__new__(cls, text)
        line.short = text if short is None else short
        return line


def kept(lines: Sequence[str], mode: str) -> list[str]:
    """The lines of ``lines`` a caption in ``mode`` shows."""
    if mode == "none":
        return []
    if mode == "full":
        return [line for line in lines if line]
    return [line.short for line in lines if isinstance(line, Essential) and line.short]


def number(value: float) -> str:
    """A value for a caption: 3 significant figures, whole with thousands separated from
    1,000 on (not 1.09e+03)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it takes: "1 head", "12 heads", "3 queries"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
