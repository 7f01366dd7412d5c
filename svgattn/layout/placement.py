"""One-dimensional placement helpers for the head column."""

from __future__ import annotations

from collections.abc import Sequence


def barycentre_order(targets: Sequence[float]) -> list[int]:
    """Indices sorted by target height (barycentre of each head's tokens); ties keep order,
    so heads never cross each other's connectors needlessly."""
    return sorted(range(len(targets)), key=lambda i: (targets[i], i))


def spread(targets: Sequence[float], spacing: float) -> list[float]:
    """Positions ``y`` with ``y[j+1] - y[j] >= spacing`` closest (least squares) to
    ``targets``, which must already be sorted.

    Substituting ``z[j] = y[j] - j * spacing`` turns this into isotonic regression of
    ``targets[j] - j * spacing``, solved exactly by pool-adjacent-violators.
    """
    blocks: list[list[float]] = []  # [mean, weight]
    for j, t in enumerate(targets):
        blocks.append([t - j * spacing, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight = blocks.pop()
            prev = blocks[-1]
            prev[0] = (prev[0] * prev[1] + mean * weight) / (prev[1] + weight)
            prev[1] += weight
    z = [mean for mean, weight in blocks for _ in range(int(weight))]
    return [zj + j * spacing for j, zj in enumerate(z)]
