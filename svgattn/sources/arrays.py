"""numpy arrays, torch tensors (duck-typed), ``.npy`` and ``.npz`` files."""

from __future__ import annotations

import math
import os
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from numpy.lib import format as npformat

from ..blocks import EAGER
from ..data import Attention, make_attention, to_numpy, with_vectors
from ..errors import InputWarning, SpecError, printable, quote
from ..files import check_regular, open_regular
from ..limits import check_cells, check_tokens, current, file_bytes

# a grid of image patches among the tokens (svgattn.patches)
PATCH_KEYS = ("image", "grid", "patch_start", "grid_axis", "norms")

NPZ_KEYS = ("attentions", "tokens", "query_tokens", "key_tokens", "head_names", "layer_names",
            "queries", "keys", "scaling", *PATCH_KEYS)


def from_array(weights: Any, tokens: Sequence[str] | None = None, *,
               query_tokens: Sequence[str] | None = None,
               key_tokens: Sequence[str] | None = None, batch_index: int | None = None,
               head_names: Sequence[str] | None = None,
               layer_names: Sequence[str] | None = None, source: str = "array",
               queries: Any = None, keys: Any = None, scaling: Any = None,
               image: Any = None, grid: Any = None, patch_start: Any = None,
               grid_axis: Any = None, norms: Any = None) -> Attention:
    """Attention from an array of 2 to 5 axes:

    ``[query, key]``, ``[heads, query, key]``, ``[layers, heads, query, key]`` or
    ``[layers, batch, heads, query, key]`` (``np.stack(outputs.attentions)``) with
    ``batch_index`` choosing the input. Without tokens, positions are numbered.
    ``queries`` and ``keys`` (the neuron view) have the same axes with ``dim`` last
    instead of ``key`` (keys may have fewer heads: grouped-query attention); ``scaling``
    multiplies q.k (default 1/sqrt(dim)). ``grid``, ``patch_start``, ``grid_axis``,
    ``image``, ``norms``: image patches (:func:`svgattn.data.with_patches`).
    """
    pics = dict(image=image, grid=grid, patch_start=patch_start, grid_axis=grid_axis, norms=norms)
    if any(v is not None for v in pics.values()):
        return _gridded(weights, tokens, dict(
            query_tokens=query_tokens, key_tokens=key_tokens, batch_index=batch_index,
            head_names=head_names, layer_names=layer_names, source=source, queries=queries,
            keys=keys, scaling=scaling), pics)
    array = weights if isinstance(weights, Stored) else to_numpy(weights,
                                                                 f"{source}: attentions")
    axes = array.ndim
    batch = array.shape[1] if axes == 5 else 1
    if batch_index is not None and (isinstance(batch_index, bool)
                                    or not isinstance(batch_index, (int, np.integer))):
        raise SpecError(f"{source}: batch_index: {quote(batch_index)} is not a whole number")
    if array.ndim == 5:
        batch = array.shape[1]
        if batch_index is None:
            if batch != 1:
                raise SpecError(f"{source}: batch_index: the array holds a batch of {batch} "
                                "inputs on axis 1 ([layers, batch, heads, query, key]); choose "
                                "one with batch_index")
            batch_index = 0
        if not -batch <= batch_index < batch:
            raise SpecError(f"{source}: batch_index: {batch_index} is out of range for a batch "
                            f"of {batch}")
        array = _lazy(array, batch_index % batch) if isinstance(array, Stored) else \
            array[:, batch_index]
    elif batch_index not in (None, 0):
        raise SpecError(f"{source}: batch_index: the array has no batch axis (shape "
                        f"{array.shape}); drop batch_index")
    if isinstance(array, Stored):
        array = _lazy(array, None)
    if array.ndim in (2, 3):
        array = array.reshape((1,) * (4 - array.ndim) + array.shape)
    if array.ndim != 4:
        raise SpecError(f"{source}: attentions: {array.ndim} axes; expected [query, key], "
                        "[heads, query, key], [layers, heads, query, key] or "
                        "[layers, batch, heads, query, key]")
    q_tokens, k_tokens = _tokens(tokens, query_tokens, key_tokens, array.shape[2:], source)
    att = make_attention(array, q_tokens, k_tokens, head_names=head_names,
                         layer_names=layer_names, source=source)
    if queries is None and keys is None:
        if scaling is not None:
            raise SpecError(f"{source}: scaling: applies to queries and keys; give them too or "
                            "drop it")
        return att
    if queries is None or keys is None:
        raise SpecError(f"{source}: {'keys' if queries is not None else 'queries'}: missing; "
                        "the neuron view needs both queries and keys")
    vectors = []
    for name, value in (("queries", queries), ("keys", keys)):
        v = to_numpy(value, f"{source}: {name}")
        if v.ndim != axes:
            raise SpecError(f"{source}: {name}: {v.ndim} axes but the attentions have {axes}; "
                            "give the same axes as the attentions with dim last instead of key")
        if axes == 5:
            if v.shape[1] != batch:
                raise SpecError(f"{source}: {name}: a batch of {v.shape[1]} on axis 1 but the "
                                f"attentions hold {batch}; save the vectors of every input")
            v = v[:, batch_index if batch_index is not None else 0]
        vectors.append(v.reshape((1,) * (4 - v.ndim) + v.shape) if v.ndim < 4 else v)
    return with_vectors(att, vectors[0], vectors[1], scaling)


