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


def check_regular(path: Path, what: str, error: type[Exception] = SpecError) -> int:
    """Raise unless ``path`` is an existing regular file within the size limit; return its
    size. ``what`` names the kind of file in the message (``spec``, ``theme``...)."""
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
    if info.st_size > limits.file_bytes():
        raise error(f"{name}: {info.st_size:,} bytes exceed the {what} file limit of "
                    f"{limits.current().file_mb:g} MB; {limits.current().describe('file_mb')}")
    return info.st_size


def open_regular(path: Path, what: str, error: type[Exception] = SpecError) -> BinaryIO:
    """Open a checked regular file for reading (binary)."""
    check_regular(path, what, error)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise error(f"{printable(str(path), 100)}: cannot read the {what} file ({exc.strerror})"
                    ) from None


def read_text(path: Path, what: str, error: type[Exception] = SpecError) -> str:
    """The text of a checked regular file: UTF-8, an optional BOM dropped, no NUL bytes."""
    with open_regular(path, what, error) as fh:
        # A /proc file reports size 0 and may be longer: read at most the limit, plus one.
        data = fh.read(limits.file_bytes() + 1)
    if len(data) > limits.file_bytes():
        raise error(f"{printable(path.name, 60)}: exceeds the {what} file limit of "
                    f"{limits.current().file_mb:g} MB; {limits.current().describe('file_mb')}")
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
