"""Import cairosvg fast, without trusting anything the cache folder holds as code.

cairosvg draws through cairocffi, which on every import (1) parses cairo's C declarations
with pycparser, about a fifth of a second, and (2) looks for libcairo with
``ctypes.util.find_library``, which starts ``gcc``, ``ld`` and ``ldconfig``. So:

- the declarations are kept as *data*: the arguments cffi's out-of-line generator would
  write into a Python module (type tables as bytes, names, numbers), stored as JSON in
  svgattn's verified cache folder (:mod:`svgattn.cache`) with a SHA-256 of its payload,
  keyed on cairocffi's version (from its distribution metadata), ``_cffi_backend``'s
  version, Python's version and a hash of the declarations. Loading them calls
  ``_cffi_backend.FFI(**arguments)``: nothing read from the cache is executed, imported
  or unpickled. A corrupt or mismatched entry is rebuilt.
- ``find_library`` is not cached at all: while cairocffi imports, the importing thread's
  calls for cairo's names answer "not found", so cairocffi falls back to
  ``dlopen("libcairo.so.2")``, the system loader's own trusted search (on Linux
  ``find_library`` returns that very soname). Other threads are answered by the real
  ``find_library``, and it is put back afterwards.

The ``cairocffi.ffi`` module svgattn provides carries ``ffi`` (the fast declarations) and,
on first use, ``ffi_pixbuf`` built on it exactly as cairocffi builds its own, so
``import cairocffi.pixbuf`` works as usual. Any failure falls back to the ordinary import;
outputs are identical either way (the same C library, the same declarations).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any

MODULE = "_svgattn_cairo_ffi"
LIBRARY_NAMES = ("cairo-2", "cairo", "libcairo-2")  # what cairocffi asks find_library for
_lock = threading.RLock()


def load() -> Any:
    """``import cairosvg``, the fast way when possible; returns the module."""
    with _lock:
        if "cairosvg" not in sys.modules and "cairocffi" not in sys.modules:
            try:
                _prepare()
            except Exception:  # the ordinary import below is always correct
                _undo()
        import cairosvg

        return cairosvg


def _undo() -> None:
    for name in [n for n in sys.modules if n == "cairocffi" or n.startswith("cairocffi.")]:
        del sys.modules[name]


def _prepare() -> None:
    from .cache import directory

    if not sys.platform.startswith("linux") or importlib.util.find_spec("xcffib") is not None:
        return  # dlopen by soname is Linux's; XCB declarations would have to be included
    folder = directory()
    spec = importlib.util.find_spec("cairocffi")
    if folder is None or spec is None or not spec.submodule_search_locations:
        return
    package = Path(next(iter(spec.submodule_search_locations)))
    headers = _constants(package)._CAIRO_HEADERS
    key = cache_key(package, headers)
    target = folder / f"cairo-ffi-{key}.json"
    arguments = read_entry(target, key)
    if arguments is None:
        arguments = generate(headers, MODULE)
        write_entry(target, key, arguments)
    import _cffi_backend

    ffi = _cffi_backend.FFI(MODULE, **arguments)
    sys.modules["cairocffi.ffi"] = _module(ffi, package)
    _import_cairocffi()


def cache_key(package: Path, headers: str) -> str:
    """What the entry depends on: cairocffi's distribution version (read from its
    metadata file: ``importlib.metadata`` costs 50 ms to import), ``_cffi_backend``'s
    version, Python's, and the declarations themselves."""
    import _cffi_backend

    parts = [distribution_version(package, "cairocffi"), str(_cffi_backend.__version__),
             "{}.{}".format(*sys.version_info[:2]), hashlib.sha256(headers.encode()).hexdigest()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def distribution_version(package: Path, name: str) -> str:
    """The ``Version:`` of the installed distribution ``name`` whose package is
    ``package`` (its ``*.dist-info/METADATA`` beside it), or ``unknown``."""
    for info in sorted(package.parent.glob(f"{name}-*.dist-info")):
        try:
            for line in (info / "METADATA").read_text(encoding="utf-8").splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
                if not line:
                    break
        except OSError:
            continue
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


# --- the declarations as data ------------------------------------------------------------
def generate(cdef: str, module: str, include: Any = None) -> dict[str, Any]:
    """The keyword arguments of ``_cffi_backend.FFI`` for ``cdef``: what cffi's
    out-of-line generator writes into a module, read back from its syntax tree as
    literals (never executed). ``include``: an ``api.FFI`` whose declarations these
    build on (its module's ``ffi`` is then passed as ``_includes``)."""
    import ast
    import contextlib
    import io
    import tempfile

    from cffi import FFI

    ffi = FFI()
    if include is not None:
        ffi.include(include)
    ffi.cdef(cdef)
    ffi.set_source(module, None)  # out-of-line ABI mode: Python only, no compiler
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ffi.py")
        with contextlib.redirect_stdout(io.StringIO()):  # cffi prints "generating ..."
            ffi.emit_python_code(path)
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    calls = [node.value for node in tree.body if isinstance(node, ast.Assign)
             and [getattr(t, "id", None) for t in node.targets] == ["ffi"]]
    if len(calls) != 1 or not isinstance(calls[0], ast.Call):
        raise ValueError("unexpected cffi output")
    out = {}
    for keyword in calls[0].keywords:
        if keyword.arg == "_includes":
            continue  # references to other modules: supplied by the caller
        assert keyword.arg is not None
        out[keyword.arg] = ast.literal_eval(keyword.value)
    return out


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"b"} or not isinstance(value["b"], str):
            raise ValueError("bad entry")
        return base64.b64decode(value["b"], validate=True)
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise ValueError("bad entry")


