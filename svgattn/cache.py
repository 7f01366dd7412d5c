"""A per-user cache that makes every process after the first one fast.

What it keeps (SECURITY.md, "The cache"): fontconfig's answers (JSON), the compiled jinja2
templates (jinja2's bytecode cache) and cairo's C declarations as data (JSON, see
:mod:`svgattn.fastcairo`). Nothing in it changes an output: a miss recomputes the same
thing. It lives in ``$SVGATTN_CACHE_DIR``, else ``$XDG_CACHE_HOME/svgattn``, else
``~/.cache/svgattn``, in a folder per svgattn version; ``SVGATTN_CACHE=0`` turns it off.

The folder is used only when nobody else can have written it: it must be a real folder
(not a symbolic link) owned by the current user and writable by nobody else, and every
folder above it must be owned by the user or root and, if others may write in it, sticky
(like ``/tmp``), so its entries cannot be swapped. svgattn creates the folders it needs
with mode 0700. Otherwise it draws without the cache and warns once, naming the folder
and the fix. Entries are keyed by the svgattn version and by a fingerprint of the
installed fonts; a malformed entry is a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import warnings
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import SvgattnWarning

_FONT_DIRS = ("/etc/fonts", "/var/cache/fontconfig", "/usr/share/fonts", "/usr/local/share/fonts")
OFF = ("0", "false", "no", "off")


class CacheWarning(SvgattnWarning):
    """The cache folder cannot be trusted or used: svgattn draws without it."""


def root() -> Path:
    """Where the cache lives (before the per-version folder)."""
    base = os.environ.get("SVGATTN_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "svgattn"


@lru_cache(maxsize=1)
def directory() -> Path | None:
    """The cache folder, created (mode 0700) on first use; ``None`` when caching is off,
    impossible, or the folder could have been written by someone else (then a warning
    says so, once per process)."""
    if os.environ.get("SVGATTN_CACHE", "1").strip().lower() in OFF:
        return None
    from .version import __version__

    folder = root() / __version__
    try:
        for path in (folder.parent, folder):
            _make_private(path)
        problem = untrusted(folder)
    except OSError as exc:
        problem = f"cannot be created ({exc.strerror or exc})"
    if problem:
        shown = str(folder)
        warnings.warn(CacheWarning(
            f"cache: {shown} {problem}; drawing without the cache (set SVGATTN_CACHE_DIR to a "
            "folder only you can write, or SVGATTN_CACHE=0 to turn it off)"), stacklevel=2)
        return None
    return folder


def _make_private(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700; an existing one is left as it
    is (and judged by :func:`untrusted`)."""
    if os.path.lexists(path):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # made by another process meanwhile
        os.mkdir(path, 0o700)


def untrusted(folder: Path) -> str:
    """Why ``folder`` could hold entries someone else wrote ("" when it cannot)."""
    me = os.geteuid()
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if info.st_uid != me:
        return f"is owned by another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"is writable by other users (mode {stat.S_IMODE(info.st_mode):o}; chmod 700 it)"
    parent = Path(os.path.realpath(folder.parent))
    for above in (parent, *parent.parents):
        st = os.stat(above)
        if st.st_uid not in (0, me):
            return f"lies in {above}, owned by another user (uid {st.st_uid})"
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return f"lies in {above}, which other users can write"
    return ""


def write_private(path: Path, data: bytes) -> None:
    """Write a cache file atomically (a private temporary file, then a rename); errors
    are ignored: the cache is an optimisation."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


@lru_cache(maxsize=1)
def font_fingerprint() -> str:
    """Changes when fonts are installed or fontconfig is reconfigured."""
    parts = []
    for name in (*_FONT_DIRS, os.path.expanduser("~/.cache/fontconfig"),
                 os.path.expanduser("~/.local/share/fonts"), os.path.expanduser("~/.fonts")):
        try:
            parts.append(f"{name}:{os.stat(name).st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    parts.append(os.environ.get("FONTCONFIG_FILE", ""))
    return f"{zlib.crc32('|'.join(parts).encode()):08x}"


class Answers:
    """Answers to questions that cost a process (fontconfig), one small JSON file each,
    so a process reads only the answers it asks for (a fallback-font listing is 600 KB;
    the seed figure needs three 60-byte answers). Values are plain JSON data, checked by
    whoever asks (a malformed answer is a miss)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._data: dict[str, Any] = {}

    def _path(self, key: str) -> Path | None:
        folder = directory()
        if folder is None:
            return None
        digest = zlib.crc32(key.encode("utf-8", "surrogatepass"))
        return folder / f"{self.name}-{font_fingerprint()}" / f"{digest:08x}.json"

    def get(self, key: str) -> Any:
        if key in self._data:
            return self._data[key]
        path = self._path(key)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        # A crc32 collision is possible: the file names its key, and a stranger's is a miss.
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key:
            return None
        self._data[key] = entry[1]
        return entry[1]

    def put(self, key: str, value: Any) -> None:
        self._data[key] = value
        path = self._path(key)
        if path is None:
            return
        try:
            _make_private(path.parent)
        except OSError:
            return
        write_private(path, json.dumps([key, value]).encode("utf-8"))

    def forget(self, key: str) -> None:
        """Drop a malformed answer (in memory; the file is rewritten by the next put)."""
        self._data.pop(key, None)


FONTCONFIG = Answers("fontconfig")
COLOUR_MAPS = Answers("colourmaps")  # a named map's colours, keyed by the catalogue's install


def bytecode_cache() -> Any:
    """A jinja2 bytecode cache in the verified cache folder (templates compile once, not
    per process), or ``None``. A damaged entry is a miss, never an error."""
    folder = directory()
    if folder is None:
        return None
    import jinja2

    class Bytecode(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # a truncated or foreign entry: compile again
                bucket.reset()

    target = folder / "templates"
    try:
        _make_private(target)
    except OSError:
        return None
    return Bytecode(str(target))
