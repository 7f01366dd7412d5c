"""The seed figure against an earlier revision and against matplotlib, paired, whole process.

    python benchmarks/seed_vs.py [REV ...] [--repeat 25] [--out benchmarks/SEED.md]

Each REV (a commit, default 0832a3c: the revision the seed figure's time is held to) is
checked out into a temporary git worktree; this tree, each REV and benchmarks/mpl_seed.py
then draw the seed figure as SVG in fresh processes, in turn, the order turning each round
(so a slow spell of the machine hits all alike, and none always runs after the same one).
Warm, as a user's second run is: bytecode kept in a private cache per tree (under
PYTHONDONTWRITEBYTECODE=1 a tree would recompile itself every run), one untimed round first.
Reported: the median wall seconds and peak RSS of each, and the median of the per-round
ratios (pairing keeps a ratio meaningful while the machine's speed drifts).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ChildFailed, Sample, run_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = ROOT / "gallery" / "specs" / "seed.toml"
DEFAULT_REV = "0832a3c"


def _env(tree: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(cache))
    return env


def _svgattn(tree: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "svgattn", "render", str(SEED), "-o", "seed.svg"], \
        _env(tree, cache)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("revs", nargs="*", default=[DEFAULT_REV])
    p.add_argument("--repeat", type=int, default=25)
    p.add_argument("--out", type=Path, default=HERE / "SEED.md")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="svgattn-seed-vs-"))
    trees: dict[str, Path] = {"this tree": ROOT}
    try:
        for rev in args.revs:
            tree = work / rev
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                            str(tree), rev], check=True, capture_output=True)
            trees[rev] = tree
        jobs = {name: _svgattn(tree, work / f"pyc-{k}") for k, (name, tree)
                in enumerate(trees.items())}
        jobs["matplotlib"] = ([sys.executable, str(HERE / "mpl_seed.py"), "seed.svg"],
                              _env(ROOT, work / "pyc-mpl"))
        samples: dict[str, list[Sample]] = {name: [] for name in jobs}
        names = list(jobs)
        for round_ in range(-1, args.repeat):  # round -1 warms caches and bytecode
            # the order turns each round: no tool always follows the same other one
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                cmd, env = jobs[name]
                scratch = Path(tempfile.mkdtemp(dir=work))
                try:
                    sample = run_child(cmd, cwd=scratch, env=env)
                except ChildFailed as exc:
                    print(f"{name}: {exc}", file=sys.stderr)
                    return 1
                if round_ >= 0:
                    samples[name].append(sample)
        report = _report(samples, args)
        args.out.write_text(report, encoding="utf-8")
        print(report)
    finally:
        for rev in args.revs:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(work / rev)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _report(samples: dict[str, list[Sample]], args: argparse.Namespace) -> str:
    ours = samples["this tree"]
    lines = [f"# The seed figure, whole process, paired ({args.repeat} rounds)", "",
             f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; `python benchmarks/seed_vs.py "
             f"{' '.join(args.revs)}`", "",
             "| tool | median wall s | peak MiB | this tree / it (median of rounds) |",
             "|---|---|---|---|"]
    for name, runs in samples.items():
        wall = statistics.median(s.seconds for s in runs)
        rss = statistics.median(s.rss_mib for s in runs)
        ratio = statistics.median(a.seconds / b.seconds for a, b in zip(ours, runs,
                                                                        strict=True))
        lines.append(f"| {name} | {wall:.3f} | {rss:.1f} | "
                     f"{'' if runs is ours else f'{ratio:.3f}'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
