"""No fetch, ever: figures made from hostile tokens, titles, head names and themes are
opened in cairosvg, librsvg and headless Chromium while a listener on 127.0.0.1 counts
connections. It must count zero, and the SVG must hold no script, event handler,
external reference or ``url()`` other than a local gradient.
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from xml.etree import ElementTree

import cairosvg
import numpy as np
import pytest
from conftest import need, need_tools
from renderers import CHROMIUM, CHROMIUM_FLAGS

from svgattn import Diagram, Head


class Listener:
    """Counts TCP connections to 127.0.0.1:port (any protocol)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.hits.append(conn.recv(200))
            except OSError:
                self.hits.append(b"")
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def hostile_strings(port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}"
    return [
        f'<image href="{url}/img.png"/>',
        f"<script src='{url}/s.js'></script>",
        f"url({url}/css)",
        f"@import url({url}/i.css);",
        f'"><svg onload="fetch(\'{url}/onload\')">',
        f"<?xml-stylesheet href='{url}/x.css'?>",
        f'<!DOCTYPE x SYSTEM "{url}/dtd">',
        "&xxe;",
        f"javascript:fetch('{url}/js')",
        f"<style>@font-face{{src:url({url}/f.woff)}}</style>",
        f'<a xlink:href="{url}/a">x</a>',
        f"<foreignObject><iframe src='{url}/f'></iframe></foreignObject>",
        f"]]><![CDATA[{url}",
        f"<use href='{url}/u.svg#x'/>",
        "\x00\x1b[2J\ud800",
    ]


def hostile_figures(port: int, tmp: Path) -> list[Diagram]:
    strings = hostile_strings(port)
    n = len(strings)
    w = np.random.default_rng(1).random((n, n))
    w /= w.sum(axis=1, keepdims=True)
    heads = [Head(s[:60] or "h", tokens=[i]) for i, s in enumerate(strings[:6])]
    # Themes cannot carry markup (their values are validated); they try anyway.
    theme = tmp / "hostile.toml"
    theme.write_text('extends = "dark"\n[legend]\n'
                     f'title = "</text><script>fetch(\'http://127.0.0.1:{port}/t\')</script>"\n'
                     f'high_label = "url(http://127.0.0.1:{port}/h)"\n')
    return [Diagram(strings, w, heads, title=strings[2] + strings[0]),
            Diagram(strings, w, heads, title=strings[4], theme=theme, text="paths"),
            Diagram(strings, (w > 0.07).astype(float), heads[:2], title=strings[5],
                    theme="paper", width="6.5in"),
            Diagram(strings, w, heads, title=strings[1], cells="raster")]  # an <image>


EXTERNAL = re.compile(r"(href|src)\s*=\s*[\"'](?!#|data:image/png;base64,)", re.IGNORECASE)


def assert_inert(svg: str) -> None:
    root = ElementTree.fromstring(svg.encode("utf-8"))
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        assert tag not in ("script", "foreignObject", "use", "a", "iframe"), tag
        for name, value in el.attrib.items():
            local = name.split("}")[-1].lower()
            assert not local.startswith("on"), (tag, name)
            if tag == "image" and local == "href":  # a raster matrix: PNG bytes inline only
                assert re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/]+=*", value), value[:80]
                continue
            assert local not in ("href", "src"), (tag, name, value)
            assert "url(" not in value or re.fullmatch(r"url\(#[\w-]+\)", value), value
    style = "".join(el.text or "" for el in root.iter() if el.tag.endswith("style"))
    assert all(re.fullmatch(r"url\(#[\w-]+\)", u) for u in re.findall(r"url\([^)]*\)", style))
    assert "@import" not in style and "@font-face" not in style
    assert "<!DOCTYPE" not in svg and "<!ENTITY" not in svg and "<?xml-stylesheet" not in svg
    assert not EXTERNAL.search(svg.split("<style", 1)[0] + svg.split("</style>", 1)[-1])


def test_hostile_inputs_make_inert_svg(listener, tmp_path):
    for fig in hostile_figures(listener.port, tmp_path):
        assert_inert(fig.to_svg())


def test_no_renderer_fetches_anything(listener, tmp_path):
    need(CHROMIUM is not None, "Debian chromium")
    need_tools("rsvg-convert")
    for k, fig in enumerate(hostile_figures(listener.port, tmp_path)):
        svg = fig.to_svg()
        path = tmp_path / f"f{k}.svg"
        path.write_text(svg, encoding="utf-8")
        for fmt in ("pdf", "png", "eps"):  # cairosvg, through svgattn's export
            fig.to_bytes(fmt, dpi=72)
        cairosvg.svg2png(bytestring=svg.encode("utf-8"))  # and cairosvg called directly
        subprocess.run(["rsvg-convert", str(path), "-o", str(tmp_path / f"r{k}.png")],
                       check=True, capture_output=True)
        page = tmp_path / f"p{k}.html"
        # inline (scripts would run here) and as an image
        page.write_text(f"<!DOCTYPE html><html><body>{svg.split('?>', 1)[1]}"
                        f'<img src="{path.name}"></body></html>', encoding="utf-8")
        for target in (path, page):
            with tempfile.TemporaryDirectory() as profile:
                subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                "--window-size=800,600", "--virtual-time-budget=3000",
                                f"--screenshot={tmp_path / 'shot.png'}", target.as_uri()],
                               check=True, capture_output=True, timeout=120)
    assert listener.hits == [], f"{len(listener.hits)} connection(s): {listener.hits[:3]}"


def test_the_listener_does_count(listener, tmp_path):
    """The check above cannot pass by accident: a page that does fetch is counted."""
    need(CHROMIUM is not None, "Debian chromium")
    page = tmp_path / "fetching.html"
    page.write_text(f'<img src="http://127.0.0.1:{listener.port}/probe.png">')
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        "--virtual-time-budget=3000", f"--screenshot={tmp_path / 's.png'}",
                        page.as_uri()], capture_output=True, timeout=120)
    assert listener.hits, "the listener saw nothing; the no-fetch test would prove nothing"
