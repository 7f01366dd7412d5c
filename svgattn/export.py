"""SVG -> SVG/PDF/PNG/EPS through cairosvg. Atomic writes, byte-identical output.

cairosvg is always called on a byte string with ``unsafe`` left False, so it resolves
no entities and fetches nothing but ``data:`` URLs.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .errors import ExportError, quote, quote_path

FORMATS = ("svg", "pdf", "png", "eps")
INPUT_SUFFIXES = ("toml", "json", "npz", "npy")  # what svgattn reads: never written with --format
TEMP_SUFFIX = ".svgattn-tmp"
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})(Z|[+-]\d\d'\d\d'?)?\)")
_PS_DATE = re.compile(rb"^%%CreationDate: [^\n]*$", re.MULTILINE)


def format_of(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format: the file suffix, or ``fmt``; when both are given they must agree
    (``--format pdf -o out.svg`` would write PDF bytes into a .svg file)."""
    name = Path(path).name
    suffix = Path(path).suffix.lstrip(".").lower()
    if fmt is not None:
        fmt = str(fmt).lower()
        if fmt not in FORMATS:
            raise ExportError(f"format: {quote(fmt)} is not one of {', '.join(FORMATS)}")
        if suffix in INPUT_SUFFIXES:
            raise ExportError(f"output: {quote_path(name)} is named like an input (.{suffix}), "
                              f"but would hold {fmt.upper()}; name the file .{fmt}")
        if suffix in FORMATS and suffix != fmt:
            raise ExportError(f"output: --format {fmt} does not match the file name "
                              f"{quote_path(name)}; name the file .{fmt} or drop --format")
        return fmt
    if suffix not in FORMATS:
        raise ExportError(f"output: cannot tell the format from {quote_path(name)}; use a .svg, "
                          ".pdf, .png or .eps file name (or --format)")
    return suffix


def _fixed_pdf_date(match: re.Match[bytes]) -> bytes:
    # Same length as the original: the cross-reference table holds byte offsets.
    tail = match.group(3) or b""
    fixed_tail = b"Z" if tail in (b"", b"Z") else b"+00'00'"[: len(tail)]
    return b"/%s (D:19700101000000%s)" % (match.group(1), fixed_tail)


def encode_png(argb: np.ndarray, dpi: float) -> bytes:
    """A PNG of cairo's pixels (``[h, w, 4]`` premultiplied BGRA bytes): RGB when every
    pixel is opaque, else RGBA un-premultiplied as cairo does; a pHYs chunk so viewers
    and LaTeX know the resolution. cairo's own writer asks libpng for adaptive filters
    at its default effort: 0.6 s for a 6.5 in figure at 300 dpi; rows unfiltered at zlib
    level 3 take a fifth of that, and are smaller for figures of flat colour."""
    import numpy as np

    from .render.png import encode

    alpha = argb[..., 3]
    if bool((alpha == 255).all()):
        pixels = argb[..., 2::-1]
    else:
        a = alpha.astype(np.uint32)
        rgb = argb[..., 2::-1].astype(np.uint32) * 255 + (a // 2)[..., None]
        np.floor_divide(rgb, np.maximum(a, 1)[..., None], out=rgb)
        rgb[alpha == 0] = 0
        pixels = np.concatenate([rgb.astype(np.uint8), alpha[..., None]], axis=2)
    return encode(pixels, level=3, dpi=dpi)


def _draw_png(data: bytes, dpi: float) -> bytes:
    """cairosvg draws; :func:`encode_png` writes the PNG."""
    import numpy as np
    from cairosvg.surface import PNGSurface, Surface

    encoded: list[bytes] = []

    class Pixels(PNGSurface):
        def finish(self) -> None:
            surface = self.cairo
            surface.flush()
            h, w, stride = surface.get_height(), surface.get_width(), surface.get_stride()
            rows = np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(h, stride)
            # encoded while cairo's buffer is alive: no copy of the pixels
            encoded.append(encode_png(rows[:, : w * 4].reshape(h, w, 4), dpi))
            Surface.finish(self)  # not PNGSurface's: cairo's PNG writer is what is replaced

    Pixels.convert(bytestring=data, dpi=dpi)
    return encoded[0]


_FAMILY = re.compile(rb'font-family(?:: |=)"([A-Za-z0-9 ._-]+)"')
_warmed: set[bytes] = set()


def load_cairosvg() -> tuple[Any, type[Exception]]:
    """cairosvg and cairo's error type, imported on first use: writing SVG needs neither
    (cairocffi alone takes a quarter of a second to import)."""
    from .fastcairo import load

    cairosvg = load()
    from cairocffi import CairoError

    return cairosvg, CairoError


def _warm_fonts(svg: bytes) -> None:
    """Make cairo meet every font family first on an image surface.

    cairo caches a font face per family, configured (hinting, antialiasing) by the
    surface that first used it; a PDF rendered first would change every later PNG of
    the process. Rendering a tiny PNG with each new family first makes the cache state,
    and so every output, independent of what was rendered before.
    """
    families = sorted(set(_FAMILY.findall(svg)) - _warmed)
    if not families:
        return
    cairosvg, _ = load_cairosvg()
    texts = b"".join(b'<text x="0" y="9" font-family="%s">a</text>'
                     b'<text x="0" y="9" font-family="%s" font-weight="bold">a</text>' % (f, f)
                     for f in families)
    cairosvg.svg2png(bytestring=b'<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                     b'height="10">' + texts + b"</svg>")
    _warmed.update(families)


def convert(svg: str, fmt: str, *, dpi: float = 300.0) -> bytes:
    """Return the bytes of ``svg`` in ``fmt``; deterministic for equal input."""
    data = svg.encode("utf-8")
    if fmt == "svg":
        return data
    if fmt not in FORMATS:
        raise ExportError(f"format: unknown format {quote(fmt)}; use one of {', '.join(FORMATS)}")
    cairosvg, cairo_error = load_cairosvg()
    try:
        _warm_fonts(data)
        if fmt == "pdf":
            return _PDF_DATE.sub(_fixed_pdf_date, cairosvg.svg2pdf(bytestring=data))
        if fmt == "eps":
            return _PS_DATE.sub(b"%%CreationDate: (fixed for reproducible output)",
                                cairosvg.svg2eps(bytestring=data))
        # The SVG is sized in points: 1pt = dpi/72 pixels.
        return _draw_png(data, dpi)
    except MemoryError:
        raise ExportError(f"{fmt}: not enough memory to draw the figure; lower --dpi or the "
                          "figure size") from None
    except (ValueError, OSError, OverflowError, ZeroDivisionError, RecursionError,
            cairo_error) as exc:  # name the step and the fix
        raise ExportError(f"{fmt}: cairo could not draw the figure ({type(exc).__name__}: "
                          f"{str(exc)[:120]}); lower --dpi or the figure size, or export SVG"
                          ) from None


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
        if path is not None and os.path.realpath(path) == real:
            raise ExportError(f"output: {quote_path(output)} is the {what} this run reads; write "
                              "the figure to another file")


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
