"""One exception family. Every message says what is wrong, where, and how to fix it.

Messages quote untrusted text (spec keys, token strings, file names), so they are made
safe once, here: control characters (a key made of ``ESC ] 0 ; ... BEL`` would retitle
the terminal), bidi overrides and line breaks become visible escapes, and a message is
one line of bounded length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_MESSAGE = 400
# C0/C1 controls, DEL, and format characters that reorder or hide text on a terminal.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                     "\ufff9-\ufffb\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` made safe for a terminal and a log line: escapes for invisible and
    control characters, at most ``limit`` characters (ending in an ellipsis)."""
    safe = _UNSAFE.sub(_escape, text)
    if len(safe) > limit:
        safe = safe[: limit - 1] + "\u2026"
    return safe


def quote(value: object, limit: int = 48) -> str:
    """A user-supplied value for a message: quoted, escaped, shortened."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    short = printable(text, limit)
    return "'" + short.replace("'", "\\'") + "'"


def quote_path(path: object, limit: int = 72) -> str:
    """A file name for a message: quoted, escaped, long ones shortened from the left
    (the end of a path says the most)."""
    short = printable(str(path), 10**6)
    if len(short) > limit:
        short = "\u2026" + short[-(limit - 1):]
    return "'" + short.replace("'", "\\'") + "'"


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice a mistyped ``word`` most likely meant, for a "did you mean" hint."""
    import difflib  # only errors need it: kept off the start-up path

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


class SvgattnError(Exception):
    """Base class of every error svgattn raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(printable(str(message)))


class SpecError(SvgattnError, ValueError):
    """A spec file or API argument describes a diagram that cannot be drawn."""


class ThemeError(SvgattnError, ValueError):
    """A theme file has an unknown key, a value of the wrong type, or an unsafe value."""


class FontError(SvgattnError):
    """A font family named by a theme does not resolve to an installed font file."""


class ExportError(SvgattnError):
    """Writing an output file failed; the destination was left untouched."""


class Terminated(BaseException):
    """SIGTERM, raised (by the command line's handler) where the process is, so that
    temporary files are removed and a batch stops its workers."""


class Interrupted(BaseException):
    """A batch stopped by Ctrl-C or SIGTERM: workers were stopped, nothing is half-written;
    ``report`` (a :class:`svgattn.batch.Report`) says what was written before."""

    def __init__(self, report: object, signal_number: int) -> None:
        super().__init__("interrupted")
        self.report = report
        self.signal_number = signal_number


class SvgattnWarning(UserWarning):
    """Something was drawn, but not quite as asked (the message says what and why)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(printable(str(message)))


class InputWarning(SvgattnWarning):
    """An input held something svgattn ignores or cannot use as given."""
