"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (stdlib only).

Chromium reads commands on fd 3 and writes replies and events on fd 4, each a JSON message
ended by NUL: no websocket library, no Playwright, no browser download.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         # nothing resolves but 127.0.0.1: no request can leave the machine, and one that
         # tries still shows as Network.requestWillBeSent (then fails ERR_NAME_NOT_RESOLVED)
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def chromium_path() -> str | None:
    """The browser binary (Debian's /usr/bin/chromium is a shell launcher in front of it)."""
    for name in ("/usr/lib/chromium/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if name and os.access(name, os.X_OK):
            return name
    return None


class Browser:
    """One headless Chromium with a fresh profile; open() loads a page in a new tab."""

    def __init__(self, binary: str | None = None) -> None:
        binary = binary or chromium_path()
        if not binary:
            raise FileNotFoundError("chromium")
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        to_chrome, self._w = os.pipe()
        self._r, from_chrome = os.pipe()
        argv = [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
                "about:blank"]
        # posix_spawn puts the pipe ends on fds 3 and 4 with no preexec_fn (unsafe once the
        # test's HTTP server thread runs); every other fd of ours is close-on-exec already.
        self.pid = os.posix_spawn(binary, argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, to_chrome, 3),
            (os.POSIX_SPAWN_DUP2, from_chrome, 4)])
        os.close(to_chrome)
        os.close(from_chrome)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the pipe")
            self._buf += chunk
        message, self._buf = self._buf.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self._id += 1
        message: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _wait_event(self, method: str, session: str, timeout: float = 30) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(max(0.0, deadline - time.monotonic()))
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    def _drain(self, quiet: float, limit: float) -> None:
        """Collect events until none comes for `quiet` s (network idle), `limit` s at most."""
        deadline = time.monotonic() + limit
        with contextlib.suppress(TimeoutError):
            while time.monotonic() < deadline:
                self.events.append(self._read(quiet))

    def _tab(self, url: str) -> tuple[str, str]:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        s = session["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.send(f"{domain}.enable", session=s)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=s)
        self._wait_event("Page.loadEventFired", s)
        return target, s

    def _evaluate(self, session: str, js: str) -> object:
        result = self.send("Runtime.evaluate", {"expression": js, "returnByValue": True},
                           session=session)
        return result["result"].get("value")

    def _close_tab(self, target: str, session: str) -> None:
        self.send("Target.closeTarget", {"targetId": target})
        self.events = [e for e in self.events if e.get("sessionId") != session]

    def open(self, url: str, quiet: float = 0.5, limit: float = 15.0) -> dict:
        """Load url; its requests, failed requests, HTTP errors, broken images, JS errors."""
        target, s = self._tab(url)
        self._drain(quiet, limit)
        broken = self._evaluate(s, """[...document.images]
            .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.currentSrc || i.src)""")
        mine = [e for e in self.events if e.get("sessionId") == s]

        def params(method: str) -> list[dict]:
            return [e["params"] for e in mine if e.get("method") == method]

        report = {
            "requests": [p["request"]["url"] for p in params("Network.requestWillBeSent")],
            "failed": [p.get("errorText") for p in params("Network.loadingFailed")],
            "bad_status": [(p["response"]["url"], p["response"]["status"])
                           for p in params("Network.responseReceived")
                           if p["response"]["status"] >= 400],
            "broken_images": broken,
            "js_errors": [p["exceptionDetails"] for p in params("Runtime.exceptionThrown")],
        }
        self._close_tab(target, s)
        return report

    def search(self, url: str, query: str, timeout: float = 15.0) -> int:
        """Type query into Material's search box on url; the number of results it lists."""
        target, s = self._tab(url)
        deadline = time.monotonic() + timeout
        # the box shows only once the search worker has loaded the index
        while time.monotonic() < deadline and not self._evaluate(
                s, "!!document.querySelector('.md-search__input')?.offsetParent"):
            time.sleep(0.1)
        self._evaluate(s, "document.querySelector('.md-search__input').focus()")
        self.send("Input.insertText", {"text": query}, session=s)
        hits = 0
        while time.monotonic() < deadline and not hits:
            hits = int(self._evaluate(
                s, "document.querySelectorAll('.md-search-result__item').length") or 0)
            time.sleep(0.1)
        self._close_tab(target, s)
        return hits

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