def _digest(key: str, payload: Any) -> str:
    text = json.dumps([key, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


ARGUMENTS = ("_version", "_types", "_globals", "_struct_unions", "_enums", "_typenames")


def write_entry(path: Path, key: str, arguments: dict[str, Any]) -> None:
    from .cache import write_private

    payload = {k: _encode(v) for k, v in arguments.items()}
    write_private(path, json.dumps({"key": key, "sha256": _digest(key, payload),
                                    "arguments": payload}).encode())


def read_entry(path: Path, key: str) -> dict[str, Any] | None:
    """The stored arguments, or ``None`` when missing, for another key, corrupt (its hash
    does not match) or not of the expected form."""
    try:
        entry = json.loads(path.read_bytes())
        payload = entry["arguments"]
        if entry["key"] != key or entry["sha256"] != _digest(key, payload):
            return None
        if not isinstance(payload, dict) or not set(payload) <= set(ARGUMENTS):
            return None
        return {k: _decode(v) for k, v in payload.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- the cairocffi.ffi module and the import ----------------------------------------------
def _module(ffi: Any, package: Path) -> types.ModuleType:
    module = types.ModuleType("cairocffi.ffi", "cairo's declarations (svgattn.fastcairo)")
    module.ffi = ffi  # type: ignore[attr-defined]
    module.__file__ = str(package / "ffi.py")
    state: dict[str, Any] = {}

    def attribute(name: str) -> Any:
        if name != "ffi_pixbuf":
            raise AttributeError(name)
        if "pixbuf" not in state:
            state["pixbuf"] = _pixbuf(ffi, package)
        return state["pixbuf"]

    setattr(module, "__getattr__", attribute)  # noqa: B010 - a module-level __getattr__
    return module


def _pixbuf(ffi: Any, package: Path) -> Any:
    """gdk-pixbuf's declarations on top of the fast ``ffi`` (as cairocffi's own ffi.py
    does on top of its own): its source's ``ffi_pixbuf.cdef`` text, read as a literal."""
    import ast

    import _cffi_backend
    from cffi import FFI

    tree = ast.parse((package / "ffi.py").read_text(encoding="utf-8"))
    texts = [ast.literal_eval(node.args[0]) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "cdef" and getattr(node.func.value, "id", "") == "ffi_pixbuf"]
    if len(texts) != 1:
        raise ImportError("cairocffi's gdk-pixbuf declarations were not found")
    base = FFI()
    base.cdef(_constants(package)._CAIRO_HEADERS)
    base.set_source(MODULE, None)
    arguments = generate(texts[0], MODULE + "_pixbuf", include=base)
    return _cffi_backend.FFI(MODULE + "_pixbuf", _includes=(ffi,), **arguments)


def _import_cairocffi() -> None:
    """Import cairocffi with ``find_library`` answering "not found" for cairo's names in
    this thread only, and restore it afterwards."""
    import ctypes.util

    real = ctypes.util.find_library
    me = threading.get_ident()

    def find_library(name: str) -> str | None:
        if threading.get_ident() == me and name in LIBRARY_NAMES:
            return None  # cairocffi then dlopens "libcairo.so.2" through the system loader
        return real(name)

    ctypes.util.find_library = find_library  # cairocffi binds it when it is imported
    try:
        import cairocffi  # noqa: F401
    finally:
        if ctypes.util.find_library is find_library:
            ctypes.util.find_library = real
    # cairocffi bound our function for its own later calls: give it the real one back
    package = sys.modules.get("cairocffi")
    if package is not None and getattr(package, "find_library", None) is find_library:
        package.find_library = real  # type: ignore[attr-defined]
