"""Drawing a batch on a Dask cluster: the scheduler's address checked, the handshake bounded."""

from __future__ import annotations

import re
import threading
from typing import Any

from ..errors import SpecError, printable, quote

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
