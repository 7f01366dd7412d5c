"""The seed figure drawn by hand with matplotlib: the yardstick for `svgattn render seed.toml`.

    python benchmarks/mpl_seed.py OUT.svg|OUT.pdf|OUT.png

It draws what gallery/specs/seed.toml describes: three coloured head boxes on the left,
joined by Bezier curves to the tokens they attend to, beside the 5 x 5 block attention
matrix with tick labels, a colour bar and the title. bench.py times this whole process
against the svgattn CLI, so it is written the way a careful user would write it: the Agg
backend, one figure, artists placed in axes coordinates, one savefig (PNG at 300 dpi).

The figure has the size of svgattn's seed figure (362.7 x 156.8 pt), so both PNGs have the
same pixel count and neither side is charged for drawing a larger picture.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after use(): the backend is chosen first
from matplotlib.colors import ListedColormap
from matplotlib.patches import PathPatch
from matplotlib.path import Path

TITLE = "Attention heads and the tokens they attend to"
TOKENS = ["It", "I", "is", "am", "the"]
# Rows are queries, columns keys: {It, I} and {is, am, the} attend only among themselves.
WEIGHTS = [
    [1, 1, 0, 0, 0],
    [1, 1, 0, 0, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 1],
]
# (name, fill colour, text colour, the tokens it links to), as in the seed theme.
HEADS = [
    ("Head 0", "#f2c500", "black", ["It", "I"]),
    ("Head 1", "#d62728", "white", ["is", "am", "the"]),
    ("Head 2", "#ff7f0e", "black", ["is", "am", "the"]),
]
FIG_W, FIG_H = 362.69 / 72, 156.77 / 72  # inches: svgattn's seed figure
DPI = 300


def draw() -> plt.Figure:
    """Build the figure; rows of the matrix and the token boxes share one y scale."""
    fig = plt.figure(figsize=(FIG_W, FIG_H))
    fig.suptitle(TITLE, fontsize=11, fontweight="bold", y=0.97)

    bottom, height = 0.04, 0.68  # figure fractions shared by the three axes
    side = height * FIG_H / FIG_W  # the matrix axes is square in inches
    mat_left = 0.50

    # Left: heads and tokens, in data coordinates whose y matches the matrix rows.
    flow = fig.add_axes((0.06, bottom, 0.36, height))
    flow.set_xlim(0, 1)
    flow.set_ylim(len(TOKENS) - 0.5, -0.5)
    flow.axis("off")
    head_y = [0.5, 2.5, 3.65]
    for (name, fill, ink, targets), y in zip(HEADS, head_y, strict=True):
        flow.text(0.19, y, name, ha="center", va="center", color=ink, fontsize=8,
                  fontweight="bold", bbox={"boxstyle": "round,pad=0.45", "fc": fill, "ec": "none"})
        for token in targets:
            ty = TOKENS.index(token)
            curve = Path([(0.36, y), (0.6, y), (0.58, ty), (0.82, ty)],
                         [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
            flow.add_patch(PathPatch(curve, facecolor="none", edgecolor=fill, lw=1.4,
                                     alpha=0.85, capstyle="round"))
    for i, token in enumerate(TOKENS):
        flow.text(0.9, i, token, ha="center", va="center", fontsize=8,
                  bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#888888",
                        "lw": 0.8})

    # Right: the matrix, tick labels on top and left, and a colour bar.
    ax = fig.add_axes((mat_left, bottom, side, height))
    cmap = ListedColormap(["#4d4d4d", "#1f77b4"])
    im = ax.imshow(WEIGHTS, cmap=cmap, vmin=0, vmax=1, interpolation="none")
    ax.set_xticks(range(len(TOKENS)), TOKENS, fontsize=8)
    ax.set_yticks(range(len(TOKENS)), TOKENS, fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    cax = fig.add_axes((mat_left + side + 0.03, bottom, 0.02, height))
    bar = fig.colorbar(im, cax=cax, ticks=[0, 1])
    bar.ax.tick_params(labelsize=7)
    return fig


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: mpl_seed.py OUT.svg|OUT.pdf|OUT.png")
    draw().savefig(sys.argv[1], dpi=DPI)


if __name__ == "__main__":
    main()
