"""Every head of every layer to PDF with matplotlib: the yardstick for `svgattn batch`.

    python benchmarks/mpl_batch.py ATTN.npz OUTDIR

ATTN.npz holds ``attentions`` ``[layers, heads, query, key]`` and ``tokens``, as bench.py
writes it from MiniLM. One figure per head, the way a user would loop in a script: an
``imshow`` heatmap (no interpolation) 6.5 x 6.5 in with the tokens as tick labels, a colour
bar and a title, saved as OUTDIR/{layer}-{head}.pdf and closed. One process, one core:
that is how such a script runs unless its author adds multiprocessing, which is part of
what `svgattn batch --jobs` offers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after use(): the backend is chosen first
import numpy as np


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: mpl_batch.py ATTN.npz OUTDIR")
    data = np.load(sys.argv[1])
    attentions, tokens = data["attentions"], [str(t) for t in data["tokens"]]
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    ticks = range(len(tokens))
    layers, heads = attentions.shape[:2]
    for layer in range(layers):
        for head in range(heads):
            fig, ax = plt.subplots(figsize=(6.5, 6.5))
            im = ax.imshow(attentions[layer, head], cmap="Blues", interpolation="none")
            ax.set_xticks(ticks, tokens, rotation=90)
            ax.set_yticks(ticks, tokens)
            ax.set_title(f"Layer {layer}, head {head}")
            fig.colorbar(im, ax=ax)
            fig.savefig(out / f"{layer}-{head}.pdf")
            plt.close(fig)


if __name__ == "__main__":
    main()
