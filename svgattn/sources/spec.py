"""Spec files: TOML or JSON, one schema. See docs: "Spec files".

A spec is untrusted: it is size-limited before it is read, its nesting is bounded,
duplicate JSON keys are refused (the last one would silently win), and the theme it
names must be a built-in theme or a file beside it (never an absolute path, never
outside its folder), so a shared spec cannot make svgattn read ``/proc/self/environ``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..data import Attention
from ..errors import SpecError, SvgattnError, printable, quote
from ..files import read_text
from ..limits import current

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Keys of the figure itself; every figure option (the docs' option table) is a key too.
PICTURE_KEYS = ("image", "grid", "patch_start", "grid_axis")  # image patches (svgattn.patches)
DATA_KEYS = ("tokens", "query_tokens", "key_tokens", "weights", "heads")
SOURCE_KEYS = ("model", "text", "text_file", "probe", "attention", "minus", "batch_index",
               "generate", "sample", "seed", "target", "device", "dtype", *PICTURE_KEYS)
RUN_KEYS = ("generate", "sample", "seed", "target", "device", "dtype")  # a model's run
FIGURE_KEYS = ("view", "theme", "width", "gallery")
KEYS = (*FIGURE_KEYS, *DATA_KEYS, *SOURCE_KEYS)  # a spec's own keys, besides the options
MAX_INT_DIGITS = 30  # longer integers are read as floats (too large ones become inf)


class Spec(NamedTuple):
    """A parsed spec file, its keys sorted by role: the figure (``view``, ``theme`` as a
    built-in name or a checked path, ``width``, ``caption``), data given by hand
    (``tokens``, ``weights``, ``heads``), a source of real attention (``model`` + ``text``
    or ``attention``, ``minus``, ``batch_index``), and everything else, which the figure
    options' schema validates (an unknown key is reported there, with a close match)."""

    path: Path
    where: str
    figure: dict[str, Any]
    data: dict[str, Any]
    source: dict[str, Any]
    options: dict[str, Any]


def read_spec(path: str | os.PathLike[str]) -> Spec:
    """Parse a spec file. A ``theme`` that is a path becomes an absolute
    :class:`~pathlib.Path` inside the spec's folder. A command reads its spec more than
    once (for its view, the files it names, the figure): the same file, unchanged, is
    parsed once (callers never change a Spec's tables)."""
    try:
        info = os.stat(path)
        stamp: tuple[float, ...] = (info.st_ino, info.st_size, info.st_mtime_ns)
    except OSError:
        stamp = ()  # read_text says what is wrong with it
    limits = current()  # read again under other limits: they are checked as it is read
    return _read_spec(os.fspath(path), (*stamp, limits.spec_mb, limits.depth))


@lru_cache(maxsize=16)
def _read_spec(name: str, stamp: tuple[float, ...]) -> Spec:
    path = Path(name)
    where = printable(path.name, 60)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise SpecError(f"{where}: unknown spec format {quote(suffix or '(none)')}; name the "
                        "file .toml or .json")
    text = read_text(path, "spec")
    data = parse(text, suffix, where)
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a table/object of keys")
    check_depth(data, where)
    if "theme" in data:
        data["theme"] = spec_theme(data["theme"], path, where)
    source = {k: data.pop(k) for k in SOURCE_KEYS if k in data}
    # With a model or attention file, `heads` selects heads; by hand, it lists them.
    given = {k: data.pop(k) for k in DATA_KEYS if k in data and not (source and k == "heads")}
    figure = {k: data.pop(k) for k in FIGURE_KEYS if k in data}
    if source and given:
        raise SpecError(f"{where}: {sorted(given)[0]}: a spec reads attention from "
                        f"{'model' if 'model' in source else 'attention'} or gives it by hand "
                        "(tokens, weights, heads), not both")
    if not isinstance(figure.get("view", ""), str):
        raise SpecError(f"{where}: view: expected a view name such as \"matrix\"")
    return Spec(path, where, figure, given, source, data)


class SpecFigure(NamedTuple):
    """What a spec asks for: its figure settings (view, theme, width ...), its options,
    and where its attention comes from: given by hand (``data``: tokens, weights, heads),
    an array file (``attention``), or a model run (``model``: (model, text, probe)), with
    ``minus`` to subtract."""

    where: str
    settings: dict[str, Any]
    options: dict[str, Any]
    data: dict[str, Any] | None = None
    attention: Attention | None = None
    model: tuple[str, str, str | None, dict[str, Any]] | None = None
    minus: Attention | None = None


