"""Time and peak memory of svgattn against matplotlib, measured in the same run.

    python benchmarks/bench_render.py [--sizes 32,128,512] [--repeat 3]

For each matrix size n: svgattn renders an n x n attention matrix with 4 heads (flow
view, SVG and PDF); matplotlib draws the same matrix with `imshow` plus labels and saves
SVG and PDF. Ratios > 1 mean svgattn is slower / uses more memory. matplotlib is only a
yardstick here (pip install matplotlib); it draws no heads or connectors.
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc

import numpy as np

from svgattn import Diagram, Head


def _attention(n: int) -> np.ndarray:
    w = np.random.default_rng(0).random((n, n)) ** 4
    return w / w.sum(axis=1, keepdims=True)


def svgattn_job(n: int, fmt: str) -> int:
    w = _attention(n)
    heads = [Head(f"H{h}", tokens=list(range(h, n, max(1, n // 6)))) for h in range(4)]
    return len(Diagram([f"t{i}" for i in range(n)], w, heads).to_bytes(fmt))


def matplotlib_job(n: int, fmt: str) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    im = ax.imshow(_attention(n), cmap="Blues", interpolation="nearest")
    labels = [f"t{i}" for i in range(n)]
    ax.set_xticks(range(n), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(n), labels, fontsize=6)
    fig.colorbar(im)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return buf.tell()


def measure(job, n: int, fmt: str, repeat: int) -> tuple[float, float, int]:
    job(n, fmt)  # warm caches (fonts, imports)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        size = job(n, fmt)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    job(n, fmt)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak / 2**20, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="32,128,512")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'n':>5} {'fmt':>4} {'svgattn s':>10} {'mpl s':>8} {'time x':>7} "
          f"{'svgattn MiB':>12} {'mpl MiB':>8} {'mem x':>6} {'svgattn KB':>11} {'mpl KB':>8}")
    for n in map(int, args.sizes.split(",")):
        for fmt in ("svg", "pdf"):
            t1, m1, s1 = measure(svgattn_job, n, fmt, args.repeat)
            t2, m2, s2 = measure(matplotlib_job, n, fmt, args.repeat)
            print(f"{n:5d} {fmt:>4} {t1:10.3f} {t2:8.3f} {t1 / t2:7.2f} {m1:12.1f} {m2:8.1f} "
                  f"{m1 / m2:6.2f} {s1 / 1024:11.0f} {s2 / 1024:8.0f}")


if __name__ == "__main__":
    main()
