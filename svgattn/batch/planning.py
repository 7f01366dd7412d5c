"""Planning a batch: inputs (attention files, spec files, attention in memory) and a
selection of layers and heads become one :class:`~svgattn.batch.jobs.Job` per output file,
named by a pattern. Everything that can be checked is checked here, before anything is
drawn: the pattern, the output folders, outputs that would collide, leave the folder the
pattern names or overwrite an input."""

from __future__ import annotations

import os
import string
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..data import Attention
from ..errors import SpecError, SvgattnError, printable, quote, quote_path
from ..limits import current
from .jobs import ARRAYS, FIELDS, SPECS, Job, Source


def plan(inputs: Iterable[str | os.PathLike[str] | Attention], output: str, *,
         layers: object = None, heads: object = None, view: str = "flow",
         theme: Any = None, width: Any = None, text: str | None = None, fmt: str | None = None,
         dpi: float = 300.0, batch_index: int | None = None, reads: Iterable[str] = (),
         **options: Any) -> tuple[list[Job], list[tuple[str, str]]]:
    """The jobs for ``inputs`` (attention files, spec files, :class:`Attention` objects):
    one figure per input, or per selected layer and head when ``layers``/``heads`` are
    given (``"all"``, ``"0-3"``, ``[0, 5]`` ...). ``output`` is a pattern with fields
    ``{stem}`` (the input's name), ``{input}`` (its index), ``{layer}``, ``{head}``
    (indices), ``{layer_name}``, ``{head_name}`` and ``{view}``. Returns the jobs and
    the inputs that could not be planned (name, message): those are failures, not errors,
    so the other inputs still run. ``reads``: other files the batch read (a model's): no
    figure may replace one. Raises :class:`SpecError` for a bad pattern or two figures that
    would write the same file."""
    from ..export import format_of
    from ..fields import At
    from ..settings import SETTING, parse
    from ..views.registry import get

    chosen = get(view)
    dpi = float(SETTING["dpi"].parse(dpi, At("--dpi")))
    fields = _fields(output)
    out_fmt = format_of(output.replace("{", "").replace("}", ""), fmt)
    checked = parse(chosen, options, At("batch"))
    opts = {k: checked[k] for k, v in options.items() if v is not None and k in checked}
    settings = {k: v for k, v in (("view", view), ("theme", theme), ("width", width),
                                  ("text", text)) if v is not None}
    bounds = dict(current()._asdict())
    jobs: list[Job] = []
    failed: list[tuple[str, str]] = []
    items = list(inputs)
    for number, item in enumerate(items):
        try:
            source, att = _source(item, batch_index)
        except SvgattnError as exc:
            failed.append((_name(item), str(exc)))
            continue
        expand = layers is not None or heads is not None
        if att is None and expand:
            failed.append((source.name, "--layers/--heads expand attention files and models; "
                                        "a spec names its own layer and heads"))
            continue
        try:
            pairs = _pairs(att, layers, heads, source.name) if att is not None else [(None, None)]
        except SvgattnError as exc:
            failed.append((source.name, str(exc)))
            continue
        stem = Path(source.path).stem if source.path else source.name
        for layer, head in pairs:
            values = {"stem": stem, "input": number, "view": view,
                      "layer": "" if layer is None else layer,
                      "head": "" if head is None else head,
                      "layer_name": "" if layer is None or att is None else att.layer_names[layer],
                      "head_name": "" if head is None or att is None else att.head_names[head]}
            job_opts = dict(opts)
            if layer is not None:
                job_opts["layer"] = layer
            if head is not None:
                job_opts["heads"] = [head]
            name = source.name + "".join(
                f" {k} {v}" for k, v in (("layer", layer), ("head", head)) if v is not None)
            target = output.format(**{k: component(values[k]) for k in fields})
            jobs.append(Job(name, target, source, settings, job_opts, out_fmt, dpi, bounds))
    _check_unique(jobs, output, len(items))
    _check_places(jobs, output, [*_read_files(items, theme), *map(str, reads)])
    return jobs, failed


def _read_files(items: list[Any], theme: Any) -> list[str]:
    """Every file a batch reads: its inputs, the files their specs name, a theme file."""
    from ..sources.spec import named_files

    found = [str(i) for i in items if not isinstance(i, Attention)]
    for item in list(found):
        if item.lower().endswith(SPECS):
            found += [str(p) for p in named_files(item).values()]
    if isinstance(theme, (str, os.PathLike)) and os.path.isfile(theme):
        found.append(os.fspath(theme))
    return found


