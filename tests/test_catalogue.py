"""Every case of the bad-input catalogue (tests/catalogue.py): one short line naming the
problem and the fix, exit status 2, no traceback, nothing written, an existing destination
byte-identical.

CLI cases run ``svgattn.cli.main`` in-process (fast); every eighth also runs as a real
``python -m svgattn`` process, so what a shell sees is checked too.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from catalogue import CASES, Case

from svgattn import SvgattnError
from svgattn.cli import main

PREVIOUS = b"previous figure: must survive every failed run\n"


def test_the_catalogue_is_large():
    assert len(CASES) >= 250, len(CASES)
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"


def _files(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = path.read_bytes()
        else:
            out[str(path.relative_to(root))] = None
    return out


def _prepare(case: Case, tmp: Path) -> list[str]:
    args = case.make(tmp)
    if args and args[0] == "render" and "-o" not in args and "--output" not in args:
        args += ["-o", str(tmp / "out.svg")]
    target = tmp / "out.svg"
    if not target.exists():
        target.write_bytes(PREVIOUS)
    return args


def _check_message(message: str, expect: str) -> None:
    assert "Traceback" not in message, message
    lines = message.strip("\n").split("\n")
    assert len(lines) == 1, f"not one line: {message!r}"
    line = lines[0]
    assert len(line) <= 500, f"{len(line)} characters: {line}"
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
    assert expect in line, f"{expect!r} not in {line!r}"


CLI = [c for c in CASES if c.kind == "cli"]
API = [c for c in CASES if c.kind == "api"]


@pytest.mark.parametrize("case", CLI, ids=[c.name for c in CLI])
def test_cli_case(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    try:
        args = _prepare(case, tmp_path)
        before = _files(tmp_path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                status = main(args)
            except SystemExit as exc:  # argparse exits on usage mistakes
                status = exc.code
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    # warnings may precede the error line; the error is the last line
    error_lines = [line for line in err.splitlines() if ": error:" in line]
    assert status == 2, f"exit {status}: {err}"
    assert len(error_lines) == 1, err
    _check_message(error_lines[0], case.expect)
    assert err.strip().splitlines()[-1] == error_lines[0]
    assert _files(tmp_path) == before, "a failed run changed or created files"
    if (tmp_path / "out.svg").is_file():
        assert (tmp_path / "out.svg").read_bytes() == PREVIOUS


@pytest.mark.parametrize("case", API, ids=[c.name for c in API])
def test_api_case(case: Case, tmp_path: Path) -> None:
    thunk = case.make(tmp_path)
    before = _files(tmp_path)
    with warnings.catch_warnings(), pytest.raises(SvgattnError) as err:
        warnings.simplefilter("ignore")
        thunk()
    _check_message(str(err.value), case.expect)
    assert _files(tmp_path) == before


SAMPLE = CLI[::8]


@pytest.mark.parametrize("case", SAMPLE, ids=[c.name for c in SAMPLE])
def test_cli_case_in_a_real_process(case: Case, tmp_path: Path) -> None:
    args = _prepare(case, tmp_path)
    before = _files(tmp_path)
    result = subprocess.run([sys.executable, "-m", "svgattn", *args], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    _check_message(result.stderr.strip().splitlines()[-1], case.expect)
    assert "Traceback" not in result.stderr
    assert _files(tmp_path) == before


def test_an_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    """Sanity check of the harness itself: a good run does write (so the checks above
    would notice a write)."""
    out = tmp_path / "out.svg"
    out.write_bytes(PREVIOUS)
    spec = Path(__file__).resolve().parent.parent / "gallery" / "specs" / "seed.toml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["render", str(spec), "-o", str(out)]) == 0
    assert out.read_bytes() != PREVIOUS and out.read_bytes().startswith(b"<?xml")
