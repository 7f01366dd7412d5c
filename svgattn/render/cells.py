"""Matrix cells as few elements as possible.

A per-cell loop would cost N^2 elements; here the most common colour is one background
rectangle and every other colour one path, with each colour's cells merged into
rectangles (horizontal runs, then equal runs in consecutive rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..scene import CellGrid


def merged_rectangles(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cover the True cells of ``mask`` with rectangles (row0, col0, row1, col1), end
    exclusive: horizontal runs per row, then runs with equal columns in consecutive rows
    merged vertically."""
    rows, _ = mask.shape
    padded = np.zeros((rows, mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    open_runs: dict[tuple[int, int], int] = {}
    done: list[tuple[int, int, int, int]] = []
    for r in range(rows):
        starts = np.flatnonzero(edges[r] == 1)
        ends = np.flatnonzero(edges[r] == -1)
        current = set(zip(starts.tolist(), ends.tolist(), strict=False))
        for run in list(open_runs):
            if run not in current:
                done.append((open_runs.pop(run), run[0], r, run[1]))
        for run in current:
            open_runs.setdefault(run, r)
    done.extend((r0, c0, rows, c1) for (c0, c1), r0 in open_runs.items())
    return sorted(done)


def cell_runs(grid: CellGrid, fmt: Callable[[float], str]) -> tuple[str, list[tuple[str, str]]]:
    """Return (background colour, [(colour, path data)]) for the cells."""
    counts = np.bincount(grid.index.ravel(), minlength=len(grid.colours))
    background = int(np.argmax(counts))
    xs = [fmt(grid.x + j * grid.cell_w) for j in range(grid.index.shape[1] + 1)]
    ys = [fmt(grid.y + i * grid.cell_h) for i in range(grid.index.shape[0] + 1)]
    paths = []
    for colour in np.flatnonzero(counts).tolist():
        if colour == background:
            continue
        d = "".join(f"M{xs[c0]} {ys[r0]}H{xs[c1]}V{ys[r1]}H{xs[c0]}Z"
                    for r0, c0, r1, c1 in merged_rectangles(grid.index == colour))
        paths.append((grid.colours[colour], d))
    return grid.colours[background], paths


def grid_path(grid: CellGrid, fmt: Callable[[float], str]) -> str:
    """Lines between cells (and around the matrix) as one path."""
    rows, cols = grid.index.shape
    box = grid.box
    parts = [f"M{fmt(grid.x + j * grid.cell_w)} {fmt(box.y)}V{fmt(box.bottom)}"
             for j in range(cols + 1)]
    parts += [f"M{fmt(box.x)} {fmt(grid.y + i * grid.cell_h)}H{fmt(box.right)}"
              for i in range(rows + 1)]
    return "".join(parts)
