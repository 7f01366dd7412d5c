"""Opening input files safely: regular files only, size-limited, UTF-8 with or without BOM.

A FIFO would block the reader, a device or ``/proc`` file can be endless, a directory
gives a confusing error: each is refused by name before anything is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .. import limits
from ..errors import SpecError, printable

BOM = b"\xef\xbb\xbf"


def check_regular(path: Path, what: str, error: type[Exception] = SpecError,
                  limit: str = "file_mb") -> int:
    """Raise unless ``path`` is an existing regular file within the size limit ``limit``;
    return its size. ``what`` names the kind of file in the message (``spec``, ...)."""
    name = printable(str(path), 100)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{name}: no such {what} file; check the path") from None
    except OSError as exc:
        raise error(f"{name}: cannot open the {what} file ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{name}: is a directory; give the path of a {what} file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{name}: is not a regular file (a FIFO, socket or device); give the path "
                    f"of a {what} file")
    if info.st_size > limits.file_bytes(limit):
        raise error(f"{name}: {info.st_size:,} bytes exceed the {what} file limit of "
                    f"{getattr(limits.current(), limit):g} MB; "
                    f"{_advice(limit)}{limits.current().describe(limit)}")
    return info.st_size


def _advice(limit: str) -> str:
    return "save long attention as .npz instead, or " if limit == "spec_mb" else ""


def open_regular(path: Path, what: str, error: type[Exception] = SpecError,
                 limit: str = "file_mb") -> BinaryIO:
    """Open a checked regular file for reading (binary)."""
    check_regular(path, what, error, limit)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise error(f"{printable(str(path), 100)}: cannot read the {what} file ({exc.strerror})"
                    ) from None


def read_text(path: Path, what: str, error: type[Exception] = SpecError) -> str:
    """The text of a checked spec or theme file (the ``spec_mb`` limit): UTF-8, an
    optional BOM dropped, no NUL bytes."""
    with open_regular(path, what, error, "spec_mb") as fh:
        # A /proc file reports size 0 and may be longer: read at most the limit, plus one.
        data = fh.read(limits.file_bytes("spec_mb") + 1)
    if len(data) > limits.file_bytes("spec_mb"):
        raise error(f"{printable(path.name, 60)}: exceeds the {what} file limit of "
                    f"{limits.current().spec_mb:g} MB; {limits.current().describe('spec_mb')}")
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{printable(path.name, 60)}: not UTF-8 text (byte {exc.start}); save the "
                    f"{what} file as UTF-8") from None
    if "\x00" in text:
        raise error(f"{printable(path.name, 60)}: contains a NUL byte; a {what} file is text")
    return text
