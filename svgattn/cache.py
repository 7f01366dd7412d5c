"""A per-user cache that makes every process after the first one fast.

What it keeps: fontconfig's answers (each costs a process), the compiled jinja2
templates, and cairocffi's parsed C declarations (see :mod:`svgattn.fastcairo`). Nothing in
it changes an output: a cache miss recomputes the same thing. It lives in
``$SVGATTN_CACHE_DIR``, else ``$XDG_CACHE_HOME/svgattn``, else ``~/.cache/svgattn``;
``SVGATTN_CACHE=0`` turns it off, and an unwritable location silently turns it off.
Entries are keyed by the svgattn version and by a fingerprint of the installed fonts, so
installing a font or upgrading svgattn invalidates them.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

_FONT_DIRS = ("/etc/fonts", "/var/cache/fontconfig", "/usr/share/fonts", "/usr/local/share/fonts")


@lru_cache(maxsize=1)
def directory() -> Path | None:
    """The cache folder, created on first use; ``None`` when caching is off or impossible."""
    if os.environ.get("SVGATTN_CACHE", "1").strip() in ("0", "false", "no", "off"):
        return None
    base = os.environ.get("SVGATTN_CACHE_DIR")
    if base:
        folder = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        folder = (Path(xdg) if xdg else Path.home() / ".cache") / "svgattn"
    from . import __version__

    folder = folder / __version__
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        probe.touch()
    except OSError:
        return None
    return folder


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


class _Store:
    """Answers kept one small file each, so a process reads only the answers it asks for
    (a fallback-font listing is 600 KB; the seed figure needs three 60-byte answers)."""

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
            path.parent.mkdir(exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump([key, value], fh)
            os.replace(temp, path)
        except OSError:
            pass


FONTCONFIG = _Store("fontconfig")


def bytecode_cache() -> Any:
    """A jinja2 bytecode cache in the cache folder (templates compile once, not per
    process), or ``None``."""
    folder = directory()
    if folder is None:
        return None
    import jinja2

    target = folder / "templates"
    try:
        target.mkdir(exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(target))
