"""The matplotlib yardstick for long attention: the synthetic 4,096-token file's mean matrix
as one `imshow(interpolation="none")` heatmap with a colour bar, 6.5 in wide, thinned tick
labels, saved as SVG, PDF or PNG (300 dpi). A whole process, like `svgattn render`.

    python benchmarks/mpl_long.py gallery/specs/data/synthetic-4096.npz OUT.{svg,pdf,png}
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

WIDTH_IN = 6.5
MAX_TICKS = 16


def main(source: str, out: str) -> None:
    with np.load(source) as data:
        weights = data["attentions"]  # [layers, heads, q, k]
        tokens = [str(t) for t in data["tokens"]]
    matrix = weights[-1].mean(axis=0, dtype=np.float32)
    n = len(tokens)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.9))
    image = ax.imshow(matrix, cmap="Blues", interpolation="none", aspect="equal")
    step = max(1, n // MAX_TICKS)
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [f"{tokens[i]} {i}" for i in ticks], rotation=90, fontsize=6)
    ax.set_yticks(ticks, [f"{tokens[i]} {i}" for i in ticks], fontsize=6)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.savefig(out, dpi=300, bbox_inches="tight")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
