"""Command line: ``svgattn render | model | demo | batch | views | themes``.

Figure options come from one schema (:func:`svgattn.views.registry.option_schema`), so
every option is a flag here, a spec key and a keyword argument alike. User errors print
one line and exit 2; an internal error prints one line and exits 1. The commands are
imported after the signal handlers are in place, so an interrupt while Python loads
svgattn is one line too.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from ..captions import counted
from ..errors import Interrupted, SvgattnError, Terminated, printable

USER_ERROR = 2
INTERNAL_ERROR = 1


def _warn(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: TextIO | None = None, line: str | None = None) -> None:
    print(f"svgattn: warning: {printable(str(message))}", file=sys.stderr)


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: the rest would interrupt
    raise Terminated  # the cleaning up


def _interrupted(report: Any) -> str:
    done = len(report.written)
    if not done:
        return "svgattn: interrupted; no output was changed"
    return (f"svgattn: interrupted; {counted(done, 'figure')} had been written (each whole), "
            "the rest were not drawn")


def _deaf() -> None:
    """Once interrupted, further Ctrl-C and SIGTERM change nothing: the process is ending
    (a second Ctrl-C while it says so must not add a traceback)."""
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 internal bug)."""
    warnings.showwarning = _warn  # one line, no source location
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    command = None
    try:
        from ..limits import override
        from . import commands
        from .parser import build, limits, views_of

        given = list(sys.argv[1:] if argv is None else argv)
        command = given[0] if given and given[0] in ("render", "model", "demo", "batch") else None
        args = build(views_of(given), command).parse_args(given)
        command = getattr(commands, args.command)
        with override(**limits(args)):
            status = command(args)
        if status:
            return int(status)
    except SvgattnError as exc:  # bad input or an impossible request: say what and how to fix
        print(f"svgattn: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except Interrupted as exc:  # a batch: it says what it had written
        _deaf()
        print(_interrupted(exc.report), file=sys.stderr)
        return 128 + int(exc.signal_number)
    except (KeyboardInterrupt, Terminated) as exc:
        _deaf()
        print("svgattn: interrupted; no output was changed", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:  # a bug in svgattn: one line, the traceback on request
        if os.environ.get("SVGATTN_DEBUG"):
            raise
        print(f"svgattn: internal error ({type(exc).__name__}: {printable(str(exc), 200)}); "
              "please report it with the input (SVGATTN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return INTERNAL_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
