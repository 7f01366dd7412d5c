"""The per-user cache (svgattn.cache, svgattn.fastcairo): one small file per answer, used
only in a folder nobody else can have written, and nothing in it is ever run."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from svgattn import __version__, cache, fastcairo

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "gallery" / "specs" / "seed.toml"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SVGATTN_CACHE", raising=False)
    cache.directory.cache_clear()
    yield tmp_path / "cache"
    cache.directory.cache_clear()


def _render(cache_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SVGATTN_CACHE_DIR": str(cache_dir)}
    env.pop("SVGATTN_CACHE", None)
    return subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o", str(out),
                           *extra], env=env, capture_output=True, text=True, timeout=120)


def test_answers_survive_the_process_one_file_each(folder: Path) -> None:
    cache.Answers("t").put("fc-match\x1fDejaVu Sans", "DejaVu Sans\t/a.ttf\t0")
    cache.Answers("t").put("other", ["x", 1])
    fresh = cache.Answers("t")  # a new process has nothing in memory
    assert fresh.get("fc-match\x1fDejaVu Sans") == "DejaVu Sans\t/a.ttf\t0"
    assert fresh._data == {"fc-match\x1fDejaVu Sans": "DejaVu Sans\t/a.ttf\t0"}  # only it
    files = sorted((folder / __version__).glob(f"t-{cache.font_fingerprint()}/*.json"))
    assert len(files) == 2
    assert fresh.get("missing") is None


def test_folders_are_created_private(folder: Path) -> None:
    found = cache.directory()
    assert found == folder / __version__
    for path in (folder, found):
        assert path.stat().st_mode & 0o777 == 0o700


def test_a_file_naming_another_key_is_a_miss(folder: Path) -> None:
    store = cache.Answers("t")
    store.put("a", "answer for a")
    path = store._path("a")
    assert path is not None
    path.write_text(json.dumps(["b", "answer for b"]))  # as if crc32("a") == crc32("b")
    assert cache.Answers("t").get("a") is None
    path.write_text("{not json")
    assert cache.Answers("t").get("a") is None


def test_off_writes_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVGATTN_CACHE", "0")
    cache.directory.cache_clear()
    store = cache.Answers("t")
    store.put("k", "v")
    assert store.get("k") == "v"  # still remembered within the process
    assert cache.Answers("t").get("k") is None
    assert not folder.exists()


def test_unusable_folder_turns_it_off_with_a_warning(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(blocker / "cache"))
    cache.directory.cache_clear()
    try:
        with pytest.warns(cache.CacheWarning, match="drawing without the cache"):
            assert cache.directory() is None
        cache.Answers("t").put("k", "v")  # no error
    finally:
        cache.directory.cache_clear()


@pytest.mark.parametrize("case", ["world-writable", "group-writable", "symlink", "foreign",
                                  "foreign-parent", "open-parent"])
def test_a_folder_others_could_write_is_not_used(case: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base"
    base.mkdir(mode=0o700)
    folder = base / __version__
    folder.mkdir(mode=0o700)
    me = os.geteuid()
    if case == "world-writable":
        folder.chmod(0o777)
    elif case == "group-writable":
        folder.chmod(0o770)
    elif case == "symlink":
        folder.rmdir()
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    elif case == "foreign":  # as if another user had made it: geteuid says we are not them
        monkeypatch.setattr(os, "geteuid", lambda: me + 1000)
    elif case == "foreign-parent":
        monkeypatch.setattr(os, "stat", _owned_by(base, me + 1000, os.stat))
    elif case == "open-parent":  # others may write in a folder above, and it is not sticky
        base.chmod(0o777)
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(base))
    cache.directory.cache_clear()
    try:
        with pytest.warns(cache.CacheWarning) as caught:
            assert cache.directory() is None
        assert len(caught) == 1 and "SVGATTN_CACHE_DIR" in str(caught[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert cache.directory() is None  # warned once per process
    finally:
        cache.directory.cache_clear()


def _owned_by(path: Path, uid: int, real):
    def fake(p, *args, **kwargs):
        st = real(p, *args, **kwargs)
        if os.fspath(p) == os.fspath(path):
            values = list(st)
            values[4] = uid  # st_uid
            return os.stat_result(values)
        return st
    return fake


def test_a_sticky_shared_parent_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(shared / "svgattn"))
    cache.directory.cache_clear()
    try:
        assert cache.directory() == shared / "svgattn" / __version__
    finally:
        cache.directory.cache_clear()


MARKER = "svgattn-planted-code-ran"


class _Planted:
    """A pickle that creates a marker file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _plant(folder: Path, marker: Path) -> None:
    """Hostile entries in every file the cache uses: old-style cffi modules (code), jinja2
    bytecode (pickles), a library named like cairo, a symlinked write probe."""
    version = folder / __version__
    code = f"open({str(marker)!r}, 'w').write('ran')\nimport _cffi_backend\nffi = None\n"
    for path in version.rglob("*"):
        if path.is_file() and path.suffix == ".cache":  # jinja2 bytecode
            import jinja2.bccache

            path.write_bytes(jinja2.bccache.bc_magic + pickle.dumps(_Planted(marker)))
        elif path.is_file() and path.name.startswith("cairo-ffi-"):
            path.write_text(json.dumps({"key": "x", "code": code}))
    (version / "_svgattn_cairo_ffi_1.7.1.py").write_text(code)
    (version / "libcairo.so.2").write_bytes(b"\x7fELF not really")
    (version / ".writable").symlink_to(marker.parent / "probe-target")


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_planted_entries_in_an_open_folder_never_run(fmt: str, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    marker = tmp_path / MARKER
    first = _render(folder, tmp_path / f"a.{fmt}")  # a real cache, with real entries
    assert first.returncode == 0, first.stderr
    _plant(folder, marker)
    (folder / __version__).chmod(0o777)  # now anyone could have written it
    again = _render(folder, tmp_path / f"b.{fmt}")
    assert again.returncode == 0, again.stderr
    assert "drawing without the cache" in again.stderr
    assert not marker.exists() and not (tmp_path / "probe-target").exists()
    assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()


def test_damaged_entries_in_a_private_folder_are_misses(tmp_path: Path) -> None:
    """Well-formed but wrong entries (a fontconfig answer without tabs, a jinja2 header
    before a truncated pickle, cairo declarations whose hash does not match) are
    recomputed, never an error."""
    folder = tmp_path / "cache"
    assert _render(folder, tmp_path / "a.pdf").returncode == 0
    version = folder / __version__
    for path in version.rglob("*"):
        if path.suffix == ".cache":
            import jinja2.bccache

            path.write_bytes(jinja2.bccache.bc_magic + pickle.dumps("x")[:3])
        elif path.parent.name.startswith("fontconfig-"):
            key = json.loads(path.read_text())[0]
            path.write_text(json.dumps([key, "no tabs here"]))
        elif path.name.startswith("cairo-ffi-"):
            entry = json.loads(path.read_text())
            entry["arguments"]["_version"] = 1
            path.write_text(json.dumps(entry))
    again = _render(folder, tmp_path / "b.pdf")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    entry = json.loads(next(version.glob("cairo-ffi-*.json")).read_text())
    assert entry["arguments"]["_version"] != 1  # rebuilt


def test_cairo_declarations_are_data(folder: Path) -> None:
    cache.directory()
    package = Path(fastcairo.importlib.util.find_spec("cairocffi").origin).parent
    headers = fastcairo._constants(package)._CAIRO_HEADERS
    key = fastcairo.cache_key(package, headers)
    arguments = fastcairo.generate("int cairo_version (void);", "_t")
    path = folder / "entry.json"
    fastcairo.write_entry(path, key, arguments)
    assert fastcairo.read_entry(path, key) == arguments
    assert fastcairo.read_entry(path, "another key") is None
    text = path.read_text()
    path.write_text(text.replace('"_version": ', '"_version": 1'))  # damaged
    assert fastcairo.read_entry(path, key) is None
    assert "import" not in text and "def " not in text


def test_the_key_follows_the_installed_versions(tmp_path: Path) -> None:
    package = tmp_path / "cairocffi"
    package.mkdir()
    dist = tmp_path / "cairocffi-9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cairocffi\nVersion: 9.9\n\n")
    assert fastcairo.distribution_version(package, "cairocffi") == "9.9"
    one = fastcairo.cache_key(package, "int f (void);")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cairocffi\nVersion: 9.10\n\n")
    assert fastcairo.cache_key(package, "int f (void);") != one
    assert fastcairo.cache_key(package, "int g (void);") != one