def _gridded(weights: Any, tokens: Any, given: dict[str, Any],
             patches: dict[str, Any]) -> Attention:
    """:func:`from_array` of attention with a grid of image patches among its tokens."""
    source = given["source"]
    if patches["grid"] is None:
        raise SpecError(f"{source}: grid: missing; image, patch_start, grid_axis and norms "
                        "describe a grid of patches: give grid (rows, cols) too")
    weights, note = _steps_averaged(weights, patches["grid_axis"], given["batch_index"], source)
    att = from_array(weights, tokens, **given)
    from ..data import with_patches
    return with_patches(att, **patches, note=note)


def _steps_averaged(weights: Any, axis: Any, batch_index: int | None,
                    source: str) -> tuple[Any, str]:
    """Diffusion cross-attention ``[steps, layers, heads, pixels, tokens]`` averaged over
    its denoising steps (and what the caption says of it); other arrays as they are."""
    if isinstance(axis, np.ndarray) and axis.shape in ((), (1,)):
        axis = str(axis.reshape(()).item())
    if axis != "query" or getattr(weights, "ndim", 0) != 5:
        return weights, ""
    if batch_index is not None:
        raise SpecError(f"{source}: batch_index: a 5-axis array with pixels as queries is "
                        "[steps, layers, heads, pixels, tokens]; it has no batch: drop "
                        "batch_index")
    if isinstance(weights, Stored):  # a long file: averaged from its pages
        weights = np.memmap(weights.path, weights.dtype, "r", weights.offset, weights.shape)
    array = to_numpy(weights, f"{source}: attentions")
    steps = array.shape[0]
    return array.mean(axis=0), f"mean over {steps} denoising step{'s' * (steps != 1)}"


def _lazy(stored: Stored, batch: int | None) -> Any:
    """A lazy ``[layers, heads, query, key]`` over an array left in its file (``batch``:
    the input of a ``[layers, batch, heads, query, key]`` one)."""
    from ..blocks import FromFile, Lazy

    shape = stored.shape if len(stored.shape) >= 4 else \
        (1,) * (4 - len(stored.shape)) + stored.shape
    return Lazy(FromFile(stored.path, stored.offset, stored.dtype, shape, batch))


def _tokens(tokens: Any, query: Any, key: Any, shape: tuple[int, ...],
            source: str) -> tuple[Any, Any]:
    """The query and key token lists as given (validated by make_attention)."""
    if tokens is not None and (query is not None or key is not None):
        raise SpecError(f"{source}: tokens: give tokens or query_tokens + key_tokens, not both")
    if tokens is not None:
        return tokens, tokens
    if query is not None or key is not None:
        if query is None or key is None:
            raise SpecError(f"{source}: tokens: give both query_tokens and key_tokens")
        return query, key
    check_tokens(max(shape), f"{source}: attentions")
    return [str(i) for i in range(shape[0])], [str(i) for i in range(shape[1])]


def load_file(path: str | os.PathLike[str], *, tokens: Sequence[str] | None = None,
              batch_index: int | None = None, **pictures: Any) -> Attention:
    """Attention from ``.npy`` (the array) or ``.npz`` (keys: ``attentions``, ``tokens`` or
    ``query_tokens`` + ``key_tokens``, optional ``head_names``, ``layer_names``, and for
    the neuron view ``queries``, ``keys`` and ``scaling``; other arrays, such as
    ``input_ids``, are ignored with a warning). A batch's tokens may differ by input:
    ``tokens [batch, tokens]``.

    Files are untrusted: pickles are never loaded, and every array's header (shape and
    type) is checked against the limits before its data is read, so a small file that
    claims a huge shape, or a zip bomb, is refused without allocating anything.

    ``pictures`` (``image``, ``grid``, ``patch_start``, ``grid_axis``: ``--image`` and
    ``--grid`` ...) complete or replace the file's own image-patch keys.
    """
    path = Path(path)
    return _attention(_with(_read(path), pictures), path.name, tokens, batch_index)


