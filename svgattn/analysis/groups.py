"""Token groups: runs of consecutive tokens that attend among themselves.

Rule (documented in the docs): tokens ``i`` and ``j`` are tied when each gives the other
at least ``share`` times the uniform weight (``1 / n_keys``) after rows are normalised.
Groups are the connected components of ties that are runs of consecutive tokens, at
least two long and not the whole sequence, and whose rows keep at least half of their
attention inside the group. The seed's two cliques are such groups.
"""

from __future__ import annotations

import numpy as np


def find_groups(matrix: np.ndarray, share: float = 1.0) -> list[tuple[int, int]]:
    """Return groups as ``(start, stop)`` token ranges (stop exclusive)."""
    n, k = matrix.shape
    if n != k or n < 3:
        return []
    sums = matrix.sum(axis=1, keepdims=True)
    rows = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    strong = rows >= share / k - 1e-12
    tied = strong & strong.T
    seen = np.zeros(n, dtype=bool)
    groups = []
    for start in range(n):
        if seen[start]:
            continue
        # the connected component of ``start``, one breadth-first layer per numpy step
        component = np.zeros(n, dtype=bool)
        component[start] = True
        frontier = component.copy()
        while frontier.any():
            reach = tied[frontier].any(axis=0)
            frontier = reach & ~component
            component |= reach
        seen |= component
        members = np.flatnonzero(component)
        lo, hi = int(members[0]), int(members[-1]) + 1
        if len(members) < 2 or len(members) != hi - lo or hi - lo == n:
            continue
        inside = rows[lo:hi, lo:hi].sum(axis=1)
        if inside.min() >= 0.5:
            groups.append((lo, hi))
    return groups


def group_heads(group: tuple[int, int], head_links: list[tuple[int, ...]]) -> list[int]:
    """Heads that form a group: their links overlap it with Jaccard index >= 0.5."""
    members = set(range(*group))
    out = []
    for h, links in enumerate(head_links):
        linked = set(links)
        if linked and len(members & linked) / len(members | linked) >= 0.5:
            out.append(h)
    return out
