"""Many figures at once: every head of every layer, many inputs, several checkpoints.

:func:`plan` expands inputs (attention files, spec files, or :class:`~svgattn.data.Attention`
objects such as a model's run) and a selection of layers and heads into :class:`Job`\\ s,
one per output file named by a pattern (``figs/{stem}-{layer}-{head}.pdf``);
:func:`run` renders them on any :class:`concurrent.futures.Executor`: a local process
pool by default, or a Dask cluster (``Client(...).get_executor()``).

Workers only draw: they return the encoded figure and the parent writes it (atomically),
so a worker needs no access to the output directory, and a failure of one figure (a
poisoned input, a bad option) is reported by name while the others finish. A worker
reads an input file once and keeps it for the next figures of that file.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import re
import signal
import string
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .data import Attention
from .errors import (
    InputWarning,
    Interrupted,
    SpecError,
    SvgattnError,
    Terminated,
    printable,
    quote,
    quote_path,
)
from .limits import current, override
from .resources import cpus

ARRAYS = (".npz", ".npy")
SPECS = (".toml", ".json")
FIELDS = ("stem", "input", "layer", "head", "layer_name", "head_name", "view")


@dataclass(frozen=True)
class Source:
    """Where a job's attention comes from: a file (each worker reads it, once) or an
    :class:`Attention` in memory (sent with the job)."""

    name: str
    path: str | None = None
    attention: Attention | None = None
    batch_index: int | None = None


@dataclass(frozen=True)
class Job:
    """One figure to draw: its name (for messages), output file, source and options."""

    name: str
    output: str
    source: Source
    settings: Mapping[str, Any]  # view, theme, width, text mode
    options: Mapping[str, Any]  # figure options, with this job's layer and head
    fmt: str
    dpi: float = 300.0
    limits: Mapping[str, float] = field(default_factory=dict)


@dataclass
class Report:
    """What a batch did: outputs written and skipped, and failures as (name, message)."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        total = len(self.written) + len(self.skipped) + len(self.failed)
        parts = [f"{len(self.written)} written"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (exist; --force redraws them)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return f"batch: {total} figure(s): " + ", ".join(parts)


def plan(inputs: Iterable[str | os.PathLike[str] | Attention], output: str, *,
         layers: object = None, heads: object = None, view: str = "flow",
         theme: Any = None, width: Any = None, text: str | None = None, fmt: str | None = None,
         dpi: float = 300.0, batch_index: int | None = None,
         **options: Any) -> tuple[list[Job], list[tuple[str, str]]]:
    """The jobs for ``inputs`` (attention files, spec files, :class:`Attention` objects):
    one figure per input, or per selected layer and head when ``layers``/``heads`` are
    given (``"all"``, ``"0-3"``, ``[0, 5]`` ...). ``output`` is a pattern with fields
    ``{stem}`` (the input's name), ``{input}`` (its index), ``{layer}``, ``{head}``
    (indices), ``{layer_name}``, ``{head_name}`` and ``{view}``. Returns the jobs and
    the inputs that could not be planned (name, message): those are failures, not errors,
    so the other inputs still run. Raises :class:`SpecError` for a bad pattern or two
    figures that would write the same file."""
    from .diagram import check_dpi
    from .export import format_of
    from .fields import At, parse_all
    from .views.registry import get, option_schema

    get(view)
    dpi = check_dpi(dpi, "--dpi")
    fields = _fields(output)
    out_fmt = format_of(output.replace("{", "").replace("}", ""), fmt)
    opts = parse_all(options, option_schema(), At("batch"))
    settings = {k: v for k, v in (("view", view), ("theme", theme), ("width", width),
                                  ("text", text)) if v is not None}
    bounds = dict(current().__dict__)
    jobs: list[Job] = []
    failed: list[tuple[str, str]] = []
    items = list(inputs)
    for number, item in enumerate(items):
        try:
            source, att = _source(item, batch_index)
        except SvgattnError as exc:
            failed.append((_name(item), str(exc)))
            continue
        expand = layers is not None or heads is not None
        if att is None and expand:
            failed.append((source.name, "--layers/--heads expand attention files and models; "
                                        "a spec names its own layer and heads"))
            continue
        try:
            pairs = _pairs(att, layers, heads, source.name) if att is not None else [(None, None)]
        except SvgattnError as exc:
            failed.append((source.name, str(exc)))
            continue
        stem = Path(source.path).stem if source.path else source.name
        for layer, head in pairs:
            values = {"stem": stem, "input": number, "view": view,
                      "layer": "" if layer is None else layer,
                      "head": "" if head is None else head,
                      "layer_name": "" if layer is None or att is None else att.layer_names[layer],
                      "head_name": "" if head is None or att is None else att.head_names[head]}
            job_opts = dict(opts)
            if layer is not None:
                job_opts["layer"] = layer
            if head is not None:
                job_opts["heads"] = [head]
            name = source.name + "".join(
                f" {k} {v}" for k, v in (("layer", layer), ("head", head)) if v is not None)
            target = output.format(**{k: component(values[k]) for k in fields})
            jobs.append(Job(name, target, source, settings, job_opts, out_fmt, dpi, bounds))
    _check_unique(jobs, output, len(items))
    _check_places(jobs, output, _read_files(items, theme))
    return jobs, failed


def _read_files(items: list[Any], theme: Any) -> list[str]:
    """Every file a batch reads: its inputs, the files their specs name, a theme file."""
    from .sources.spec import named_files

    found = [str(i) for i in items if not isinstance(i, Attention)]
    for item in list(found):
        if item.lower().endswith(SPECS):
            found += [str(p) for p in named_files(item).values()]
    if isinstance(theme, (str, os.PathLike)) and os.path.isfile(theme):
        found.append(os.fspath(theme))
    return found


def run(jobs: Sequence[Job], *, executor: cf.Executor | None = None,
        workers: int | None = None, force: bool = False, progress: bool | None = None,
        failed: Sequence[tuple[str, str]] = ()) -> Report:
    """Render ``jobs`` and write their outputs: on ``executor`` (any
    :class:`concurrent.futures.Executor`, such as a Dask ``Client(...).get_executor()``)
    or, by default, on a local pool of ``workers`` processes (default: the CPU count; 1
    draws in this process). Outputs that exist are skipped unless ``force``. A failing
    figure is recorded in the report and the others go on. ``progress``: a progress bar
    on standard error (default: when it is a terminal).

    Ctrl-C or SIGTERM (:class:`~svgattn.errors.Terminated`) stops the batch promptly:
    pending figures are cancelled, local workers are stopped, no file is half-written,
    folders made for nothing are removed, and :class:`Interrupted` carries the report."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    report = Report(failed=list(failed))
    todo = []
    for job in jobs:
        if not force and os.path.lexists(job.output):
            report.skipped.append(job.output)
        else:
            todo.append(job)
    bar = tqdm(total=len(todo), unit="figure", disable=None if progress is None else not progress,
               dynamic_ncols=True, leave=False)
    made: list[Path] = []  # folders this batch created (removed again if left empty)

    def done(job: Job, result: Callable[[], tuple[bytes, list[str]]]) -> None:
        _record(report, job, result, made)
        bar.update(1)

    own: cf.ProcessPoolExecutor | None = None
    try:
        if executor is None and (workers == 1 or len(todo) <= 1):
            for job in todo:
                done(job, lambda job=job: render_job(job))  # type: ignore[misc]
            return report
        if executor is None:
            if any(j.fmt != "svg" for j in todo):
                from .export import load_cairosvg

                load_cairosvg()  # imported once, before the workers fork
            executor = own = cf.ProcessPoolExecutor(
                max_workers=workers or cpus(), mp_context=_context(), initializer=_worker)
        futures = {executor.submit(render_job, job): job for job in todo}
        try:
            for future in cf.as_completed(futures):
                done(futures[future], future.result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        if own is not None:
            own.shutdown()
    except (KeyboardInterrupt, Terminated) as exc:
        with _signals_ignored():
            if own is not None:
                _stop(own)
            _remove_empty(made)
        number = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        raise Interrupted(report, number) from None
    finally:
        bar.close()
    _remove_empty(made)
    return report


def _record(report: Report, job: Job, result: Callable[[], tuple[bytes, list[str]]],
            made: list[Path]) -> None:
    """Write one finished figure (atomically, its folder made on the way), or record why
    it failed."""
    from .files import write_atomic

    try:
        data, notes = result()
        made.extend(_make_folders(Path(job.output).parent))
        write_atomic(job.output, data)
        report.written.append(job.output)
        report.warnings.extend((job.name, n) for n in notes)
    except SvgattnError as exc:
        report.failed.append((job.name, str(exc)))
    except OSError as exc:
        report.failed.append((job.name, f"{quote_path(job.output)}: {exc.strerror or exc}"))
    except Exception as exc:  # a bug, or a worker lost: name the figure, go on
        report.failed.append((job.name, f"internal error ({type(exc).__name__}: "
                                        f"{printable(str(exc), 200)})"))


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first, as they were found
        with contextlib.suppress(OSError):
            folder.rmdir()


def _worker() -> None:
    """A local worker: Ctrl-C in the terminal reaches the whole process group; the parent
    alone decides (it stops the workers), and SIGTERM simply ends a worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop(executor: cf.ProcessPoolExecutor) -> None:
    """Stop a local pool at once: cancel what is queued, end the workers (SIGTERM, then
    SIGKILL after 3 s), never wait for a figure to finish."""
    processes = list(getattr(executor, "_processes", {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(3)
            if process.is_alive():
                process.kill()
                process.join(1)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored while a batch cleans up (a second Ctrl-C 0.3 s after the
    first must not interrupt the cleaning and leave workers behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def render_job(job: Job) -> tuple[bytes, list[str]]:
    """Draw one job (in a worker): the encoded figure and the warnings it raised."""
    from .diagram import Diagram

    with override(**job.limits), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if job.source.path is not None and job.source.path.lower().endswith(SPECS):
            diagram = Diagram.from_spec(job.source.path, **job.settings, **job.options)
        else:
            att = job.source.attention
            if att is None:
                assert job.source.path is not None
                att = _read(job.source.path, *_stamp(job.source.path), job.source.batch_index)
            diagram = Diagram.from_attention(att, **job.settings, **job.options)
        data = diagram.to_bytes(job.fmt, dpi=job.dpi)
    # an input's own warnings (ignored arrays ...) were shown once, when it was planned
    return data, [printable(str(w.message), 300) for w in caught
                  if not isinstance(w.message, InputWarning)]


_ADDRESS = re.compile(r"(tcp|tls|ws|wss)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):"
                      r"([0-9]{1,5})", re.ASCII)


def connect(address: str, timeout: float = 10.0) -> Any:
    """A Dask ``Client`` of the scheduler at ``address`` (``tcp://host:port``), or a one-line
    error: a malformed address, nothing listening, or a server that does not answer as a
    Dask scheduler within ``timeout`` seconds (the handshake runs in a daemon thread, so a
    server that never answers cannot hold the process)."""
    found = _ADDRESS.fullmatch(address.strip())
    if not found or not 1 <= int(found.group(3)) <= 65535:
        raise SpecError(f"--scheduler: {quote(address, 80)} is not a scheduler address; write "
                        "tcp://host:8786 (or tls://, ws://, wss://)")
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("--scheduler: needs Dask distributed; pip install 'svgattn[dask]'"
                        ) from None
    outcome: list[Any] = []

    def attempt() -> None:
        try:
            outcome.append(Client(address.strip(), timeout=timeout))
        except BaseException as exc:  # MemoryError: a server speaking another protocol
            outcome.append(exc)

    thread = threading.Thread(target=attempt, name="svgattn-scheduler", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if not outcome:
        raise SpecError(f"--scheduler: {quote(address, 80)} did not answer as a Dask scheduler "
                        f"within {timeout + 5:g} s; check the address and port")
    if isinstance(outcome[0], BaseException):
        exc = outcome[0]
        raise SpecError(f"--scheduler: cannot use {quote(address, 80)} ({type(exc).__name__}: "
                        f"{printable(str(exc), 100)}); check that a Dask scheduler listens "
                        "there") from None
    return outcome[0]


# --- helpers ------------------------------------------------------------------------------
def _fields(pattern: str) -> list[str]:
    """The fields of an output pattern: plain names only. A format spec or conversion
    (``{head:>5000000000}``) could ask for gigabytes of padding, so none is allowed."""
    if "\x00" in pattern:
        raise SpecError("-o: the pattern holds a NUL character; remove it")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise SpecError(f"-o: {quote(pattern)}: {exc}; write fields as {{layer}}") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            raise SpecError(f"-o: {quote(pattern)}: unknown field {quote('{' + name + '}')}; "
                            f"use {', '.join('{' + f + '}' for f in FIELDS)}")
        if spec or conversion:
            raise SpecError(f"-o: {quote(pattern)}: fields take no format spec or conversion; "
                            f"write {{{name}}}")
        names.append(name)
    return names


def component(value: object) -> str:
    """A field's value as one safe path component: separators, NUL and control
    characters become '_', and '', '.' and '..' become '_' (a head named '../../x' must
    not choose where a figure is written)."""
    text = "".join("_" if ch in "/\\" or ord(ch) < 0x20 or ch == "\x7f" else ch
                   for ch in str(value))[:200]
    return "_" if text.strip() in ("", ".", "..") else text


def base_folder(pattern: str) -> Path:
    """The folder an output pattern writes in: its directory before the first field."""
    literal = pattern.split("{", 1)[0].replace("}}", "}")
    folder = os.path.dirname(literal) if "{" in pattern else os.path.dirname(pattern)
    return Path(folder or ".")


def _name(item: object) -> str:
    return item.source if isinstance(item, Attention) else printable(str(item), 120)


def _source(item: object, batch_index: int | None) -> tuple[Source, Attention | None]:
    """The source of ``item`` and, to expand layers and heads, its attention (``None``
    for a spec file)."""
    if isinstance(item, Attention):
        return Source(item.source, attention=item), item
    path = str(item)
    suffix = Path(path).suffix.lower()
    if suffix in SPECS:
        from .diagram import check_spec_keys
        from .sources.spec import read_spec

        check_spec_keys(read_spec(path))  # a broken spec fails here, before any worker starts
        return Source(printable(path, 160), path=path), None
    if suffix not in ARRAYS:
        raise SpecError(f"{printable(Path(path).name, 60)}: unknown input format; give .npz or "
                        ".npy attention, or a .toml/.json spec")
    att = _read(path, *_stamp(path), batch_index)
    # named as given: checkpoints/1/attn.npz and checkpoints/2/attn.npz stay apart
    return Source(printable(path, 160), path=path, batch_index=batch_index), att


def _pairs(att: Attention, layers: object, heads: object,
           where: str) -> list[tuple[int | None, int | None]]:
    from .analysis.select import parse_selection

    ls = parse_selection(layers, att.layer_names, "layers", where)
    hs = parse_selection(heads, att.head_names, "heads", where)
    layer_choices: list[int | None] = list(ls) if ls else [None]
    head_choices: list[int | None] = list(hs) if hs else [None]
    return [(layer, head) for layer in layer_choices for head in head_choices]


def _check_places(jobs: list[Job], pattern: str, inputs: list[str]) -> None:
    """Before anything is drawn: every output lies inside the folder the pattern names (a
    symbolic link inside it cannot lead out), none is one of the inputs, and every folder
    can be made and written."""
    from .files import check_output, check_writable_folder

    base = Path(os.path.realpath(base_folder(pattern)))
    sources = {os.path.realpath(i) for i in inputs}
    for folder in sorted({os.path.dirname(job.output) or "." for job in jobs}):
        check_writable_folder(folder)
    for job in jobs:
        real = os.path.realpath(job.output)
        if not Path(real).is_relative_to(base):
            raise SpecError(f"-o: {quote_path(job.output)} ({job.name}) leads outside "
                            f"{quote_path(base)}, the folder the pattern names; remove the "
                            "symbolic link or change the pattern")
        if real in sources:
            raise SpecError(f"-o: {quote_path(job.output)} is one of the inputs; a batch never "
                            "writes over what it reads: change the pattern")
        if os.path.lexists(job.output):
            check_output(job.output)


def _check_unique(jobs: list[Job], pattern: str, inputs: int) -> None:
    seen: dict[str, str] = {}
    for job in jobs:
        key = os.path.realpath(job.output)
        if key in seen:
            need = "{stem}" if inputs > 1 else "{layer} and {head}"
            raise SpecError(f"-o: {quote(pattern)} names the same file for {seen[key]} and "
                            f"{job.name}; add {need} to the pattern")
        seen[key] = job.name


def _stamp(path: str) -> tuple[int, int]:
    """(mtime, size): a changed file is read again."""
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0  # the reader reports the problem
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=2)
def _read(path: str, mtime: int, size: int, batch_index: int | None) -> Attention:
    from .sources.arrays import load_file

    return load_file(path, batch_index=batch_index)


def _context() -> Any:
    """fork where it exists: workers start in milliseconds with svgattn (and cairosvg)
    already imported; elsewhere the platform's default."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)