def _with(arrays: dict[str, Any], pictures: dict[str, Any]) -> dict[str, Any]:
    """The file's arrays with the image-patch keys given beside it."""
    unknown = sorted(set(pictures) - set(PATCH_KEYS))
    if unknown:
        raise TypeError(f"load_file() got an unexpected keyword argument {unknown[0]!r}")
    return {**arrays, **{k: v for k, v in pictures.items() if v is not None}}


def load_inputs(path: str | os.PathLike[str], *, tokens: Sequence[str] | None = None,
                **pictures: Any) -> list[Attention]:
    """Every input a file holds: each of a batch (``[layers, batch, heads, query, key]``,
    named ``file.npz[3]``), or its one input; for views that summarise several inputs
    (the heads and profile views, and the matrix and grid views, which average them)."""
    path = Path(path)
    arrays = _with(_read(path), pictures)
    weights = arrays["attentions"]
    if weights.ndim == 5 and weights.shape[1] > 1 and arrays.get("grid_axis") != "query":
        return [_attention(arrays, f"{path.name}[{b}]", tokens, b)
                for b in range(weights.shape[1])]
    return [_attention(arrays, path.name, tokens, None)]


def _read(path: Path) -> dict[str, Any]:
    """The arrays of a ``.npy`` (``attentions``) or ``.npz`` file, read safely."""
    name = printable(path.name, 60)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise SpecError(f"{name}: unknown array format; save attention with np.save (.npy) or "
                        "np.savez (.npz)")
    # no size limit on the file: what is read whole is checked below, array by array
    size = check_regular(path, "numpy", limit="")
    with open_regular(path, "numpy", limit="") as fh:
        if suffix == ".npy":
            return {"attentions": read_npy(fh, name, "attentions", size=size,
                                           stored=(str(path), 0))}
        arrays = read_npz(fh, name, str(path))
    unknown = sorted(set(arrays) - set(NPZ_KEYS))
    if unknown:
        shown = ", ".join(quote(u, 24) for u in unknown[:6]) + (" ..." if len(unknown) > 6 else "")
        warnings.warn(InputWarning(f"{name}: ignored array(s) {shown}; svgattn reads "
                                   f"{', '.join(NPZ_KEYS)}"), stacklevel=3)
    if "attentions" not in arrays:
        raise SpecError(f"{name}: attentions: missing; save the weights under the key "
                        "'attentions' (np.savez(path, attentions=..., tokens=...))")
    return arrays


def _attention(arrays: dict[str, Any], source: str, tokens: Sequence[str] | None,
               batch_index: int | None) -> Attention:
    """One input of the arrays read from a file (``batch_index`` of a batch)."""
    def strings(key: str) -> Any:
        value = arrays.get(key)
        if isinstance(value, np.ndarray) and value.ndim == 2:  # a batch's tokens, a row each
            row = 0 if batch_index is None and value.shape[0] == 1 else batch_index
            if row is not None and -value.shape[0] <= row < value.shape[0]:
                return value[row]
        return value

    given = tokens is not None
    return from_array(arrays["attentions"], tokens if given else strings("tokens"),
                      query_tokens=None if given else strings("query_tokens"),
                      key_tokens=None if given else strings("key_tokens"),
                      batch_index=batch_index, head_names=strings("head_names"),
                      layer_names=strings("layer_names"), source=source,
                      queries=arrays.get("queries"), keys=arrays.get("keys"),
                      scaling=arrays.get("scaling"),
                      **{k: arrays[k] for k in PATCH_KEYS if k in arrays})


_MAGIC = b"\x93NUMPY"


def _data_start(fh: BinaryIO, member: Any) -> int:
    """Where a stored zip member's bytes start in the file: after its local header (30
    bytes, then its name and extra field, whose lengths the local header gives)."""
    import struct

    here = fh.tell()
    try:
        fh.seek(member.header_offset)
        local = fh.read(30)
    finally:
        fh.seek(here)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise SpecError(f"{member.filename}: the zip entry is damaged; save the file again")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return int(member.header_offset) + 30 + name_length + extra_length


class Stored(NamedTuple):
    """An array left in its file, read a block at a time as a figure needs it
    (:class:`svgattn.blocks.FromFile`): where its C-ordered data starts, its type and
    shape."""

    path: str
    offset: int
    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)


LAZY_ABOVE = EAGER  # attention of more values than this is read as a figure needs it


