"""Command line: ``svgattn render | demo | themes``.

User errors print one line and exit 2; unexpected failures exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .diagram import Diagram
from .errors import ExportError, SvgattnError
from .export import FORMATS, format_of
from .resources import data_dir
from .theme import builtin_themes, load_theme

USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="svgattn", description="Vector figures of transformer attention: "
                     "heads, tokens and the attention matrix as SVG, PDF, PNG or EPS.")
    parser.add_argument("--version", action="version", version=f"svgattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render a spec file (.toml/.json) to a figure",
                            description="Render a spec file to SVG, PDF, PNG or EPS.")
    render.add_argument("spec", help="spec file (.toml or .json)")
    render.add_argument("-o", "--output", required=True,
                        help="output file; the suffix picks the format (.svg .pdf .png .eps)")
    _style_options(render)

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
    if with_format:
        p.add_argument("--format", choices=FORMATS, help="output format (default: from suffix)")


def _render(args: argparse.Namespace) -> None:
    fmt = format_of(args.output, args.format)
    diagram = Diagram.from_spec(args.spec, theme=args.theme, width=args.width)
    path = diagram.save(args.output, fmt=fmt, dpi=args.dpi)
    print(f"wrote {path}")


def _demo(args: argparse.Namespace) -> None:
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    diagram = Diagram.from_spec(data_dir("specs") / "seed.toml", theme=args.theme,
                                width=args.width)
    for fmt in ("svg", "pdf", "png"):
        print(f"wrote {diagram.save(out / f'seed.{fmt}', dpi=args.dpi)}")


def _themes(_: argparse.Namespace) -> None:
    for name in builtin_themes():
        print(f"{name:8} {load_theme(name)['description']}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        {"render": _render, "demo": _demo, "themes": _themes}[args.command](args)
    except ExportError as exc:
        print(f"svgattn: error: {exc}", file=sys.stderr)
        return USER_ERROR if "output:" in str(exc) else 1
    except SvgattnError as exc:
        print(f"svgattn: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except OSError as exc:  # unreadable spec, full disk: a failure, still one line
        print(f"svgattn: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
