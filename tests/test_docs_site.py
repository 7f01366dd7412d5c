"""The documentation site: strict build, every link and image resolves, nothing from outside.

Static pass (pure Python, every page): each href/src/srcset resolves to a file of the built
site, each #fragment to an id on its page, and nothing a page loads (img, script, stylesheet,
icon, iframe, source ...) points off the site. Browser pass (headless Chromium over the
DevTools pipe): each page served from 127.0.0.1 loads with no failed or 4xx/5xx request, no
broken image, no JavaScript exception and no request to another host; search finds pages
over http and from file://.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cdp
import pytest
from conftest import need

ROOT = Path(__file__).resolve().parents[1]

LOADS = {"img": ("src", "srcset"), "script": ("src",), "iframe": ("src",),
         "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
         "embed": ("src",), "object": ("data",)}
LINK_LOADS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest",
              "apple-touch-icon"}
# Outside hyperlinks a reader may follow (never fetched by the page); any other fails.
ALLOWED_OUTSIDE_LINKS = ("https://github.com/", "https://pypi.org/")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly (a warning is an error) as the README says."""
    import importlib.util

    need(importlib.util.find_spec("mkdocs") is not None, "the docs extra (mkdocs)")
    out = tmp_path_factory.mktemp("docs") / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, bool]] = []  # tag, url, loaded by the browser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and "href" in a:
            self.refs.append((tag, a["href"], False))
        elif tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            self.refs.append((tag, a["href"], bool(rels & LINK_LOADS)))
        for attr in LOADS.get(tag, ()):
            value = a.get(attr, "")
            urls = [u.split()[0] for u in value.split(",") if u.strip()] if attr == "srcset" \
                else [value] if value else []
            self.refs += [(tag, u, True) for u in urls]


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_links_and_images_resolve(site: Path) -> None:
    root = site.resolve()
    pages = {p.resolve(): _parse(p) for p in site.rglob("*.html")}
    problems = []
    for path, page in pages.items():
        where = path.relative_to(root)
        for tag, url, loaded in page.refs:
            parts = urlsplit(url)
            if parts.scheme in ("data", "mailto", "javascript", "blob"):
                continue
            if parts.scheme or parts.netloc:
                if loaded or not url.startswith(ALLOWED_OUTSIDE_LINKS):
                    verb = "loads" if loaded else "links to"
                    problems.append(f"{where}: <{tag}> {verb} {url}")
                continue
            if parts.path.startswith("/"):  # 404.html: root-relative, for a server at the root
                target = (root / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(root) or not target.is_file():
                problems.append(f"{where}: <{tag}> {url}: no such file")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where}: <{tag}> {url}: no id {parts.fragment!r}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[cdp.Browser]:
    need(cdp.chromium_path() is not None, "chromium")
    with cdp.Browser() as b:
        yield b


def test_pages_in_chromium(site: Path, served: str, browser: cdp.Browser) -> None:
    problems = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        r = browser.open(served + rel)
        ours = (served, "data:", "blob:", "about:")
        problems += [f"{rel}: request to {u}" for u in r["requests"] if not u.startswith(ours)]
        problems += [f"{rel}: failed request {e}" for e in r["failed"]]
        problems += [f"{rel}: HTTP {s} {u}" for u, s in r["bad_status"]]
        problems += [f"{rel}: broken image {u}" for u in r["broken_images"]]
        problems += [f"{rel}: JavaScript {e.get('text')} {e.get('url', '')}"
                     for e in r["js_errors"]]
    assert not problems, "\n".join(problems)


def test_the_site_has_its_pages(site: Path) -> None:
    """A page per view, the API reference, the gallery and the recipes, each with the
    figures it shows."""
    from svgattn.views.registry import load_all

    for view in load_all():
        page = site / "views" / f"{view}.html"
        assert page.is_file(), f"no page for the {view} view"
        text = page.read_text(encoding="utf-8")
        assert text.count("<img") >= 3, f"the {view} page shows fewer than three figures"
        assert 'id="options"' in text and "<code>--title</code>" in text  # its option table
    api = (site / "api" / "diagram.html").read_text(encoding="utf-8")
    assert "from_attention" in api and "from_model" in api
    assert (site / "gallery" / "index.html").read_text(encoding="utf-8").count("<img") >= 60
    for recipe in ("attention-sinks", "induction-heads", "bert-looks-at", "rollout", "images",
                   "paper-and-slides"):
        assert "<img" in (site / "recipes" / f"{recipe}.html").read_text(encoding="utf-8")


def test_search_over_http(served: str, browser: cdp.Browser) -> None:
    assert browser.search(served + "index.html", "Diagram") > 0


def test_search_from_file(site: Path, browser: cdp.Browser) -> None:
    # Material's offline plugin inlines the index; the vendored iframe-worker shim runs the worker
    assert browser.search((site / "index.html").as_uri(), "Diagram") > 0
