"""The converted-model cache is used only when an entry verifies: a real folder only this
user can write, holding exactly the files its manifest lists, with their SHA-256, the
tensor names and shapes recorded. A damaged or tampered entry (a weight removed, a byte
flipped, code planted, a symbolic link, a folder others can write) is never loaded: the
GGUF is converted again and the entry replaced, atomically, so the next run uses it.
Runs are real processes on a tiny GGUF (tests/model_catalogue.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT
from models import require

CONVERTING = "converting the GGUF file once"


def _run(gguf: Path, cache: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SVGATTN_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    env.pop("SVGATTN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "svgattn", "model", str(gguf), "--text",
                           "the cat sat on the mat", "--view", "matrix", "-o", str(out)],
                          capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def converted(tmp_path: Path) -> tuple[Path, Path, Path, bytes]:
    """(the GGUF, the cache folder, its entry, the figure of a first run)."""
    require("torch", "transformers", "gguf")
    from model_catalogue import tiny_gguf

    gguf = tiny_gguf(tmp_path)
    cache = tmp_path / "cache"
    first = _run(gguf, cache, tmp_path / "first.svg")
    assert first.returncode == 0 and CONVERTING in first.stderr, first.stderr
    entries = list(cache.glob("*/models/*"))
    assert len(entries) == 1 and (entries[0] / "manifest.json").is_file()
    return gguf, cache, entries[0], (tmp_path / "first.svg").read_bytes()


def test_a_verified_entry_is_used(converted, tmp_path):
    gguf, cache, _, figure = converted
    again = _run(gguf, cache, tmp_path / "again.svg")
    assert again.returncode == 0 and CONVERTING not in again.stderr, again.stderr
    assert (tmp_path / "again.svg").read_bytes() == figure


def _drop_a_weight(entry: Path) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(entry / "model.safetensors"))
    tensors.pop(sorted(tensors)[-1])
    save_file(tensors, str(entry / "model.safetensors"))


def _flip_a_byte(entry: Path) -> None:
    path = entry / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _plant_code(entry: Path) -> None:
    marker = entry.parent.parent.parent.parent / "PWNED"
    (entry / "hostile.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    config = json.loads((entry / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "hostile.Model"}
    (entry / "config.json").write_text(json.dumps(config))


def _symlink_to_open_folder(entry: Path) -> None:
    elsewhere = entry.parent.parent.parent.parent / "open"
    shutil.copytree(entry, elsewhere)
    os.chmod(elsewhere, 0o777)
    shutil.rmtree(entry)
    os.symlink(elsewhere, entry)


def _open_to_others(entry: Path) -> None:
    os.chmod(entry, 0o777)


TAMPER: dict[str, Callable[[Path], None]] = {
    "a weight removed": _drop_a_weight, "a byte flipped": _flip_a_byte,
    "code planted": _plant_code, "a symbolic link": _symlink_to_open_folder,
    "writable by others": _open_to_others,
}


@pytest.mark.parametrize("how", list(TAMPER))
def test_a_damaged_entry_is_converted_again_and_replaced(how, converted, tmp_path):
    gguf, cache, entry, figure = converted
    TAMPER[how](entry)
    redo = _run(gguf, cache, tmp_path / "redo.svg")
    assert redo.returncode == 0, redo.stderr
    assert CONVERTING in redo.stderr, redo.stderr  # not loaded: converted again
    assert (tmp_path / "redo.svg").read_bytes() == figure
    assert not (tmp_path / "PWNED").exists()
    assert entry.is_dir() and not entry.is_symlink() and not os.stat(entry).st_mode & 0o022
    assert not list(entry.parent.glob(".old-*")) and not list(entry.parent.glob(".tmp-*"))
    from svgattn.sources.gguf_cache import verified

    assert verified(entry)
    after = _run(gguf, cache, tmp_path / "after.svg")  # replaced: the next run uses it
    assert after.returncode == 0 and CONVERTING not in after.stderr, after.stderr
