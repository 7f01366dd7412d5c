"""Import cairosvg fast.

cairosvg draws through cairocffi, which on every import (1) parses cairo's C declarations
with pycparser, about a quarter of a second, and (2) looks for libcairo with
``ctypes.util.find_library``, which starts ``gcc``, ``ld`` and ``ldconfig``. Both answers
never change between processes, so they are kept in svgattn's cache (:mod:`svgattn.cache`):

- the declarations as cffi's *out-of-line* module (pure Python, emitted once with
  ``FFI.emit_python_code``; loading it takes milliseconds, no compiler involved);
- the library path ``find_library`` found.

:func:`load` installs both before importing cairosvg; any failure (no cache, another
cairocffi, xcffib present) falls back to the ordinary import. Outputs are unchanged: the
same C library is called through the same declarations.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

_MODULE = "_svgattn_cairo_ffi"


def load() -> Any:
    """``import cairosvg``, the fast way when possible; returns the module."""
    if "cairosvg" in sys.modules:
        return sys.modules["cairosvg"]
    try:
        _prepare()
    except Exception:
        sys.modules.pop("cairocffi.ffi", None)
    import cairosvg

    return cairosvg


def _prepare() -> None:
    from . import cache

    if "cairocffi" in sys.modules or importlib.util.find_spec("xcffib") is not None:
        return  # already imported, or XCB declarations to include: leave it alone
    folder = cache.directory()
    spec = importlib.util.find_spec("cairocffi")
    if folder is None or spec is None or not spec.submodule_search_locations:
        return
    package = Path(next(iter(spec.submodule_search_locations)))
    version = _version(package)
    target = folder / f"{_MODULE}_{version}.py"
    if not target.is_file():
        _emit(package, target)
    module_spec = importlib.util.spec_from_file_location(_MODULE, target)
    if module_spec is None or module_spec.loader is None:
        return
    compiled = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(compiled)
    shim = types.ModuleType("cairocffi.ffi")
    shim.ffi = compiled.ffi  # type: ignore[attr-defined]
    setattr(shim, "__getattr__", _slow_pixbuf)  # noqa: B010 - ffi_pixbuf: unused by cairosvg
    sys.modules["cairocffi.ffi"] = shim
    _remember_library()


def _version(package: Path) -> str:
    text = (package / "__init__.py").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("VERSION"):
            return "".join(c for c in line.split("=")[-1] if c.isalnum() or c == ".")
    return "unknown"


def _constants(package: Path) -> Any:
    """cairocffi's constants module, loaded on its own (importing it through the package
    would run the slow declarations)."""
    spec = importlib.util.spec_from_file_location("_svgattn_cairo_constants",
                                                  package / "constants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _emit(package: Path, target: Path) -> None:
    import contextlib
    import io
    import os
    import tempfile

    from cffi import FFI

    ffi = FFI()
    ffi.cdef(_constants(package)._CAIRO_HEADERS)
    ffi.set_source(_MODULE, None)  # out-of-line ABI mode: Python only, no compiler
    fd, temp = tempfile.mkstemp(dir=target.parent, suffix=".py")
    os.close(fd)
    with contextlib.redirect_stdout(io.StringIO()):  # cffi prints "generating ..."
        ffi.emit_python_code(temp)
    os.replace(temp, target)


def _slow_pixbuf(name: str) -> Any:
    if name != "ffi_pixbuf":
        raise AttributeError(name)
    raise ImportError("svgattn's fast cairo import has no gdk-pixbuf declarations")


def _remember_library() -> None:
    """Answer cairocffi's ``find_library("cairo")`` from the cache (asked once)."""
    import ctypes.util

    from . import cache

    real = ctypes.util.find_library

    def cached(name: str) -> str | None:
        key = f"find_library:{name}"
        known = cache.FONTCONFIG.get(key)
        if isinstance(known, str):
            return known or None
        found = real(name)
        cache.FONTCONFIG.put(key, found or "")
        return found

    ctypes.util.find_library = cached  # cairocffi binds it when its package is imported
    try:
        import cairocffi  # noqa: F401
    finally:
        ctypes.util.find_library = real
