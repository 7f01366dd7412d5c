"""A GGUF file's header, read and checked before anything else reads the file.

A ``.gguf`` file is untrusted: its header states counts and sizes (keys, tensors, string
and array lengths, tensor shapes, the number of layers) that readers trust and allocate
for. Here every count is bounded by the bytes left in the file and by svgattn's limits,
every tensor must lie inside the file, keys appear once, and the model must be one that
transformers can convert, with a tokenizer, before the file is hashed, converted or loaded
(a 64 GB file of an unknown architecture is refused in milliseconds, not after 98 s).

The format (llama.cpp's ``gguf.h``): magic ``GGUF``, a version (2 or 3), the tensor count
and metadata count (uint64), the metadata (key string, value type, value; arrays are an
element type, a count and the elements), the tensor infos (name, dimension count, the
dimensions, a ggml type, an offset), padding to the alignment, the tensor data.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import SpecError, printable, quote

MAX_KEYS = 1 << 20  # metadata entries; real files hold tens
MAX_TENSORS = 1 << 20
MAX_STRING = 1 << 24  # bytes of one string (a chat template is a few KB)
MAX_LAYERS = 4096  # block_count
MAX_WIDTH = 1 << 20  # embedding_length, head_count, context_length ...
MAX_DIMS = 4
MAX_ELEMENTS = 1 << 40  # of one tensor
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
_BLOCK = re.compile(r"^blk\.(\d+)\.")


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    kind: int  # ggml type
    offset: int
    size: int  # bytes


@dataclass(frozen=True)
class Header:
    """What a GGUF file says about itself: its metadata (arrays as (element type, count),
    except short ones), its tensors and where their data starts."""

    version: int
    metadata: dict[str, Any]
    tensors: tuple[Tensor, ...]
    data_start: int
    size: int

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    def value(self, key: str) -> Any:
        """``key`` of the architecture's own table (``llama.block_count``)."""
        return self.metadata.get(f"{self.architecture}.{key}")


class _Reader:
    """Reads a file front to back; nothing is read past its end or trusted before it is
    checked against what is left."""

    def __init__(self, fh: BinaryIO, size: int, name: str) -> None:
        self.fh, self.size, self.name = fh, size, name
        self.at = 0

    def fail(self, what: str) -> SpecError:
        return SpecError(f"model: {self.name}: not a valid GGUF file ({what}); give a GGUF "
                         "file written by llama.cpp's tools (gguf-py)")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.size - self.at:
            raise self.fail(f"{what} runs past the end of the file at byte {self.at:,}")
        data = self.fh.read(n)
        if len(data) != n:
            raise self.fail(f"{what} is cut short")
        self.at += n
        return data

    def scalar(self, kind: int, what: str) -> Any:
        code = _SCALARS[kind]
        return struct.unpack(code, self.take(struct.calcsize(code), what))[0]

    def count(self, what: str, most: int, least_each: int) -> int:
        n = int(self.scalar(10, what))
        if n > most or n * least_each > self.size - self.at:
            raise self.fail(f"{what} says {n:,}, more than the file can hold")
        return n

    def string(self, what: str) -> str:
        n = self.count(f"the length of {what}", MAX_STRING, 1)
        try:
            return self.take(n, what).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None

    def value(self, kind: int, key: str) -> Any:
        if kind in _SCALARS:
            return self.scalar(kind, f"the value of {key}")
        if kind == STRING:
            return self.string(f"the value of {key}")
        if kind != ARRAY:
            raise self.fail(f"{key} has the unknown value type {kind}")
        element = int(self.scalar(4, f"the element type of {key}"))
        least = struct.calcsize(_SCALARS[element]) if element in _SCALARS else 8
        n = self.count(f"the length of {key}", MAX_STRING, least)
        if element == ARRAY:
            raise self.fail(f"{key} is an array of arrays")
        if element in _SCALARS and n > 64:  # a long numeric array: skipped, not kept
            self.take(n * least, f"the elements of {key}")
            return (element, n)
        items = [self.value(element, key) for _ in range(n)]
        return items if n <= 64 else (element, n)