def figure_of(path: str | os.PathLike[str], overrides: dict[str, Any],
              settings: tuple[str, ...],
              check: Callable[[str, Sequence[str], str], None] | None = None) -> SpecFigure:
    """The figure spec ``path`` describes, keyword ``overrides`` applied (``settings``:
    the names of figure-level settings, the rest are options); ``check(view, keys,
    where)`` refuses a key that is neither a spec key nor an option."""
    from ..theme import load_theme

    spec = read_spec(path)
    if check is not None:
        check(str(overrides.get("view") or spec.figure.get("view") or "flow"),
              list(spec.options), spec.where)
    where = spec.where
    over = {k: v for k, v in overrides.items() if v is not None}
    chosen = {k: over.pop(k) for k in settings if k in over}
    if "theme" not in chosen and "theme" in spec.figure:
        try:  # a spec's theme: its errors say which spec named it
            chosen["theme"] = load_theme(spec.figure["theme"])
        except SvgattnError as exc:
            raise type(exc)(f"{where}: {exc}") from None
    for key in ("view", "width"):
        if key not in chosen and spec.figure.get(key) is not None:
            chosen[key] = spec.figure[key]
    if not spec.source and "heads" in over:
        raise SpecError(f"heads: selects heads of real attention (.npz/.npy files and "
                        f"models), not of the matrix {where} gives by hand; drop it")
    options = {**spec.options, **over}
    if not spec.source:
        return SpecFigure(where, chosen, options, data=spec.data)
    minus = minus_of(spec)
    model = model_of(spec)
    if model is not None:
        return SpecFigure(where, chosen, options, model=model, minus=minus)
    return SpecFigure(where, chosen, options, attention=attention_of(spec), minus=minus)


def named_files(path: str | os.PathLike[str]) -> dict[str, Path]:
    """The files a spec names (its theme, attention, minus and text files, and every file
    of the model it runs), resolved as they will be read; a spec that cannot be read names
    none."""
    try:
        spec = read_spec(path)
    except SvgattnError:
        return {}
    found: dict[str, Path] = {}
    if isinstance(spec.figure.get("theme"), Path):
        found["spec's theme"] = spec.figure["theme"]
    for key in ("attention", "minus", "text_file", "image"):
        value = spec.source.get(key)
        if isinstance(value, str):
            try:
                found[f"spec's {key} file"] = _inside(value, spec.path, spec.where, key)
            except SvgattnError:
                continue
    model = spec.source.get("model")
    if isinstance(model, str):
        from .model_load import model_files

        try:
            folder = _model_path(model, spec.path, spec.where)
        except SvgattnError:
            return found
        for file in model_files(folder):
            found[f"spec's model file {printable(file.name, 60)}"] = file
    return found


def model_of(spec: Spec) -> tuple[str, str, str | None, dict[str, Any]] | None:
    """(model, text, probe, how it runs) when the spec runs a model (a package name, or a
    folder or file inside the spec's folder like its theme); ``None`` when it names an
    array file. With a model, ``attention`` is which attention of an encoder-decoder."""
    from .run_options import ATTENTIONS, ModelRun

    source, where = spec.source, spec.where
    run = {k: source[k] for k in RUN_KEYS if k in source}
    if "model" not in source:
        if run:
            raise SpecError(f"{where}: {next(iter(run))}: says how a model runs; add model = "
                            "\"package or folder\" (or drop it)")
        return None
    if "attention" in source:
        if source["attention"] not in ATTENTIONS:
            raise SpecError(f"{where}: attention: with a model, says which attention of an "
                            f"encoder-decoder to draw ({', '.join(ATTENTIONS[1:])}); an array "
                            "file goes without model")
        run["attention"] = source["attention"]
    ModelRun.of(run, where)  # checked now: before the model loads
    if "image" in source:  # a vision model's picture, beside the spec
        if not isinstance(source["image"], str):
            raise SpecError(f"{where}: image: expected the path of a picture beside the spec")
        run["image"] = str(_inside(source["image"], spec.path, where, "image"))
    model, text, probe = source["model"], source.get("text"), source.get("probe")
    if probe is not None:
        if probe != "repeated" or "text" in source or "text_file" in source:
            raise SpecError(f"{where}: probe: write probe = \"repeated\" instead of text")
        text = ""
    if "text_file" in source:  # a long prompt kept beside the spec
        if text is not None or not isinstance(source["text_file"], str):
            raise SpecError(f"{where}: text_file: give the path of a UTF-8 text file inside "
                            "the spec's folder, or text, not both")
        text = read_text(_inside(source["text_file"], spec.path, where, "text_file"),
                         "text").strip()
        most = current().tokens * 32  # as svgattn model refuses a --text: before tokenising
        if len(text) > most:
            raise SpecError(f"{where}: text_file: {len(text):,} characters, more than the tokens "
                            f"limit can hold ({most:,}); shorten it, or "
                            f"{current().describe('tokens')}")
    if text is None and "image" in run:
        text = ""  # a vision encoder reads the picture only
    if not isinstance(model, str) or not isinstance(text, str):
        raise SpecError(f"{where}: model: give model = \"package or folder\" and text = "
                        "\"the input sentence\"")
    return _model_path(model, spec.path, where), text, probe, run


def _model_path(model: str, spec_path: Path, where: str) -> str:
    """A spec's ``model``: a folder or ``.gguf`` file beside the spec, else the name of an
    installed package that carries one; never resolved from the current directory."""
    from .model_load import installed_package

    beside = spec_path.resolve().parent / model
    if os.path.lexists(beside) or not model.isidentifier():
        return str(_inside(model, spec_path, where, "model"))
    found = installed_package(model)
    if found is None:
        raise SpecError(f"{where}: model: {quote(model)} is neither a folder beside the spec "
                        "nor an installed package; put the model folder next to the spec")
    return str(found)