def read_npy(fh: BinaryIO, name: str, field: str, *, size: int | None = None,
             stored: tuple[str, int] | None = None) -> Any:
    """Read one ``.npy`` stream safely: the header is parsed and checked first (no pickles,
    real numbers or strings only, within the cell and byte limits), then exactly the bytes
    the header promises are read. With ``stored`` (the file's path, and where this stream
    starts in it, uncompressed), a long float attention array is not read at all but
    returned as :class:`Stored`: only what is held counts against the limits."""
    where = f"{name}: {field}"
    magic = fh.read(len(_MAGIC) + 2)
    if len(magic) < len(_MAGIC) + 2 or not magic.startswith(_MAGIC):
        raise SpecError(f"{where}: not a .npy array (no numpy header); save it with np.save")
    version = (magic[-2], magic[-1])
    try:
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except Exception as exc:  # numpy parses the header text: any failure means damage
        raise SpecError(f"{where}: the .npy header is damaged ({str(exc)[:80]}); save the "
                        "array again with np.save") from None
    if dtype.hasobject:
        raise SpecError(f"{where}: holds Python objects, which would need pickle (never loaded:"
                        " it can run code); save numeric arrays and string tokens")
    if dtype.kind not in "fiuUS" or dtype.fields is not None or dtype.subdtype is not None:
        raise SpecError(f"{where}: holds {dtype} values; save real numbers (attention) or "
                        "strings (tokens)")
    cells = math.prod(shape)
    if field == "attentions" and len(shape) >= 2:
        check_tokens(max(shape[-2:]), where)
    nbytes = cells * dtype.itemsize
    start = fh.tell()
    if size is not None and nbytes > size - (start if stored is not None else 0):
        raise SpecError(f"{where}: the header promises {nbytes:,} bytes of data but the file "
                        f"holds {size:,}; it is truncated or damaged: save it again")
    if stored is not None and field == "attentions" and dtype.kind == "f" and \
            not fortran and cells > LAZY_ABOVE and 2 <= len(shape) <= 5:
        return Stored(stored[0], stored[1] + start, dtype, tuple(int(d) for d in shape))
    check_cells(cells, where)
    if nbytes > file_bytes():
        raise SpecError(f"{where}: {nbytes / 2**20:.0f} MB of data exceed the file limit of "
                        f"{current().file_mb:g} MB; {current().describe('file_mb')}")
    array = np.empty(cells, dtype=dtype)  # filled in pieces: no second full-size copy
    view = array.reshape(-1).view(np.uint8)
    got = 0
    while got < nbytes:
        chunk = fh.read(min(nbytes - got, 1 << 24))
        if not chunk:
            break
        view[got:got + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        got += len(chunk)
    if got != nbytes:
        raise SpecError(f"{where}: the file is truncated ({got} of {nbytes} bytes); save "
                        "the array again")
    return array.reshape(shape, order="F" if fortran else "C")


def read_npz(fh: BinaryIO, name: str, path: str | None = None) -> dict[str, Any]:
    """Read every array of an ``.npz`` (a zip of ``.npy`` files) safely: member sizes are
    checked from the zip directory before inflating, CRC and deflate errors are one-line
    errors. A long attention array stored uncompressed (``np.savez``) is left in the file
    (:class:`Stored`, with the file's ``path``)."""
    import zipfile  # .npz only: kept off the start-up path of spec files

    try:
        with zipfile.ZipFile(fh) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            left = {m.filename: _data_start(fh, m) for m in members if path is not None and
                    m.filename == "attentions.npy" and m.compress_type == zipfile.ZIP_STORED}
            total = sum(m.file_size for m in members if m.filename not in left)
            if total > file_bytes():
                raise SpecError(f"{name}: inflates to {total / 2**20:.0f} MB, over the file "
                                f"limit of {current().file_mb:g} MB; "
                                f"{current().describe('file_mb')}")
            out: dict[str, np.ndarray] = {}
            for member in members[:64]:
                key = member.filename.removesuffix(".npy")
                if key not in NPZ_KEYS:
                    out[key] = np.empty(0)  # reported as ignored; never read
                    continue
                with archive.open(member) as stream:
                    at = left.get(member.filename)
                    out[key] = read_npy(stream, name, key,  # type: ignore[arg-type]
                                        size=member.file_size,
                                        stored=None if at is None or path is None
                                        else (path, at))
            return out
    except SpecError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            NotImplementedError, ValueError) as exc:
        raise SpecError(f"{name}: not a readable .npz ({str(exc)[:80] or type(exc).__name__}); "
                        "save it again with np.savez") from None
