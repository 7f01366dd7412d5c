"""What svgattn finds around it: where templates and built-in themes live (inside the
wheel, or at the repository top), and how many cores it may use."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the ``templates``, ``themes`` or ``specs`` (gallery specs) directory.

    The wheel ships them as ``svgattn/_data/<name>``; a source checkout keeps them at the
    repository top level (the design card fixes that layout).
    """
    in_repo = {"specs": "gallery/specs"}.get(name, name)
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / in_repo):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"svgattn is installed without its {name}/ directory; reinstall it")


def cpus() -> int:
    """Cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