IMPORT_CHECK = r"""
import ctypes.util, sys, threading
real = ctypes.util.find_library
answers = []
stop = threading.Event()
def ask():
    while not stop.is_set():
        answers.append(ctypes.util.find_library("cairo"))
worker = threading.Thread(target=ask)
worker.start()
from svgattn.export import load_cairosvg
cairosvg, _ = load_cairosvg()
stop.set(); worker.join()
import cairocffi
assert ctypes.util.find_library is real, "find_library was not put back"
assert cairocffi.find_library is real
assert answers and all(a == real("cairo") for a in answers), answers[:3]
assert type(sys.modules["cairocffi.ffi"].ffi).__module__ in ("_cffi_backend", "builtins")
import cairocffi.pixbuf  # other cairocffi modules still import
assert cairocffi.pixbuf.ffi is not None
maps = open("/proc/self/maps").read()
cairo = {line.split()[-1] for line in maps.splitlines() if "libcairo.so" in line}
assert cairo and not any(sys.argv[1] in path for path in cairo), cairo
print("ok", sorted(cairo))
"""


def test_fast_import_leaves_the_process_as_it_found_it(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    for _ in range(2):  # the second run loads the stored declarations
        env = {**os.environ, "SVGATTN_CACHE_DIR": str(folder)}
        result = subprocess.run([sys.executable, "-c", IMPORT_CHECK, str(folder)], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and result.stdout.startswith("ok"), result.stderr
    assert list((folder / __version__).glob("cairo-ffi-*.json"))


def test_a_render_reads_small_answers(tmp_path: Path) -> None:
    """The seed figure's cache entries are a few small files: a process never loads
    answers it does not need (a fallback listing of every font is ~600 KB)."""
    for _ in range(2):  # the second run answers from the cache
        assert _render(tmp_path / "cache", tmp_path / "s.svg").returncode == 0
    entries = list((tmp_path / "cache").rglob("fontconfig-*/*.json"))
    assert 1 <= len(entries) <= 4
    assert all(e.stat().st_size < 1024 for e in entries)
