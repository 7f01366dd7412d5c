"""Matrix cells as few elements as possible.

A per-cell loop would cost N^2 elements; here the most common colour is one background
rectangle and every other colour one path, with each colour's cells merged into
rectangles (horizontal runs, then equal runs in consecutive rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..scene import CellGrid


def rectangles(index: np.ndarray) -> dict[int, list[tuple[int, int, int, int]]]:
    """Cover the cells of each value of ``index`` with rectangles (row0, col0, row1, col1),
    end exclusive, sorted: horizontal runs of equal cells in each row, then runs with the
    same columns in consecutive rows merged vertically. All values at once, in numpy (a
    pass per value and row cost 0.1 s for 64 x 64 cells of a hundred colours)."""
    rows, cols = index.shape
    flat = index.ravel()
    # a run starts at each row's first cell and wherever the value changes
    starts = np.ones(rows * cols, dtype=bool)
    starts[1:] = flat[1:] != flat[:-1]
    starts[::cols] = True
    first = np.flatnonzero(starts)
    last = np.append(first[1:], rows * cols)  # end (exclusive) of each run
    row, c0 = np.divmod(first, cols)
    c1 = last - row * cols
    value = flat[first]
    # runs of one value and the same columns in consecutive rows are one rectangle
    order = np.lexsort((row, c1, c0, value))
    row, c0, c1, value = row[order], c0[order], c1[order], value[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = ((value[1:] != value[:-1]) | (c0[1:] != c0[:-1]) | (c1[1:] != c1[:-1])
               | (row[1:] != row[:-1] + 1))
    head = np.flatnonzero(new)
    tail = np.append(head[1:], len(order)) - 1
    rects = np.stack([row[head], c0[head], row[tail] + 1, c1[head]], axis=1)
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    for v, rect in zip(value[head].tolist(), rects.tolist(), strict=True):
        out.setdefault(v, []).append(tuple(rect))
    return {v: sorted(found) for v, found in out.items()}


def cell_runs(grid: CellGrid, fmt: Callable[[float], str]) -> tuple[str, list[tuple[str, str]]]:
    """Return (background colour, [(colour, path data)]) for the cells. Cells drawn over
    something (``opacity`` below 1) get no background: nothing may be painted twice, since
    LibreOffice applies a group's opacity to each shape in it (one under another would
    show twice as strong there)."""
    counts = np.bincount(grid.index.ravel(), minlength=len(grid.colours))
    background = int(np.argmax(counts)) if grid.opacity == 1 else -1
    xs = [fmt(grid.x + j * grid.cell_w) for j in range(grid.index.shape[1] + 1)]
    ys = [fmt(grid.y + i * grid.cell_h) for i in range(grid.index.shape[0] + 1)]
    paths = []
    by_colour = rectangles(grid.index)
    for colour in np.flatnonzero(counts).tolist():
        if colour == background:
            continue
        d = "".join(f"M{xs[c0]} {ys[r0]}H{xs[c1]}V{ys[r1]}H{xs[c0]}Z"
                    for r0, c0, r1, c1 in by_colour[colour])
        paths.append((grid.colours[colour], d))
    return (grid.colours[background] if background >= 0 else ""), paths


def grid_path(grid: CellGrid, fmt: Callable[[float], str]) -> str:
    """Lines between cells (and around the matrix) as one path."""
    rows, cols = grid.index.shape
    box = grid.box
    parts = [f"M{fmt(grid.x + j * grid.cell_w)} {fmt(box.y)}V{fmt(box.bottom)}"
             for j in range(cols + 1)]
    parts += [f"M{fmt(box.x)} {fmt(grid.y + i * grid.cell_h)}H{fmt(box.right)}"
              for i in range(rows + 1)]
    return "".join(parts)
