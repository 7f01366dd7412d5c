"""One in-process measurement, run by bench.py in a fresh interpreter.

    python benchmarks/_child.py TOOL N OUT.{svg,pdf,png}

TOOL is svgattn, imshow or pcolormesh. The child builds the N x N attention matrix,
imports its library and draws one 4 x 4 figure in the same format (none of it timed: what
is measured is the steady cost of a figure, as in a notebook or a script that draws many;
import and first-use costs are bench.py's "import" and whole-process sections), then times
only building the figure and saving it, and prints ``{"seconds": s, "bytes": b}`` on
standard output. A fresh process per measurement keeps one run's caches, garbage and
peak memory out of the next; bench.py reads this process's peak RSS from os.wait4.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CHUNK = 256  # rows of logits drawn at a time, so N = 4096 never holds a float64 N x N copy
WIDTH_IN = 6.5
MAX_TICKS = 64


def attention(n: int) -> np.ndarray:
    """Row-softmax of standard normal logits: deterministic (seed 0), float32, built in
    row chunks so the peak memory is the matrix itself, not the temporaries."""
    rng = np.random.default_rng(0)
    weights = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, CHUNK):
        rows = rng.standard_normal((min(CHUNK, n - start), n), dtype=np.float32)
        rows -= rows.max(axis=1, keepdims=True)
        np.exp(rows, out=rows)
        rows /= rows.sum(axis=1, keepdims=True)
        weights[start:start + len(rows)] = rows
    return weights


def svgattn_job(weights: np.ndarray, tokens: list[str]) -> Callable[[Path], None]:
    """The svgattn matrix view, the way the README shows it."""
    from svgattn import Diagram
    from svgattn.sources import from_array

    def run(path: Path) -> None:
        attn = from_array(weights, tokens)
        Diagram.from_attention(attn, view="matrix", width=f"{WIDTH_IN}in").save(path)

    return run


def matplotlib_job(weights: np.ndarray, tokens: list[str], *,
                   mesh: bool) -> Callable[[Path], None]:
    """A plain matplotlib heatmap: imshow (one embedded image) or pcolormesh (one quad per
    cell, the vector alternative), tick labels thinned to at most MAX_TICKS, a colour bar,
    PNG at 300 dpi."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(tokens)
    step = max(1, math.ceil(n / MAX_TICKS))
    ticks = list(range(0, n, step))
    labels = [tokens[i] for i in ticks]

    def run(path: Path) -> None:
        fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN))
        if mesh:
            im = ax.pcolormesh(weights, cmap="Blues")
            ax.invert_yaxis()
            ax.set_aspect("equal")
            centres = [i + 0.5 for i in ticks]
        else:
            im = ax.imshow(weights, cmap="Blues", interpolation="none")
            centres = ticks
        ax.set_xticks(centres, labels, fontsize=6, rotation=90)
        ax.set_yticks(centres, labels, fontsize=6)
        fig.colorbar(im, ax=ax)
        fig.savefig(path, dpi=300)
        plt.close(fig)

    return run


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit("usage: _child.py svgattn|imshow|pcolormesh N OUT.{svg,pdf,png}")
    tool, n, path = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    weights = attention(n)
    tokens = [f"t{i}" for i in range(n)]
    if tool == "svgattn":
        job = svgattn_job(weights, tokens)
    elif tool in ("imshow", "pcolormesh"):
        job = matplotlib_job(weights, tokens, mesh=tool == "pcolormesh")
    else:
        sys.exit(f"_child.py: unknown tool {tool!r}")
    warm = path.with_name("warm-up" + path.suffix)
    (svgattn_job if tool == "svgattn" else
     lambda w, t: matplotlib_job(w, t, mesh=tool == "pcolormesh"))(
        attention(4), ["a", "b", "c", "d"])(warm)
    warm.unlink()
    start = time.perf_counter()
    job(path)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "bytes": path.stat().st_size}))


if __name__ == "__main__":
    main()
