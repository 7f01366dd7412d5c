"""Files in and out, safely.

Reading: regular files only (a FIFO would block, a device or ``/proc`` file can be
endless, a directory gives a confusing error), size-limited before anything is read,
UTF-8 text with or without a BOM. Writing: atomically (a reader sees the old file or the
whole new one), devices and FIFOs written through, directories refused, outputs checked
before any work is done.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from .errors import ExportError, SpecError, printable, quote_path
from .limits import current, file_bytes

BOM = b"\xef\xbb\xbf"
TEMP_SUFFIX = ".svgattn-tmp"


# --- reading ------------------------------------------------------------------------------
def check_regular(path: Path, what: str, error: type[Exception] = SpecError,
                  limit: str = "file_mb") -> int:
    """Raise unless ``path`` is an existing regular file within the size limit ``limit``
    (``""``: none); return its size. ``what`` names the kind of file in the message
    (``spec``, ...)."""
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
    if limit and info.st_size > file_bytes(limit):
        raise error(f"{name}: {info.st_size:,} bytes exceed the {what} file limit of "
                    f"{getattr(current(), limit):g} MB; "
                    f"{_advice(limit)}{current().describe(limit)}")
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
        data = fh.read(file_bytes("spec_mb") + 1)
    if len(data) > file_bytes("spec_mb"):
        raise error(f"{printable(path.name, 60)}: exceeds the {what} file limit of "
                    f"{current().spec_mb:g} MB; {current().describe('spec_mb')}")
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


# --- writing ------------------------------------------------------------------------------
def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one.

    - a regular file (or a new name) is replaced atomically: the bytes go to an unnamed
      temporary file in the same directory (``O_TMPFILE``; a hidden temporary name where
      that is unsupported), are flushed to disk, then renamed over the destination; an
      error, an interrupt or a kill leaves the old file and no temporary file behind;
    - a symbolic link is followed: the file it points to is replaced, the link is kept;
    - a device or FIFO (``/dev/null``, ``/dev/stdout``) is written through, never replaced;
    - a directory, or a name ending in ``/``, is refused.
    """
    text = os.fspath(path)
    target, info = check_output(text)
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(target, data, text)
        return Path(text)
    mode = stat.S_IMODE(info.st_mode) if info is not None else _default_mode()
    _replace(target, data, mode, text)
    return Path(text)


def check_output(text: str) -> tuple[Path, os.stat_result | None]:
    """Check an output name before any work is done: it must not be (or end like) a
    directory, and its directory must exist. Returns the file it names (symbolic links
    followed) and its status, ``None`` when it does not exist yet."""
    if not text or text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise ExportError(f"output: {quote_path(text)} names a directory; give a file name such as "
                          f"{quote_path(os.path.join(text, 'figure.svg'))}")
    target = Path(os.path.realpath(text))  # follow symbolic links to the file they name
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ExportError(f"output: cannot use {quote_path(text)} ({exc.strerror})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise ExportError(f"output: {quote_path(text)} is a directory; give a file name such as "
                          f"{quote_path(os.path.join(text, 'figure.svg'))}")
    if info is None and not target.parent.is_dir():
        raise ExportError(f"output: directory {quote_path(Path(text).parent)} does not exist; "
                          "create it first")
    return target, info


def check_not_input(output: str, inputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Refuse an output that is one of the run's inputs (``{"spec": path, ...}``): a
    figure must never replace the file it was drawn from."""
    if output == "-":
        return
    real = os.path.realpath(output)
    for what, path in inputs.items():
        if path is not None and (os.path.realpath(path) == real or _same_file(output, path)):
            raise ExportError(f"output: {quote_path(output)} is the {what} this run reads; write "
                              "the figure to another file")


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two existing names are one file (a hard link is another name for it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_writable_folder(folder: str | os.PathLike[str]) -> None:
    """Before drawing: ``folder`` is a folder that can be written in, or can be created
    (its nearest existing ancestor is a writable folder). Nothing is created here."""
    probe = Path(folder)
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ExportError(f"output: {quote_path(probe)} is a file, not a folder; choose another "
                          "output folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ExportError(f"output: cannot write in the folder {quote_path(probe)} (permission "
                          "denied or a read-only file system); choose another output folder")


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_through(target: Path, data: bytes, shown: str) -> None:
    try:
        with open(target, "wb") as fh:  # a device or FIFO: no temporary, no rename
            fh.write(data)
    except OSError as exc:
        raise ExportError(f"output: writing to {quote_path(shown)} failed ({exc.strerror})"
                          ) from None


def _replace(target: Path, data: bytes, mode: int, shown: str) -> None:
    folder = target.parent
    _sweep(folder, target.name)
    temp: str | None = None
    try:
        temp = _write_unnamed(folder, target.name, data, mode)
        if temp is None:
            temp = _write_named(folder, target.name, data, mode)
        os.replace(temp, target)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else exc.strerror
        raise ExportError(f"output: writing {quote_path(shown)} failed ({reason}); the destination "
                          "is unchanged") from None
    except BaseException:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise


def _temp_name(folder: Path, name: str, tag: str) -> str:
    return str(folder / f".{name}.{os.getpid()}.{tag}{TEMP_SUFFIX}")


def _write_unnamed(folder: Path, name: str, data: bytes, mode: int) -> str | None:
    """Write into an unnamed file (``O_TMPFILE``: nothing is left if the process dies
    while writing), then give it a temporary name for the rename. ``None`` where the
    kernel or filesystem cannot do this (then a named temporary file is used)."""
    flags = getattr(os, "O_TMPFILE", 0)
    if not flags:
        return None
    try:
        fd = os.open(folder, flags | os.O_WRONLY, 0o600)
    except OSError:
        return None
    try:
        _fill(fd, data, mode)
        for attempt in range(100):
            temp = _temp_name(folder, name, f"u{attempt}")
            try:
                os.link(f"/proc/self/fd/{fd}", temp, follow_symlinks=True)
                return temp
            except FileExistsError:
                continue
            except OSError:
                return None  # e.g. EXDEV in sandboxes without linkat on /proc
        return None
    finally:
        os.close(fd)


def _write_named(folder: Path, name: str, data: bytes, mode: int) -> str:
    """Write into a hidden temporary file named after this process; a later write to the
    same destination removes it if this process is killed before the rename."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                    dir=folder)
    except OSError as exc:
        raise ExportError(f"output: cannot write in the directory {quote_path(folder)} "
                          f"({exc.strerror})") from None
    try:
        _fill(fd, data, mode)
    except BaseException:
        os.close(fd)
        Path(temp).unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp


def _fill(fd: int, data: bytes, mode: int) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fchmod(fd, mode)
    os.fsync(fd)


def _sweep(folder: Path, name: str) -> None:
    """Remove temporaries of ``name`` left by svgattn processes that were killed."""
    prefix = f".{name}."
    try:
        entries = [e for e in os.scandir(folder)
                   if e.name.startswith(prefix) and e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(prefix):].split(".", 1)[0]
        if pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            Path(entry.path).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but is not ours
    return True
