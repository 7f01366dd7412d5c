"""The benchmark scripts run and report what they measured (not how fast: timings belong
to benchmarks/bench.py, never to a test)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _run(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("tool, fmt", [("svgattn", "svg"), ("svgattn", "pdf"),
                                       ("imshow", "png"), ("pcolormesh", "pdf")])
def test_child_times_one_figure_and_reports_its_size(tmp_path, tool, fmt):
    if tool != "svgattn":
        need(importlib.util.find_spec("matplotlib") is not None, "matplotlib (bench extra)")
    out = tmp_path / f"m.{fmt}"
    report = json.loads(_run(str(BENCH / "_child.py"), tool, "64", str(out)).splitlines()[-1])
    assert report["seconds"] > 0
    assert report["bytes"] == out.stat().st_size > 0
    assert out.read_bytes()[:4] == {"svg": b"<?xm", "pdf": b"%PDF", "png": b"\x89PNG"}[fmt]


def test_bench_writes_a_report_with_its_targets(tmp_path):
    need(importlib.util.find_spec("matplotlib") is not None, "matplotlib (bench extra)")
    report = tmp_path / "RESULTS.md"
    _run(str(BENCH / "bench.py"), "--only", "import", "--repeat", "1", "--out", str(report))
    text = report.read_text()
    assert text.startswith("# svgattn benchmarks\n\nMachine: ")
    assert "## Import (median of 1)" in text
    row = next(line for line in text.splitlines()
               if line.startswith("| import svgattn < 150 ms"))
    # milliseconds to 0.01: a fast machine imports svgattn in under 0.5 ms
    ms = float(row.split("|")[2].strip().removesuffix(" ms"))
    assert 0 < ms < 5000 and row.rstrip().endswith(("| yes |", "| **no** |"))


def test_the_scale_benchmark_measures_the_4k_npz_in_every_format():
    """benchmarks/scale.py's cheapest section, run whole: three fresh processes, each row
    with its seconds, peak memory, file size and target."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from long import data_file

    need(importlib.util.find_spec("matplotlib") is not None, "matplotlib (bench extra)")
    data_file()  # the synthetic file, written once (atomically) for every process
    report = (BENCH / "SCALE.md").read_bytes()
    result = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--only", "npz"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr  # 1: a target not met on this machine
    rows = [line for line in result.stdout.splitlines()
            if line.startswith("| 4,096 tokens .npz, matrix ")]
    assert [r.split("|")[1].split()[-1] for r in rows] == ["svg", "pdf", "png"]
    for row in rows:
        cells = [c.strip() for c in row.split("|")[2:-1]]
        assert float(cells[0]) > 0 and float(cells[1]) > 0
        assert cells[2].endswith(("KiB", "MiB")) and cells[3] in ("yes", "**no**")
    assert (BENCH / "SCALE.md").read_bytes() == report  # one section never rewrites it
