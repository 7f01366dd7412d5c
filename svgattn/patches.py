"""Tokens that are places in a picture: a grid of image patches.

A vision transformer's tokens are prefix tokens (CLS, a distillation token, registers)
followed by the patches in row-major order; a vision-language model puts the patches of
its picture in a span of its text; diffusion cross-attention has pixels as queries.
:class:`Patches` says which tokens, on which axis, form which ``rows x cols`` grid, and
holds the picture they cover and, optionally, each token's norm (Darcet et al. 2023's
high-norm tokens). Sources attach it to an :class:`~svgattn.data.Attention` with
:func:`svgattn.data.with_patches`; the image and words views draw it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SpecError, quote

if TYPE_CHECKING:  # pragma: no cover
    from .photo import Photo

AXES = ("key", "query")
ASPECT_TOLERANCE = 0.02  # a picture's patches may be this much out of square (rounding)


@dataclass(frozen=True, eq=False)
class Patches:
    """``tokens[r, c]``: the token (on ``axis``) of patch ``(r, c)``; ``photo``: the
    picture the grid tiles exactly, if known; ``norms``: one norm per token of that axis
    (``None``: not given); ``note``: what a caption says of where the grid came from."""

    tokens: np.ndarray
    axis: str = "key"
    photo: Photo | None = None
    norms: np.ndarray | None = None
    note: str = ""

    @property
    def rows(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def cols(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def start(self) -> int:
        return int(self.tokens.min())

    def outside(self, count: int) -> np.ndarray:
        """The tokens of the axis (``count`` of them) that are not patches: prefix tokens,
        registers, text."""
        inside = np.zeros(count, dtype=bool)
        inside[self.tokens.ravel()] = True
        return np.flatnonzero(~inside)

    def where(self, token: int) -> tuple[int, int] | None:
        """The (row, col) of a token, or ``None`` when it is not a patch."""
        found = np.argwhere(self.tokens == token)
        return (int(found[0][0]), int(found[0][1])) if len(found) else None


def contiguous(rows: int, cols: int, start: int) -> np.ndarray:
    """The tokens of a grid stored as ``rows * cols`` consecutive tokens from ``start``."""
    return np.arange(start, start + rows * cols, dtype=np.int64).reshape(rows, cols)


def parse_grid(value: Any, where: str) -> tuple[int, int]:
    """``[rows, cols]``, ``(rows, cols)`` or the text ``14x14``: two positive integers."""
    if isinstance(value, str):
        parts = value.lower().replace("\u00d7", "x").replace(",", "x").split("x")
        try:
            value = [int(p) for p in parts]
        except ValueError:
            value = None
    array = np.asarray(value) if value is not None else np.zeros(0)
    if array.shape != (2,) or array.dtype.kind not in "iu" or (array <= 0).any():
        raise SpecError(f"{where}: {quote(value)} is not a grid; give rows and columns, e.g. "
                        "14x14 (or [14, 14])")
    return int(array[0]), int(array[1])


def _integer(value: Any, where: str, fix: str) -> int:
    if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
        value = value.reshape(()).item()
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecError(f"{where}: {quote(value)} is not a whole number; {fix}")
    return int(value)


def make_patches(count: int, *, grid: Any, patch_start: Any = None, axis: Any = "key",
                 photo: Photo | None = None, norms: Any = None, tokens: Any = None,
                 where: str = "attention", note: str = "") -> Patches:
    """Validate a grid of ``rows x cols`` patches among ``count`` tokens of ``axis``: from
    ``patch_start`` (default: the last ``rows * cols`` tokens), or the token of each patch
    (``tokens [rows, cols]``: a grid that is not one run of tokens, such as a tiled
    picture's). A picture must have the grid's aspect (square patches)."""
    from .numeric import to_numpy

    if isinstance(axis, np.ndarray) and axis.shape in ((), (1,)):
        axis = str(axis.reshape(()).item())
    if axis not in AXES:
        raise SpecError(f"{where}: grid_axis: {quote(axis)} is not key or query; key: the "
                        "patches are attended to (a ViT, a VLM); query: they attend (diffusion "
                        "cross-attention, pixels as queries)")
    rows, cols = parse_grid(grid, f"{where}: grid")
    side = "key" if axis == "key" else "query"
    if tokens is not None:
        index = np.asarray(tokens)
        if index.shape != (rows, cols) or index.dtype.kind not in "iu" or \
                len(np.unique(index)) != index.size or index.min() < 0 or index.max() >= count:
            raise SpecError(f"{where}: grid tokens: expected {rows} x {cols} distinct token "
                            f"indices below {count}")
    else:
        start = count - rows * cols if patch_start is None else \
            _integer(patch_start, f"{where}: patch_start", "give the index of the first patch "
                     "token (1 after a CLS token)")
        if patch_start is None and start < 0:
            raise SpecError(f"{where}: grid: {rows} x {cols} = {rows * cols} patches, but there "
                            f"are {count} {side} tokens; check grid")
        if start < 0 or start + rows * cols > count:
            fits = count - (start if 0 <= start < count else 0)
            side_hint = int(np.sqrt(fits)) if fits > 0 else 0
            hint = f"; {side_hint}x{side_hint} would" if side_hint * side_hint == fits else ""
            raise SpecError(f"{where}: grid: {rows} x {cols} = {rows * cols} patches from "
                            f"patch_start {start} need {start + rows * cols} {side} tokens; "
                            f"there are {count} (prefix tokens + patches{hint}); check grid "
                            "and patch_start")
        index = contiguous(rows, cols, start)
    index = np.ascontiguousarray(index, dtype=np.int64)
    index.setflags(write=False)
    if photo is not None:
        w, h = photo.size
        ratio = (w / cols) / (h / rows)
        slack = ASPECT_TOLERANCE + max(cols / w, rows / h)  # a pixel of rounding
        if abs(ratio - 1) > slack:
            raise SpecError(f"{where}: image: {w} x {h} pixels do not fit a {rows} x {cols} "
                            f"grid (patches would be {w / cols:.1f} x {h / rows:.1f} pixels); "
                            f"give the picture the model saw, cropped or resized to "
                            f"{cols}:{rows}")
    shown = None
    if norms is not None:
        values = to_numpy(norms, f"{where}: norms")
        if values.ndim != 1 or values.shape[0] != count:
            raise SpecError(f"{where}: norms: shape {tuple(values.shape)}; give one norm per "
                            f"{side} token ({count})")
        if not np.all(np.isfinite(values)) or (values < 0).any():
            raise SpecError(f"{where}: norms: must be finite and >= 0 (the length of each "
                            "token's output vector)")
        shown = np.array(values, dtype=np.float64)
        shown.setflags(write=False)
    return Patches(index, str(axis), photo, shown, note)


def picture(image: Any, where: str) -> Photo | None:
    """A :class:`~svgattn.photo.Photo` from a path, pixels or a Photo (``None``: none)."""
    from .photo import Photo, from_pixels, read_image

    if image is None or isinstance(image, Photo):
        return image
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    return from_pixels(image, where)