# --- helpers ------------------------------------------------------------------------------
def _fields(pattern: str) -> list[str]:
    """The fields of an output pattern: plain names only. A format spec or conversion
    (``{head:>5000000000}``) could ask for gigabytes of padding, so none is allowed."""
    if "\x00" in pattern:
        raise SpecError("-o: the pattern holds a NUL character; remove it")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise SpecError(f"-o: {quote(pattern)}: {exc}; write fields as {{layer}}") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            raise SpecError(f"-o: {quote(pattern)}: unknown field {quote('{' + name + '}')}; "
                            f"use {', '.join('{' + f + '}' for f in FIELDS)}")
        if spec or conversion:
            raise SpecError(f"-o: {quote(pattern)}: fields take no format spec or conversion; "
                            f"write {{{name}}}")
        names.append(name)
    return names


def component(value: object) -> str:
    """A field's value as one safe path component: separators, NUL and control
    characters become '_', and '', '.' and '..' become '_' (a head named '../../x' must
    not choose where a figure is written)."""
    text = "".join("_" if ch in "/\\" or ord(ch) < 0x20 or ch == "\x7f" else ch
                   for ch in str(value))[:200]
    return "_" if text.strip() in ("", ".", "..") else text


def base_folder(pattern: str) -> Path:
    """The folder an output pattern writes in: its directory before the first field."""
    literal = pattern.split("{", 1)[0].replace("}}", "}")
    folder = os.path.dirname(literal) if "{" in pattern else os.path.dirname(pattern)
    return Path(folder or ".")


def _name(item: object) -> str:
    return item.source if isinstance(item, Attention) else printable(str(item), 120)


def _source(item: object, batch_index: int | None) -> tuple[Source, Attention | None]:
    """The source of ``item`` and, to expand layers and heads, its attention (``None``
    for a spec file)."""
    if isinstance(item, Attention):
        return Source(item.source, attention=item), item
    path = str(item)
    suffix = Path(path).suffix.lower()
    if suffix in SPECS:
        from ..fields import At
        from ..settings import parse
        from ..sources.spec import read_spec
        from ..views.registry import get

        spec = read_spec(path)  # a broken spec fails here, before any worker starts
        parse(get(spec.figure.get("view", "flow")), spec.options, At(spec.where),
              explicit=not spec.source)
        return Source(printable(path, 160), path=path), None
    if suffix not in ARRAYS:
        raise SpecError(f"{printable(Path(path).name, 60)}: unknown input format; give .npz or "
                        ".npy attention, or a .toml/.json spec")
    att = read_attention(path, *stamp(path), batch_index)
    # named as given: checkpoints/1/attn.npz and checkpoints/2/attn.npz stay apart
    return Source(printable(path, 160), path=path, batch_index=batch_index), att


def _pairs(att: Attention, layers: object, heads: object,
           where: str) -> list[tuple[int | None, int | None]]:
    from ..analysis.select import parse_selection

    ls = parse_selection(layers, att.layer_names, "layers", where)
    hs = parse_selection(heads, att.head_names, "heads", where)
    layer_choices: list[int | None] = list(ls) if ls else [None]
    head_choices: list[int | None] = list(hs) if hs else [None]
    return [(layer, head) for layer in layer_choices for head in head_choices]


def _check_places(jobs: list[Job], pattern: str, inputs: list[str]) -> None:
    """Before anything is drawn: every output lies inside the folder the pattern names (a
    symbolic link inside it cannot lead out), none is one of the inputs, and every folder
    can be made and written."""
    from ..files import check_output, check_writable_folder

    base = Path(os.path.realpath(base_folder(pattern)))
    sources = {os.path.realpath(i) for i in inputs}
    for folder in sorted({os.path.dirname(job.output) or "." for job in jobs}):
        check_writable_folder(folder)
    for job in jobs:
        real = os.path.realpath(job.output)
        if real in sources:
            raise SpecError(f"-o: {quote_path(job.output)} is one of the inputs; a batch never "
                            "writes over what it reads: change the pattern")
        if not Path(real).is_relative_to(base):
            raise SpecError(f"-o: {quote_path(job.output)} ({job.name}) leads outside "
                            f"{quote_path(base)}, the folder the pattern names; remove the "
                            "symbolic link or change the pattern")
        if os.path.lexists(job.output):
            check_output(job.output)


def _check_unique(jobs: list[Job], pattern: str, inputs: int) -> None:
    seen: dict[str, str] = {}
    for job in jobs:
        key = os.path.realpath(job.output)
        if key in seen:
            need = "{stem}" if inputs > 1 else "{layer} and {head}"
            raise SpecError(f"-o: {quote(pattern)} names the same file for {seen[key]} and "
                            f"{job.name}; add {need} to the pattern")
        seen[key] = job.name


def stamp(path: str) -> tuple[int, int]:
    """(mtime, size): a changed file is read again."""
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0  # the reader reports the problem
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=2)
def read_attention(path: str, mtime: int, size: int, batch_index: int | None) -> Attention:
    from ..sources.arrays import load_file

    return load_file(path, batch_index=batch_index)
