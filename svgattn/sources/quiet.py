"""Keeping transformers' own output out of svgattn's.

transformers and huggingface_hub log load reports and deprecations, draw progress bars
("Loading weights", the GGUF conversion's), warn through Python's warnings, and can print
to standard output, which is the figure's stream with ``-o -``. Their text also repeats
what model files say (tensor names, config values), escape sequences included. While a
model loads and runs, all of it is kept in a buffer: with ``SVGATTN_DEBUG`` set it is
shown afterwards, each line made printable; otherwise svgattn's own one line per stage
is all stderr carries.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator

from ..errors import printable

_LOGGERS = ("transformers", "huggingface_hub", "accelerate", "torch")


def debug() -> bool:
    return os.environ.get("SVGATTN_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def hushed() -> Iterator[io.StringIO]:
    """Everything transformers and its friends say, kept (module docstring)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.level, logger.propagate))
        logger.handlers = [handler]  # transformers' own handler holds the real stderr
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    bars = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # tqdm bars made while this holds draw nothing
    progress = _progress_bars(False)
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stderr(buffer), contextlib.redirect_stdout(buffer):
            warnings.simplefilter("always")
            yield buffer
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers, logger.level, logger.propagate = handlers, level, propagate
        if bars is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = bars
        _progress_bars(progress)
        for w in caught:
            buffer.write(f"warning {w.category.__name__}: {w.message}\n")
        if debug() and buffer.getvalue():
            for line in buffer.getvalue().splitlines():
                print(f"svgattn: debug: {printable(line, 400)}", file=sys.stderr)


def _progress_bars(on: bool) -> bool:
    """Turn transformers' progress bars on or off; whether they were on."""
    tlog = sys.modules.get("transformers.utils.logging")
    if tlog is None:
        return True
    was = bool(tlog.is_progress_bar_enabled())
    (tlog.enable_progress_bar if on else tlog.disable_progress_bar)()
    return was


@contextlib.contextmanager
def stage(message: str, quiet: bool = False) -> Iterator[None]:
    """One line on stderr for a stage of a model run: what it is, then how long it took
    (``svgattn: loading model ... 2.1 s``); a stage that fails ends its line first, so the
    error that follows stands on its own."""
    start = time.perf_counter()
    if not quiet:
        sys.stderr.write(f"svgattn: {printable(message, 200)} ...")
        sys.stderr.flush()
    ended = False
    try:
        yield
        ended = True
    finally:
        if not quiet:
            tail = f" {time.perf_counter() - start:.1f} s" if ended else ""
            sys.stderr.write(f"{tail}\n")
            sys.stderr.flush()
