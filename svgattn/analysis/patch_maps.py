"""Attention mapped onto a grid of image patches (the image and words views): one query's
weights over the patches, the share its attention gives to tokens outside the grid (CLS,
registers, text), DINO's masks, a display-only smoothing, and the outlines of a mask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import SpecError, quote
from ..patches import Patches
from ..units import integer_text
from .figure import FigureData
from .tokens import is_special


def patches_of(data: FigureData, view: str) -> Patches:
    """The figure's grid of patches, or a one-line error saying how to give one."""
    if data.patches is None:
        raise SpecError(f"view: the {view} view draws attention over a grid of image patches; "
                        "give grid (rows x cols) and patch_start with the attention (.npz keys "
                        "or --grid/--patch-start), or run a vision model with --image")
    return data.patches


def word_axis_tokens(data: FigureData, patches: Patches) -> tuple[str, ...]:
    """The tokens of the axis the grid is not on (queries of a ViT, words of diffusion)."""
    return data.query_labels if patches.axis == "key" else data.key_labels


def patch_token(patches: Patches, ref: object, where: str) -> int | None:
    """A patch named ``r,c`` (its token), or ``None`` when ``ref`` is not of that form."""
    if not isinstance(ref, str) or "," not in ref:
        return None
    parts = [p.strip() for p in ref.strip("()[] ").split(",")]
    if len(parts) != 2 or not all(integer_text(p) for p in parts):
        return None
    r, c = int(parts[0]), int(parts[1])
    if not (0 <= r < patches.rows and 0 <= c < patches.cols):
        raise SpecError(f"{where}: focus: patch ({r}, {c}) is outside the {patches.rows} x "
                        f"{patches.cols} grid (rows 0..{patches.rows - 1}, columns "
                        f"0..{patches.cols - 1})")
    return int(patches.tokens[r, c])


def square(data: FigureData) -> bool:
    """Self-attention: a query index is a key index (a patch is a query too)."""
    return data.query_tokens == data.key_tokens


def default_query(data: FigureData, patches: Patches) -> int | None:
    """The query shown when none is named: a ViT's CLS (the first token before the grid);
    for causal attention (a VLM) the last token, the one that sees the whole picture and
    every word; ``None`` (the mean over the rows: the patches' own, or every query of
    cross-attention) when there is neither (SigLIP)."""
    if not square(data):
        return None
    if data.causal:
        return len(data.query_tokens) - 1
    before = [t for t in patches.outside(len(data.query_labels)) if t < patches.start]
    return int(before[0]) if before else None


def focus_index(data: FigureData, patches: Patches, focus: object, where: str) -> int | None:
    """The query token (key-axis grids) or word (query-axis grids) named by ``focus``: by
    index, string, or ``r,c`` for a patch; default :func:`default_query` or the first
    word that is not a special token."""
    if focus is None:
        if patches.axis == "key":
            return default_query(data, patches)
        words = default_words(data, patches, specials=False)
        if not words:
            raise SpecError(f"{where}: focus: every token is special; name one with --focus")
        return words[0]
    found = patch_token(patches, focus, where) if patches.axis == "key" and square(data) \
        else None
    if found is not None:
        return found
    return data.index(focus, "focus", where, query=patches.axis == "key")


def grid_row(values: np.ndarray, patches: Patches) -> np.ndarray:
    """One row of weights (over the grid's axis) as the ``rows x cols`` map."""
    return np.asarray(values, dtype=np.float64)[patches.tokens]


def patch_map(matrix: np.ndarray, patches: Patches, token: int | None) -> np.ndarray:
    """The map of token ``token`` over the patches: its row (key-axis grids), its column
    (pixels as queries), or, with ``None``, the mean over the rows (:func:`mean_rows`)."""
    m = np.asarray(matrix)
    if patches.axis == "query":
        assert token is not None
        return grid_row(m[:, token], patches)
    return grid_row(m[token] if token is not None else mean_rows(m, patches), patches)


def mean_rows(m: np.ndarray, patches: Patches) -> np.ndarray:
    """The mean row of the patches' own queries (self-attention), or of every query
    (cross-attention: no query is a patch)."""
    if m.shape[0] == m.shape[1] and patches.tokens.max() < m.shape[0]:
        return np.asarray(m[patches.tokens.ravel()], dtype=np.float64).mean(axis=0)
    return np.asarray(m, dtype=np.float64).mean(axis=0)


class Share(NamedTuple):
    """How much of a query's attention goes outside the grid, and to which tokens."""

    total: float
    parts: tuple[tuple[str, float], ...]  # the largest, by label


def outside_share(matrix: np.ndarray, patches: Patches, token: int | None,
                  labels: Sequence[str]) -> Share | None:
    """The share of query ``token``'s attention on tokens that are not patches (prefix
    tokens, registers, text); ``None`` for grids of queries (pixels) or none outside."""
    if patches.axis != "key":
        return None
    m = np.asarray(matrix, dtype=np.float64)
    row = mean_rows(m, patches) if token is None else m[token]
    outside = patches.outside(len(row))
    if not len(outside):
        return None
    total = float(row.sum()) or 1.0
    shares = row[outside] / total
    order = np.argsort(-shares, kind="stable")[:4]
    return Share(float(shares.sum()), tuple((labels[outside[i]], float(shares[i]))
                                            for i in order))


