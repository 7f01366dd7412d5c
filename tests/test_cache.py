"""The per-user cache (svgattn.cache): one small file per answer, keyed by the fonts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from svgattn import __version__, cache

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SVGATTN_CACHE", raising=False)
    cache.directory.cache_clear()
    yield tmp_path
    cache.directory.cache_clear()


def test_answers_survive_the_process_one_file_each(folder: Path) -> None:
    cache._Store("t").put("fc-match\x1fDejaVu Sans", "DejaVu Sans\t/a.ttf\t0")
    cache._Store("t").put("other", ["x", 1])
    fresh = cache._Store("t")  # a new process has nothing in memory
    assert fresh.get("fc-match\x1fDejaVu Sans") == "DejaVu Sans\t/a.ttf\t0"
    assert fresh._data == {"fc-match\x1fDejaVu Sans": "DejaVu Sans\t/a.ttf\t0"}  # only it
    files = sorted((folder / __version__).glob(f"t-{cache.font_fingerprint()}/*.json"))
    assert len(files) == 2
    assert fresh.get("missing") is None


def test_a_file_naming_another_key_is_a_miss(folder: Path) -> None:
    store = cache._Store("t")
    store.put("a", "answer for a")
    path = store._path("a")
    assert path is not None
    path.write_text(json.dumps(["b", "answer for b"]))  # as if crc32("a") == crc32("b")
    assert cache._Store("t").get("a") is None
    path.write_text("{not json")
    assert cache._Store("t").get("a") is None


def test_off_writes_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVGATTN_CACHE", "0")
    cache.directory.cache_clear()
    store = cache._Store("t")
    store.put("k", "v")
    assert store.get("k") == "v"  # still remembered within the process
    assert cache._Store("t").get("k") is None
    assert list(folder.iterdir()) == []


def test_unwritable_folder_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(blocker / "cache"))
    cache.directory.cache_clear()
    try:
        assert cache.directory() is None
        cache._Store("t").put("k", "v")  # no error
    finally:
        cache.directory.cache_clear()


def test_a_render_reads_small_answers(tmp_path: Path) -> None:
    """The seed figure's cache entries are a few small files: a process never loads
    answers it does not need (a fallback listing of every font is ~600 KB)."""
    env = {**os.environ, "SVGATTN_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SVGATTN_CACHE", None)
    for _ in range(2):  # the second run answers from the cache
        subprocess.run([sys.executable, "-m", "svgattn", "render",
                        str(ROOT / "gallery/specs/seed.toml"), "-o", str(tmp_path / "s.svg")],
                       check=True, env=env, capture_output=True)
    entries = list((tmp_path / "cache").rglob("fontconfig-*/*.json"))
    assert 1 <= len(entries) <= 4
    assert all(e.stat().st_size < 1024 for e in entries)
