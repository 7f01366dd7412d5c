from __future__ import annotations

import os
import shutil
import sys
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
    return {el.get("id"): el for el in root.iter() if el.get("id")}


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
    """Print the cross-renderer report when this run wrote it (tests/test_cross_renderer.py)."""
    report = ROOT / "build" / "cross-renderer.txt"
    if report.exists() and report.stat().st_mtime >= SESSION_START:
        terminalreporter.section("cross-renderer report (build/cross-renderer.txt)")
        terminalreporter.write(report.read_text())