def attention_of(spec: Spec) -> Attention:
    """The attention of the array file a spec names (inside the spec's folder like its
    theme)."""
    from .arrays import load_file

    source, where = spec.source, spec.where
    if "text" in source:
        raise SpecError(f"{where}: text: applies to model; an attention file has its tokens")
    file = source.get("attention")
    if not isinstance(file, str):
        raise SpecError(f"{where}: attention: expected the path of a .npz or .npy file")
    given = {k: source[k] for k in PICTURE_KEYS if k in source}
    if "image" in given:
        if not isinstance(given["image"], str):
            raise SpecError(f"{where}: image: expected the path of a picture beside the spec")
        given["image"] = _inside(given["image"], spec.path, where, "image")
    return load_file(_inside(file, spec.path, where, "attention"), batch_index=_batch(spec),
                     **given)


def minus_of(spec: Spec) -> Attention | None:
    """The attention a spec subtracts (``minus``: an array file), if any."""
    from .arrays import load_file

    if "minus" not in spec.source:
        return None
    if not isinstance(spec.source["minus"], str):
        raise SpecError(f"{spec.where}: minus: expected the path of a .npz or .npy file")
    return load_file(_inside(spec.source["minus"], spec.path, spec.where, "minus"),
                     batch_index=_batch(spec))


def _batch(spec: Spec) -> int | None:
    batch = spec.source.get("batch_index")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)):
        raise SpecError(f"{spec.where}: batch_index: expected a whole number")
    return batch


def _inside(value: str, spec_path: Path, where: str, key: str) -> Path:
    """A file a spec names: relative, inside the spec's folder, existing."""
    rel = Path(value)
    folder = spec_path.resolve().parent
    if rel.is_absolute() or ".." in rel.parts or "\\" in value:
        raise SpecError(f"{where}: {key}: {quote(value)} must be a relative path inside the "
                        "spec's folder (no absolute paths, no '..')")
    candidate = (folder / rel).resolve()
    if not candidate.is_relative_to(folder):
        raise SpecError(f"{where}: {key}: {quote(value)} leads outside the spec's folder")
    if not candidate.exists():
        raise SpecError(f"{where}: {key}: {quote(value)} does not exist beside the spec")
    return candidate


def parse(text: str, suffix: str, where: str) -> Any:
    """TOML or JSON text -> Python data, every parser failure a one-line SpecError."""
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_int,
                          parse_constant=_constant)
    except SpecError as exc:  # from a parser hook (a duplicate key)
        raise SpecError(f"{where}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML ({exc}); fix the syntax") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                        f"{exc.colno}); fix the syntax") from None
    except RecursionError:
        raise SpecError(f"{where}: nested too deeply to parse; a spec nests a few levels "
                        f"(at most {current().depth})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits in TOML
        why = ("an integer has thousands of digits" if "digits" in str(exc)
               else str(exc)[:100])
        raise SpecError(f"{where}: not valid {suffix[1:].upper()} ({why}); fix the value"
                        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"{quote(key)}: the key appears twice in one object; keep one (JSON "
                            "parsers silently keep the last)")
        out[key] = value
    return out


def _int(text: str) -> int | float:
    # Python refuses int() of more than 4300 digits with a ValueError; a weight that long
    # is not a weight: read it as a float (inf when huge), refused later with its field.
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


def _constant(name: str) -> float:
    # JSON has no NaN/Infinity; Python's parser accepts them, so they are caught later
    # with the field name (weights must be finite).
    return float(name.lower().replace("infinity", "inf"))


def check_depth(data: Any, where: str) -> None:
    """Refuse data nested deeper than the ``depth`` limit (iteratively: no recursion)."""
    limit = current().depth
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise SpecError(f"{where}: nested more than {limit} levels deep; a spec nests a "
                            f"few levels; {current().describe('depth')}")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (list, dict)))


def spec_theme(value: Any, spec_path: Path, where: str) -> str | Path:
    """A spec's ``theme``: a built-in name, or a relative path to a ``.toml`` file inside
    the spec's folder (resolved from there, never from the current directory)."""
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: theme: expected a built-in theme name or a relative path "
                        "to a .toml file")
    if not (value.endswith(".toml") or "/" in value or "\\" in value):
        return value  # a built-in name: the theme loader checks it
    rel = Path(value)
    folder = spec_path.resolve().parent
    if rel.is_absolute() or ".." in rel.parts or "\\" in value:
        raise SpecError(f"{where}: theme: {quote(value)} must be a relative path inside the "
                        "spec's folder (no absolute paths, no '..'); pass other themes with "
                        "--theme")
    candidate = (folder / rel).resolve()
    if not candidate.is_relative_to(folder):
        raise SpecError(f"{where}: theme: {quote(value)} leads outside the spec's folder (a "
                        "symbolic link); pass it with --theme instead")
    if not candidate.exists():
        raise SpecError(f"{where}: theme: {quote(value)} does not exist beside the spec; put the"
                        " theme file next to it or use a built-in theme name")
    return candidate
