from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "gallery" / "specs" / "seed.toml"
SVG_NS = "{http://www.w3.org/2000/svg}"
sys.path.insert(0, str(Path(__file__).resolve().parent))
# In CI (CI=true) a test whose tool, font or model weights are missing fails: .ci/run must
# install everything. Outside CI it is skipped with the reason.
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
# Tests never use the developer's own cache (~/.cache/svgattn): each test process (and the
# svgattn processes it starts) gets a private, empty one.
# It is removed when the process ends: a converted SmolLM2 is 0.5 GB, and runs that left
# theirs behind filled a disk.
os.environ["SVGATTN_CACHE_DIR"] = tempfile.mkdtemp(prefix="svgattn-test-cache-")
atexit.register(shutil.rmtree, os.environ["SVGATTN_CACHE_DIR"], ignore_errors=True)
os.environ.pop("SVGATTN_CACHE", None)


def need(available: bool, what: str) -> None:
    """Skip (or, in CI, fail) the calling test when ``what`` is not available."""
    if available:
        return
    message = f"{what} is not installed (.ci/run installs it)"
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    need(not missing, ", ".join(missing))


def seed_weights() -> np.ndarray:
    w = np.zeros((5, 5))
    w[:2, :2] = 1
    w[2:, 2:] = 1
    return w


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg.encode("utf-8"))


def by_id(root: ElementTree.Element) -> dict[str, ElementTree.Element]:
    """Elements by their figure-local id (the figure's prefix stripped)."""
    prefix = root.get("class", "") + "-"
    return {el.get("id").removeprefix(prefix): el for el in root.iter() if el.get("id")}


PAINT = ("fill", "stroke", "stroke-width", "opacity", "font-weight", "stroke-linecap")


def paint(el: ElementTree.Element) -> dict[str, str]:
    """An element's paint: its SVG 1.1 presentation attributes (svgattn writes no paint in
    CSS, so a reader that ignores <style> draws the same figure)."""
    return {k: v for k in PAINT if (v := el.get(k)) is not None}


def local_classes(el: ElementTree.Element, root: ElementTree.Element) -> list[str]:
    prefix = root.get("class", "") + "-"
    return [c.removeprefix(prefix) for c in (el.get("class") or "").split()]


@pytest.fixture
def seed_path() -> Path:
    return SEED


@pytest.fixture
def gallery_svgs() -> list[Path]:
    paths = sorted((ROOT / "gallery").glob("*.svg"))
    assert paths, "the gallery has no SVGs; run python gallery/build.py"
    return paths


SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter):
    """Gather the cross-renderer numbers this run wrote (tests/test_cross_renderer.py) into
    build/cross-renderer.txt and print them."""
    import json

    folder = ROOT / "build" / "cross-renderer.d"
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stat().st_mtime >= SESSION_START:
            rows.append(json.loads(path.read_text()))
    if not rows:
        return
    lines = ["figure                      mode    rsvg MAD  chromium MAD  overflow px "
             "(cairo/rsvg/chromium)"]
    for r in sorted(rows, key=lambda r: r["key"]):
        stem, mode = r["key"].rsplit(":", 1)
        lines.append(f"{stem:27} {mode:7} {r['rsvg']:8.3f}  {r['chromium']:12.3f}  "
                     f"{r.get('overflow', '-')}")
    lines.append("MAD: mean absolute difference from cairosvg per RGB channel, 0..255 (limit in "
                 "paths mode: 1.0); renders at 2 px/pt.")
    report = "\n".join(lines) + "\n"
    (ROOT / "build" / "cross-renderer.txt").write_text(report)
    terminalreporter.section("cross-renderer report (build/cross-renderer.txt)")
    terminalreporter.write(report)
