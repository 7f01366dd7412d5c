"""The hostile model catalogue (tests/model_catalogue.py): damaged or malicious GGUF files,
config.json, safetensors and tokenizers, FIFOs, outputs over the model's own files, specs
that name a model. Every case is one short line naming the problem (exit 2, no traceback,
no "internal error", nothing but svgattn's own lines on stderr, no escape character),
nothing written or changed, no code of the model run (answering "y" on stdin changes
nothing), within seconds and a bounded address space; every control draws its figure.

Each case runs in its own process (killed at TIMEOUT, its address space capped), so a
regression that hangs or allocates without end fails the case instead of the test run.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import IN_CI, ROOT
from models import require

TIMEOUT = 60.0
SLOW = 20.0  # seconds: a case that takes longer is a bomb nearly defused
ADDRESS_SPACE = 8 << 30
PREVIOUS = b"previous figure: must survive every failed run\n"
CHILD = """
import json, sys
from svgattn.cli import main
try:
    status = main(json.loads(sys.argv[1]))
except SystemExit as exc:
    status = exc.code if isinstance(exc.code, int) else 1
sys.exit(status)
"""

try:
    import model_catalogue
    from model_catalogue import CASES, CONTROLS, MARKER, STDIN
except ImportError:  # the models extra is missing: the cases cannot even be built
    if IN_CI:
        raise
    CASES, CONTROLS, MARKER, STDIN = [], [], "", {}


def test_the_catalogue_is_large():
    require("torch", "transformers", "gguf")
    assert len(CASES) >= 90 and len(CONTROLS) >= 5
    assert len({c.name for c in CASES + CONTROLS}) == len(CASES) + len(CONTROLS)


def _snapshot(root: Path) -> dict[str, Any]:
    """What is under ``root``, never opening a FIFO or device, never reading a huge (sparse)
    file whole."""
    out: dict[str, Any] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            info = os.lstat(path)
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                out[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                out[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest()) \
                    if info.st_size <= 64 << 20 else ("file", info.st_size, info.st_mtime_ns)
            else:
                out[key] = ("other", stat.S_IFMT(info.st_mode))
    return out


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _run(case: Any, tmp: Path) -> tuple[int | str, str, str, float]:
    """Build ``case`` in ``tmp`` and run it in a child process; (status, stdout, stderr,
    seconds)."""
    work = tmp / "work"
    work.mkdir()
    cwd = os.getcwd()
    try:
        args = [str(a) for a in case.make(work)]
        run_cwd = os.getcwd()
    finally:
        os.chdir(cwd)
    if not (work / "out.svg").exists():
        (work / "out.svg").write_bytes(PREVIOUS)
    before = _snapshot(work)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SVGATTN_CACHE_DIR": str(tmp / "cache"),
           "HF_HOME": str(tmp / "hf"), "PYTHONPATH": str(ROOT)}
    env.pop("SVGATTN_DEBUG", None)
    stdin = STDIN.get(case.name)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], cwd=run_cwd,
                              env=env, input=stdin if stdin is not None else b"",
                              capture_output=True, timeout=TIMEOUT, preexec_fn=_limit)
        status: int | str = done.returncode
        out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        status, out, err = f"timeout {TIMEOUT:.0f}s", "", ""
    seconds = time.perf_counter() - start
    changed = [k for k in set(before) | set(_snapshot(work)) if before.get(k) !=
               _snapshot(work).get(k)] if status != 0 else []
    assert not (work / MARKER).exists(), "the model's own code ran"
    assert not changed, f"a failed run changed {sorted(changed)[:4]}"
    if (work / "out.svg").exists() and status != 0:
        assert (work / "out.svg").read_bytes() == PREVIOUS
    return status, out, err, seconds


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_model_input_is_a_one_line_error(case: Any, tmp_path: Path) -> None:
    require("torch", "transformers", "gguf")
    status, out, err, seconds = _run(case, tmp_path)
    lines = [line for line in err.split("\n") if line.strip()]
    assert status == 2, f"exit {status}: {err[-600:]}"
    assert out == "", out[:300]
    assert "Traceback" not in err and "internal error" not in err, err[-600:]
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in err), repr(err)
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(line.startswith("svgattn: ") for line in lines), err  # nothing of transformers'
    assert case.expect in errors[0], (case.expect, errors[0])
    assert seconds < SLOW, f"{seconds:.1f} s"


@pytest.mark.parametrize("case", CONTROLS, ids=[c.name for c in CONTROLS])
def test_valid_models_draw(case: Any, tmp_path: Path) -> None:
    require("torch", "transformers", "gguf")
    status, _, err, _ = _run(case, tmp_path)
    assert status == 0, err[-600:]
    assert "\x1b" not in err and all(line.startswith("svgattn: ") or line.startswith("wrote ")
                                     for line in err.splitlines() if line.strip()), err


def test_the_catalogue_builds_small_models():
    """The cases stay cheap: the tiny model folder is about 100 KB."""
    require("torch", "transformers", "gguf")
    folder = model_catalogue.tiny_model(Path(model_catalogue._scratch()), "size-check")
    total = sum(p.stat().st_size for p in folder.iterdir())
    shutil.rmtree(folder)
    assert total < 1 << 20
