"""What each subcommand does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..diagram import Diagram
from ..errors import ExportError, SpecError, printable
from ..export import format_of
from ..files import check_not_input, check_output, write_atomic
from ..resources import data_dir
from ..theme import builtin_themes, load_theme
from . import parser

BATCH_FAILED = 1  # svgattn batch: some figures failed (each reported by name)
STDOUT = "-"


def _output_format(args: argparse.Namespace, view: str | None = None) -> str:
    """Check -o/--format/--dpi before any work is done (a view without numbers refuses
    .csv here, before a model runs)."""
    parser.dpi(args)
    if args.output == STDOUT:
        fmt = args.format or "svg"
    else:
        check_output(args.output)
        fmt = format_of(args.output, args.format)
    if fmt == "csv" and view is not None:
        from ..views.base import View
        from ..views.registry import get

        chosen = get(view)
        if type(chosen).numbers is View.numbers:
            raise ExportError(f"format: csv: the {chosen.name} view draws no table of numbers; "
                              "export svg, pdf, png or eps")
    return fmt


def _write(diagram: Diagram, args: argparse.Namespace, fmt: str, quiet: bool = True) -> None:
    """The figure to ``-o`` (``quiet=False``: the drawing is a stage of a model run)."""
    from ..sources.quiet import stage

    if args.output == STDOUT:
        with stage("drawing", quiet):
            data = diagram.to_bytes(fmt, dpi=parser.dpi(args))
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with stage("drawing", quiet):
        written = diagram.save(args.output, fmt=fmt, dpi=parser.dpi(args))
    print(f"wrote {printable(str(written))}")


def render(args: argparse.Namespace) -> None:
    fmt = _output_format(args, args.view)
    options = parser.options(args)
    check_not_input(args.output, _inputs(args))
    suffix = Path(args.spec).suffix.lower()
    if suffix not in (".npz", ".npy", ".toml", ".json"):
        raise SpecError(f"{printable(Path(args.spec).name, 60)}: unknown input format; give a "
                        ".toml or .json spec, or attention saved as .npz or .npy")
    if args.more and any(Path(p).suffix.lower() not in (".npz", ".npy")
                         for p in (args.spec, *args.more)):
        raise SpecError("MORE: several inputs are attention files (.npz, .npy), averaged by "
                        "the matrix, grid, heads and profile views; render spec files one at a "
                        "time (or with svgattn batch)")
    if suffix in (".npz", ".npy"):
        from ..sources.arrays import load_file, load_inputs

        tokens = None if args.tokens is None else args.tokens.split(",")
        if tokens is not None and not args.tokens.strip():
            raise SpecError("--tokens: empty; give comma-separated tokens, e.g. --tokens a,b,c")
        from ..views.registry import get

        chosen = get(args.view or "flow")
        every = (chosen.many_inputs or chosen.averages) and args.batch_index is None
        pictures = parser.pictures(args)  # --image, --grid ...: beside the file's own keys
        inputs = [a for path in (args.spec, *args.more) for a in (
            load_inputs(path, tokens=tokens, **pictures) if every else
            [load_file(path, tokens=tokens, batch_index=args.batch_index, **pictures)])]
        minus = None if args.minus is None else load_file(args.minus, tokens=tokens,
                                                          batch_index=args.batch_index)
        diagram = Diagram.from_attention(inputs if len(inputs) > 1 else inputs[0], minus=minus,
                                         **parser.figure(args), **options)
    else:
        for option in ("tokens", "batch_index", "minus", "image", "grid", "patch_start",
                       "grid_axis"):
            if getattr(args, option) is not None:
                raise SpecError(f"--{option.replace('_', '-')}: applies to .npz/.npy attention, "
                                f"not to the spec file {printable(Path(args.spec).name, 60)}; "
                                "put it in the spec")
        diagram = Diagram.from_spec(args.spec, **parser.figure(args), **options)
    _write(diagram, args, fmt)


def _inputs(args: argparse.Namespace) -> dict[str, str | Path | None]:
    """The files a render reads: the input, --minus, --theme, and what a spec names."""
    found: dict[str, str | Path | None] = {"input": args.spec, "--minus file": args.minus,
                                           "--theme file": args.opt_theme,
                                           "--image file": args.image}
    found.update({f"input {i + 2}": path for i, path in enumerate(args.more)})
    if Path(args.spec).suffix.lower() in (".toml", ".json"):
        from ..sources.spec import named_files

        found.update(named_files(args.spec))
    return found


def model(args: argparse.Namespace) -> None:
    # Check what can be checked before spending seconds on loading the model.
    fmt = _output_format(args, args.view or "flow")
    options = parser.options(args)
    from ..sources.model_load import model_files

    check_not_input(args.output, {f"model's file {printable(p.name, 60)}": p
                                  for p in model_files(args.path)} |
                    {"--theme file": args.opt_theme, "--image file": args.image})
    if args.image is not None:
        if args.probe is not None:
            raise SpecError("--probe: a vision model reads --image; drop --probe")
    elif (args.text is None) == (args.probe is None):
        raise SpecError("model: give the input sentence with --text, or --probe repeated "
                        "(not both)")
    if args.image is not None:
        options["image"] = args.image
    made = Diagram.from_model(args.path, args.text or [""], quiet=False, probe=args.probe,
                              **parser.figure(args), **parser.run(args), **options)
    _write(made, args, fmt, quiet=False)


def demo(args: argparse.Namespace) -> None:
    dpi = parser.dpi(args)
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--output-dir: {printable(str(out))} exists and is not a directory; "
                        "give a directory")
    diagram = Diagram.from_spec(data_dir("specs") / "seed.toml", **parser.figure_args(args))
    # Draw everything before creating anything: a bad theme must not leave a directory.
    outputs = {fmt: diagram.to_bytes(fmt, dpi=dpi) for fmt in ("svg", "pdf", "png")}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError(f"--output-dir: cannot create {printable(str(out))} ({exc.strerror})"
                        ) from None
    for fmt, data in outputs.items():
        path = write_atomic(out / f"seed.{fmt}", data)
        print(f"wrote {printable(str(path))}")


def batch(args: argparse.Namespace) -> int:
    from ..batch import connect, plan, run

    if args.jobs is not None and not 1 <= args.jobs <= 256:
        raise SpecError(f"--jobs: {args.jobs} must be between 1 and 256")
    if args.model and args.inputs:
        raise SpecError("--model: give either input files or --model with --text, not both")
    if args.model and not args.text:
        raise SpecError("--model: give the input sentence(s) with --text")
    if args.text and not args.model:
        raise SpecError("--text: the sentences need a model; add --model PATH")
    if not args.model and not args.inputs:
        raise SpecError("give input files (.npz, .npy, .toml, .json) or --model with --text")
    if parser.run(args) and not args.model:
        raise SpecError(f"--{next(iter(parser.run(args)))}: says how a model runs; add --model "
                        "PATH (or drop it)")
    options = parser.options(args)
    layers, heads = options.pop("layers", None), options.pop("heads", None)
    inputs: list[Any] = list(args.inputs)
    reads: list[Any] = []
    if args.model:
        from ..sources.model_load import model_files

        reads = model_files(args.model)
        load_theme(args.opt_theme)
        from ..sources.local_model import run_model
        from ..sources.run_options import ModelRun
        from ..views.registry import get

        vectors = get(args.view or "flow").vectors  # the neuron view: q and k too
        how = ModelRun.of(parser.run(args))
        inputs = [run_model(args.model, text, vectors=vectors, run=how) for text in args.text]
    if args.output == STDOUT:
        raise SpecError("-o: a batch writes files; give a pattern such as 'figs/{layer}-{head}"
                        ".pdf'")
    jobs, failed = plan(inputs, args.output, layers=layers, heads=heads,
                        fmt=args.format, dpi=parser.dpi(args), batch_index=args.batch_index,
                        reads=reads,
                        **parser.figure(args), **options)
    executor = None
    if args.scheduler:
        client = connect(args.scheduler)
        executor = client.get_executor()
    try:
        report = run(jobs, executor=executor, workers=args.jobs, force=args.force,
                     progress=False if args.quiet else None, failed=failed)
    finally:
        if executor is not None:
            client.close()
    for name, message in report.warnings:
        print(f"svgattn: warning: {printable(name, 120)}: {message}", file=sys.stderr)
    for name, message in report.failed:
        print(f"svgattn: failed: {printable(name, 120)}: {message}", file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else BATCH_FAILED


def views(_: argparse.Namespace) -> None:
    from ..views.registry import load_all

    for name, view in load_all().items():
        print(f"{name:8} {view.summary}")


def themes(args: argparse.Namespace) -> None:
    if args.check:
        theme = load_theme(args.check).check()
        print(f"{printable(theme.source)}: a valid theme ({printable(theme.name, 60)})")
        return
    names = list(builtin_themes())
    width = max(map(len, names))
    for name in names:
        print(f"{name:{width}} {load_theme(name)['description']}")
