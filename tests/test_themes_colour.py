"""Built-in themes: no head wears the colour of a cell or of a colour-map end."""

from __future__ import annotations

import pytest

from svgattn import builtin_themes, load_theme
from svgattn.colours import distance, palette

MIN_DELTA_E = 20.0  # CIE76: clearly different colours side by side


@pytest.mark.parametrize("name", sorted(builtin_themes()))
def test_heads_never_wear_a_cell_colour(name):
    theme = load_theme(name)
    sequential = palette(theme["colors.colormap"])
    diverging = palette(theme["colors.diverging"])
    cells = {"cell_high": theme["colors.cell_high"], "cell_low": theme["colors.cell_low"],
             "colormap low": sequential[0], "colormap high": sequential[-1],
             "diverging low": diverging[0], "diverging high": diverging[-1]}
    for head in theme["colors.heads"]:
        for what, colour in cells.items():
            assert distance(head, colour) >= MIN_DELTA_E, (name, head, what, colour)


@pytest.mark.parametrize("name", sorted(builtin_themes()))
def test_heads_stand_out_from_the_background(name):
    theme = load_theme(name)
    if theme["colors.background"] != "none":
        for head in theme["colors.heads"]:
            assert distance(head, theme["colors.background"]) >= MIN_DELTA_E, (name, head)


def test_the_check_can_fail():
    """The old dark theme gave head 1 the high-cell colour: this check would catch it."""
    assert distance("#56b4e9", "#56b4e9") < MIN_DELTA_E