def read_header(path: Path, *, limit_bytes: int) -> Header:
    """The header of the GGUF file at ``path`` (a regular file of at most ``limit_bytes``),
    every count checked against the file (module docstring)."""
    name = printable(path.name, 60)
    size = os.stat(path).st_size
    if size > limit_bytes:
        from ..limits import current

        raise SpecError(f"model: {name}: {size / 2**30:,.1f} GB exceed the model file limit of "
                        f"{current().model_gb:g} GB; {current().describe('model_gb')}")
    with open(path, "rb") as fh:
        r = _Reader(fh, size, name)
        if r.take(4, "the magic number") != b"GGUF":
            raise r.fail("it does not start with the magic bytes GGUF")
        version = int(r.scalar(4, "the version"))
        if version not in (2, 3):
            raise r.fail(f"version {version}; svgattn reads GGUF versions 2 and 3")
        n_tensors = r.count("the tensor count", MAX_TENSORS, 24)
        n_keys = r.count("the metadata count", MAX_KEYS, 12)
        metadata: dict[str, Any] = {}
        for _ in range(n_keys):
            key = r.string("a metadata key")
            kind = int(r.scalar(4, f"the value type of {printable(key, 40)}"))
            if key in metadata:
                raise r.fail(f"the key {quote(key, 40)} appears twice")
            metadata[key] = r.value(kind, printable(key, 40))
        tensors = [_tensor_info(r) for _ in range(n_tensors)]
        alignment = metadata.get("general.alignment", 32)
        if not isinstance(alignment, int) or not 0 < alignment <= 1 << 16 or \
                alignment & (alignment - 1):
            raise r.fail(f"general.alignment is {quote(alignment, 20)}, not a power of two")
        start = (r.at + alignment - 1) // alignment * alignment
    header = Header(version, metadata, tuple(_sized(r, t, start) for t in tensors), start, size)
    return header


def _tensor_info(r: _Reader) -> tuple[str, tuple[int, ...], int, int]:
    name = r.string("a tensor name")
    dims = int(r.scalar(4, f"the dimensions of {printable(name, 40)}"))
    if not 1 <= dims <= MAX_DIMS:
        raise r.fail(f"tensor {quote(name, 40)} has {dims} dimensions")
    shape = tuple(int(r.scalar(10, f"a dimension of {printable(name, 40)}"))
                  for _ in range(dims))
    kind = int(r.scalar(4, f"the type of {printable(name, 40)}"))
    offset = int(r.scalar(10, f"the offset of {printable(name, 40)}"))
    return name, shape, kind, offset


def _sized(r: _Reader, info: tuple[str, tuple[int, ...], int, int], start: int) -> Tensor:
    """A tensor whose shape, type and data lie inside the file."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    name, shape, kind, offset = info
    shown = quote(name, 40)
    elements = 1
    for d in shape:
        if d < 1:
            raise r.fail(f"tensor {shown} has a dimension of {d}")
        elements *= d
        if elements > MAX_ELEMENTS:
            raise r.fail(f"tensor {shown} has more than 2^40 elements")
    try:
        block, nbytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
    except (ValueError, KeyError):
        raise r.fail(f"tensor {shown} has the unknown ggml type {kind}") from None
    if shape[0] % block:
        raise r.fail(f"tensor {shown}'s rows are not whole blocks of its type")
    size = elements // block * nbytes
    if offset < 0 or start + offset + size > r.size:
        raise r.fail(f"tensor {shown} lies past the end of the file")
    return Tensor(name, shape, kind, offset, size)


def check(header: Header, name: str, supported: Collection[str]) -> None:
    """A model transformers can convert, with a tokenizer, whose sizes agree with its
    tensors: the architecture is known, ``block_count`` is the number of blocks the file
    holds, the widths are sane."""
    shown = printable(name, 60)
    arch = header.architecture
    if not arch or arch not in supported:
        known = sorted(a for a in supported if a not in ("general", "tokenizer"))
        raise SpecError(f"model: {shown}: the GGUF architecture {quote(arch or '(none)', 40)} "
                        f"is not one transformers can convert; give a model of "
                        f"{', '.join(known)}")
    if not isinstance(header.metadata.get("tokenizer.ggml.model"), str):
        raise SpecError(f"model: {shown}: the GGUF file holds no tokenizer "
                        "(tokenizer.ggml.model); svgattn names tokens with the model's own")
    blocks = {int(m.group(1)) for t in header.tensors if (m := _BLOCK.match(t.name))}
    count = header.value("block_count")
    if not isinstance(count, int) or not 1 <= count <= MAX_LAYERS or count != len(blocks):
        raise SpecError(f"model: {shown}: {arch}.block_count says {quote(count, 20)} but the "
                        f"file holds {len(blocks)} blocks of tensors; the file is damaged")
    for key in ("embedding_length", "attention.head_count", "context_length",
                "feed_forward_length"):
        value = header.value(key)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= MAX_WIDTH):
            raise SpecError(f"model: {shown}: {arch}.{key} is {quote(value, 20)}, not a width "
                            "a model has; the file is damaged")
    width, heads = header.value("embedding_length"), header.value("attention.head_count")
    embedding = next((t for t in header.tensors if t.name == "token_embd.weight"), None)
    if isinstance(width, int) and embedding is not None and embedding.shape[0] != width:
        raise SpecError(f"model: {shown}: {arch}.embedding_length is {width} but the token "
                        f"embedding is {embedding.shape[0]} wide; the file is damaged")
    if isinstance(width, int) and isinstance(heads, int) and width % heads:
        raise SpecError(f"model: {shown}: {arch}.embedding_length ({width}) is not a multiple "
                        f"of attention.head_count ({heads}); the file is damaged")