def dino_mask(values: np.ndarray, keep: float) -> np.ndarray:
    """DINO's mask (Caron et al. 2021, ``visualize_attention.py``): the fewest patches
    whose weights, renormalised over the patches, hold at least ``keep`` of the mass."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    total = flat.sum()
    if total <= 0:
        return np.zeros(values.shape, dtype=bool)
    order = np.argsort(-flat, kind="stable")
    cumulative = np.cumsum(flat[order]) / total
    count = int(np.searchsorted(cumulative, keep - 1e-12)) + 1
    out = np.zeros(flat.size, dtype=bool)
    out[order[:min(count, flat.size)]] = True
    return out.reshape(values.shape)


def outline(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """The boundaries of a mask's regions as closed loops of grid corners ``(x, y)``
    (column, row), patch edges merged: the edges between a cell in the mask and one out
    of it, chained into loops (a region with a hole gives two)."""
    rows, cols = mask.shape
    padded = np.zeros((rows + 2, cols + 2), dtype=bool)
    padded[1:-1, 1:-1] = mask
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(a: tuple[int, int], b: tuple[int, int]) -> None:
        edges.setdefault(a, []).append(b)

    for r, c in zip(*np.nonzero(mask), strict=True):
        r, c = int(r), int(c)
        if not padded[r, c + 1]:  # above: left to right (the region on the right hand)
            add((c, r), (c + 1, r))
        if not padded[r + 1, c + 2]:  # right side: downwards
            add((c + 1, r), (c + 1, r + 1))
        if not padded[r + 2, c + 1]:  # below: right to left
            add((c + 1, r + 1), (c, r + 1))
        if not padded[r + 1, c]:  # left side: upwards
            add((c, r + 1), (c, r))
    loops = []
    while edges:
        start = min(edges)
        loop = [start]
        here = start
        while True:
            nxt = edges[here].pop()
            if not edges[here]:
                del edges[here]
            if nxt == start:
                break
            loop.append(nxt)
            here = nxt
        loops.append(_corners(loop))
    return loops


def _corners(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A loop without its collinear points."""
    n = len(loop)
    out = []
    for i, (x, y) in enumerate(loop):
        px, py = loop[i - 1]
        nx, ny = loop[(i + 1) % n]
        if (x - px) * (ny - y) - (y - py) * (nx - x) != 0:
            out.append((x, y))
    return out or loop


def smoothed(values: np.ndarray, per_patch: int) -> np.ndarray:
    """``values`` upsampled bilinearly, ``per_patch`` samples a patch side (display only:
    the caption says so), sampled at the sub-cell centres, edges clamped."""
    rows, cols = values.shape

    def axis(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = (np.arange(n * per_patch) + 0.5) / per_patch - 0.5
        lo = np.clip(np.floor(at).astype(np.int64), 0, n - 1)
        hi = np.clip(lo + 1, 0, n - 1)
        return lo, hi, np.clip(at - lo, 0.0, 1.0)

    r0, r1, fr = axis(rows)
    c0, c1, fc = axis(cols)
    v = np.asarray(values, dtype=np.float64)
    top = v[r0][:, c0] * (1 - fc) + v[r0][:, c1] * fc
    bottom = v[r1][:, c0] * (1 - fc) + v[r1][:, c1] * fc
    return top * (1 - fr)[:, None] + bottom * fr[:, None]


def default_words(data: FigureData, patches: Patches, *, specials: bool) -> list[int]:
    """The tokens a words view maps, by default: those outside the grid on the other axis,
    start, end and padding tokens dropped unless ``specials``; for a VLM (key-axis
    grids), the generated tokens when there are any, else the text after the picture."""
    if patches.axis == "query":
        raw = data.key_tokens
        chosen = list(range(len(raw)))
    elif not square(data):  # text queries attending to a picture (cross-attention)
        raw = data.query_tokens
        chosen = list(range(len(raw)))
    else:
        raw = data.query_tokens
        outside = patches.outside(len(raw))
        first = data.generated[0]
        chosen = [int(t) for t in outside if (t >= first if first is not None
                                              else t > int(patches.tokens.max()))]
    return [t for t in chosen if specials or not (is_special(raw[t]) or not raw[t].strip())]


MOST_WORDS = 24  # maps a words view draws unless the words are named


def chosen_words(data: FigureData, patches: Patches, words: object, specials: bool,
                 where: str) -> tuple[list[int], int]:
    """The tokens a words view maps: ``words`` (a comma list of strings or indices), or
    :func:`default_words` (the first :data:`MOST_WORDS`); and how many there were."""
    if words is None:
        found = default_words(data, patches, specials=specials)
        if not found:
            raise SpecError(f"{where}: words: no token to map (every one is special or a "
                            "patch); name them with --words, or add --specials")
        return found[:MOST_WORDS], len(found)
    items = words if isinstance(words, (list, tuple)) else \
        [w for w in str(words).split(",") if w.strip()]
    query = patches.axis == "key"
    out = []
    for item in items:
        index = data.index(item.strip() if isinstance(item, str) else item, "words", where,
                           query=query)
        if query and square(data) and patches.where(index) is not None:
            raise SpecError(f"{where}: words: {quote(item)} is a patch of the picture; name "
                            "text tokens")
        out.append(index)
    return out, len(out)
