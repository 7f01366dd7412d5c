"""Faults during export, and every kind of destination.

A failed or interrupted write leaves the old file or the complete new one, never a
partial file, and no temporary file; devices are written through, directories refused,
symbolic links followed (the link is kept, the file it names is replaced).
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SEED

from svgattn import Diagram, ExportError
from svgattn.files import TEMP_SUFFIX, write_atomic

OLD = b"the previous figure\n"


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX))


def _svg() -> bytes:
    return Diagram.from_spec(SEED).to_bytes("svg")


def test_disk_full_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "fig.svg"
    target.write_bytes(OLD)
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd, data):
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))  # half reaches the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("svgattn.files.os.write", half_then_full)
    with pytest.raises(ExportError, match="no space left"):
        write_atomic(target, _svg())
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.svg"]


@pytest.mark.parametrize("exc", [RuntimeError("bug"), KeyboardInterrupt()])
def test_an_exception_mid_write_keeps_the_old_file(tmp_path, monkeypatch, exc):
    target = tmp_path / "fig.svg"
    target.write_bytes(OLD)

    def boom(fd):
        raise exc

    monkeypatch.setattr("svgattn.files.os.fsync", boom)
    with pytest.raises(type(exc)):
        write_atomic(target, _svg())
    assert target.read_bytes() == OLD
    assert _temporaries(tmp_path) == []


def test_a_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "fig.svg"
    target.write_bytes(OLD)

    def refuse(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("svgattn.files.os.replace", refuse)
    with pytest.raises(ExportError, match="unchanged"):
        write_atomic(target, _svg())
    assert target.read_bytes() == OLD
    assert _temporaries(tmp_path) == []


# A child process that writes through svgattn but sleeps after the bytes are on disk and
# before the rename: killing it there is the worst moment.
SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    import svgattn.files as export
    real = export.os.fsync
    def slow(fd):
        real(fd)
        print("written", flush=True)
        time.sleep(30)
    export.os.fsync = slow
    from svgattn.cli import main
    sys.exit(main(["render", sys.argv[1], "-o", sys.argv[2]]))
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_process_killed_while_writing_leaves_the_old_file(tmp_path, sig):
    target = tmp_path / "fig.svg"
    target.write_bytes(OLD)
    # A shell running the suite in the background (`cmd &` without job control) makes
    # children ignore SIGINT, and Python then never raises KeyboardInterrupt: give the
    # child the default disposition, as a terminal would.
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(SEED), str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert child.stdout.readline().strip() == "written"
    child.send_signal(sig)
    child.wait(timeout=30)
    assert target.read_bytes() == OLD
    if sig != signal.SIGKILL:  # a catchable signal: the temporary file is removed at once
        assert _temporaries(tmp_path) == []
        assert child.returncode in (130, 143), child.stderr.read()
    # after any kill, the next write to the same name sweeps what the dead process left
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o",
                             str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == _svg()
    assert _temporaries(tmp_path) == []


def test_killed_at_random_moments_the_destination_is_old_or_whole(tmp_path):
    """SIGKILL at many moments of a whole render: never a partial file."""
    target = tmp_path / "fig.png"
    target.write_bytes(OLD)
    new = Diagram.from_spec(SEED).to_bytes("png", dpi=300)
    for delay in (0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.7):
        child = subprocess.Popen([sys.executable, "-m", "svgattn", "render", str(SEED), "-o",
                                  str(target), "--dpi", "300"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(delay)
        child.kill()
        child.wait()
        assert target.read_bytes() in (OLD, new), delay
    subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o", str(target),
                    "--dpi", "300"], check=True, capture_output=True)
    assert target.read_bytes() == new
    assert _temporaries(tmp_path) == []


def test_a_device_is_written_through_not_replaced():
    before = os.stat("/dev/null")
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o",
                             "/dev/null", "--format", "pdf"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_full_device_is_a_clear_error():
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o",
                             "/dev/full", "--format", "svg"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_standard_output():
    result = subprocess.run([sys.executable, "-m", "svgattn", "render", str(SEED), "-o", "-",
                             "--format", "pdf"], capture_output=True)
    assert result.returncode == 0 and result.stdout.startswith(b"%PDF")
    assert result.stdout == Diagram.from_spec(SEED).to_bytes("pdf")


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_atomic(fifo, _svg())
    assert reader.communicate(timeout=30)[0] == _svg()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "figures" / "fig.svg"
    real.parent.mkdir()
    real.write_bytes(OLD)
    link = tmp_path / "latest.svg"
    link.symlink_to(real)
    write_atomic(link, _svg())
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == _svg()


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "latest.svg"
    link.symlink_to(tmp_path / "made.svg")
    write_atomic(link, _svg())
    assert link.is_symlink() and (tmp_path / "made.svg").read_bytes() == _svg()


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "fig.svg").mkdir()
    with pytest.raises(ExportError, match="is a directory"):
        write_atomic(tmp_path / "fig.svg", _svg())
    with pytest.raises(ExportError, match="names a directory"):
        write_atomic(str(tmp_path) + "/new/", _svg())


def test_the_file_mode_is_kept(tmp_path):
    target = tmp_path / "fig.svg"
    target.write_bytes(OLD)
    target.chmod(0o640)
    write_atomic(target, _svg())
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = write_atomic(tmp_path / "new.svg", _svg())
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
