"""Running a batch on any :class:`concurrent.futures.Executor`: a local process pool by
default, or a Dask cluster. Workers only draw; this process writes each figure
(atomically) and reports failures by name while the others finish. Ctrl-C and SIGTERM stop
the workers at once and nothing is left half-written."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputWarning, Interrupted, SvgattnError, Terminated, printable, quote_path
from ..limits import override
from ..resources import cpus
from .jobs import SPECS, Job, Report
from .planning import read_attention, stamp


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
                from ..export import load_cairosvg

                load_cairosvg()  # imported once, before the workers fork
            executor = own = cf.ProcessPoolExecutor(
                max_workers=workers or cpus(), mp_context=_context(), initializer=_worker)
        futures = {executor.submit(render_job, job): job for job in todo}
        try:
            for future in cf.as_completed(futures):
                done(futures[future], future.result)
        except BaseException as exc:
            if own is None:  # another's executor: what is queued is dropped
                for future in futures:
                    future.cancel()
            elif not isinstance(exc, (KeyboardInterrupt, Terminated)):
                _stop(own)  # a local pool is stopped whole, its futures untouched (after
            raise  # an interrupt, below, with the signals ignored)
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
    from ..files import write_atomic

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
    """Stop a local pool at once: end the workers (SIGTERM, then SIGKILL after 3 s), never
    wait for a figure to finish, and leave no thread that would keep the process alive.

    A worker ended while it sent its figure leaves half a message in the result pipe: the
    pool's manager thread would wait for the rest for ever (and the interpreter waits for
    that thread at exit). Closing this process's end of the pipe, the last writer once the
    workers are gone, ends its read. Futures are not cancelled here: Python 3.11's manager,
    finding its workers gone, fails every pending future, and a cancelled one makes it die
    (InvalidStateError) before it closes the pool's pipes."""
    processes = list(getattr(executor, "_processes", {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(3)
            if process.is_alive():
                process.kill()
                process.join(1)
    results = getattr(executor, "_result_queue", None)
    with contextlib.suppress(Exception):
        results._writer.close()  # type: ignore[union-attr]
    executor.shutdown(wait=False)
    if manager is not None:
        manager.join(3)


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
    from ..diagram import Diagram

    with override(**job.limits), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if job.source.path is not None and job.source.path.lower().endswith(SPECS):
            diagram = Diagram.from_spec(job.source.path, **job.settings, **job.options)
        else:
            att = job.source.attention
            if att is None:
                assert job.source.path is not None
                path = job.source.path
                att = read_attention(path, *stamp(path), job.source.batch_index)
            diagram = Diagram.from_attention(att, **job.settings, **job.options)
        data = diagram.to_bytes(job.fmt, dpi=job.dpi)
    # an input's own warnings (ignored arrays ...) were shown once, when it was planned
    return data, [printable(str(w.message), 300) for w in caught
                  if not isinstance(w.message, InputWarning)]


def _context() -> Any:
    """fork where it exists: workers start in milliseconds with svgattn (and cairosvg)
    already imported; elsewhere the platform's default."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)
