"""Run a local Hugging Face model offline and return its attention: the prompts a figure
needs (or a probe), the layers it draws. Finding, checking and loading the model is
:mod:`svgattn.sources.model_load`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Attention, make_attention, with_vectors
from ..errors import SpecError, SvgattnError, printable
from ..limits import check_cells, current
from .capture import layer_count
from .model_load import load, model_files, require_models
from .quiet import hushed, stage
from .run_options import ModelRun, device_of

CHARS_PER_TOKEN = 32  # a text longer than the tokens limit times this is refused unread


@dataclass(frozen=True)
class Runs:
    """What a model run gives a figure: the attention of each prompt (one, or a list), the
    caption's notes on what was run, the options with layer references written as the
    names the runs keep, and the files read (no figure may be written over one)."""

    attention: Attention | list[Attention]
    notes: tuple[str, ...]
    options: dict[str, Any]
    files: dict[str, Path]


def model_diagram(cls: Any, path: str, prompt: object, figure: dict[str, Any],
                  options: dict[str, Any], *, minus: Attention | None, quiet: bool,
                  probe: str | None) -> Any:
    """:meth:`svgattn.Diagram.from_model`: the figure's options and the run's checked
    first, then the run, then the figure of its attention with the run's notes."""
    image = options.pop("image", None)
    run = ModelRun.of({k: options.pop(k) for k in ModelRun._fields if k in options})
    if image is not None:
        return _vision_diagram(cls, path, prompt, image, figure, options, run=run,
                               minus=minus, quiet=quiet, probe=probe)
    checked = cls.__new__(cls)  # every option checked before seconds of loading
    checked._setup(figure, "model", options, explicit_data=False)
    v = checked.view
    square = f"the {v.name} view" if v.square else "rollout" \
        if options.get("combine") == "rollout" else None
    ran = run_prompts(path, prompt, probe=probe, quiet=quiet, options=options,
                      many=v.many_inputs or v.averages, uses_layers="layers" in v.reads,
                      vectors=v.vectors, run=run, square=square)
    with stage("computing the weights drawn", quiet):
        made = cls.from_attention(ran.attention, minus=minus, **figure, **ran.options)
    made.data = replace(made.data, notes=(*ran.notes, *made.data.notes))
    made.reads = ran.files
    return made


def _vision_diagram(cls: Any, path: str, prompt: object, image: object,
                    figure: dict[str, Any], options: dict[str, Any], *, run: ModelRun,
                    minus: Attention | None, quiet: bool, probe: str | None) -> Any:
    """:meth:`svgattn.Diagram.from_model` with ``image``: a vision model on a picture."""
    from .vision_model import run_vision

    if probe is not None:
        raise SpecError("model: probe: a vision model reads a picture; drop --probe")
    if run != ModelRun(generate=run.generate):
        raise SpecError("model: --image: a vision model runs on the CPU in float32 and only "
                        "generate applies; drop the other run options")
    texts = [prompt] if isinstance(prompt, str) else list(prompt)  # type: ignore[call-overload]
    if len(texts) > 1:
        raise SpecError("model: --image: give one --text with a picture")
    text = texts[0] if texts and texts[0] else None
    if not isinstance(image, (str, os.PathLike)):
        raise SpecError("model: image: expected the path of a picture file")
    checked = cls.__new__(cls)  # every option checked before seconds of loading
    checked._setup(figure, "model", options, explicit_data=False)
    att = run_vision(path, image, text, quiet=quiet, generate=run.generate)
    with stage("computing the weights drawn", quiet):
        made = cls.from_attention(att, minus=minus, **figure, **options)
    from .model_load import model_files

    made.reads = {f"model's file {printable(f.name, 60)}": f for f in model_files(path)} | \
        {"--image file": Path(image)}
    return made


def run_prompts(path: str, prompt: object, *, probe: str | None, quiet: bool,
                options: Mapping[str, Any], many: bool, uses_layers: bool,
                vectors: bool, run: ModelRun | None = None, square: str | None = None) -> Runs:
    """Run the model at ``path`` on each prompt (or on the ``probe``) for a figure with
    ``options`` (its layer references). ``many``: the figure summarises several inputs;
    ``uses_layers``: it draws several layers; ``vectors``: it reads q and k; ``run``: how
    the model runs (generation, an encoder-decoder's attention, device, precision);
    ``square``: what needs self-attention (refused before the run for cross-attention)."""
    from ..analysis.request import model_layers as needed_layers
    from ..captions import Essential

    run = run or ModelRun()
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, (list, tuple)) and all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)
    else:
        raise SpecError(f"model: prompt: expected the text to run (a string, or a list of "
                        f"strings), not {type(prompt).__name__}")
    if probe is None and (not prompts or not all(p.strip() for p in prompts)):
        raise SpecError("model: --text is empty; give the sentence to run")
    note = ""
    if probe is not None:
        text, note = probe_text(path, probe, quiet=quiet)
        prompts = [text]
    if len(prompts) > 1 and not many:
        raise SpecError(f"model: {len(prompts)} prompts: this view draws one; use the matrix or "
                        "grid view (which average prompts of one length), the heads or profile "
                        "view (which average per-head scores), or svgattn batch")
    count = model_layers(path, quiet=quiet, run=run, square=square)
    layers, named = needed_layers(options, count, uses_layers)
    runs = [run_model(path, p, quiet=quiet, layers=layers, vectors=vectors, run=run)
            for p in prompts]
    return Runs(runs if len(runs) > 1 else runs[0], (Essential(note),) if note else (), named,
                {f"model's file {printable(f.name, 60)}": f for f in model_files(path)})


def run_model(path: str, text: str, *, quiet: bool = False,
              layers: Sequence[int] | None = None, vectors: bool = False,
              field: str = "--text", run: ModelRun | None = None) -> Attention:
    """Tokenise ``text``, run the model once, return the attention of ``layers`` (model
    layer indices; every layer when ``None``), named by their index in the model ("L20"),
    so a figure's layer references must be names (as
    :func:`svgattn.analysis.request.model_layers` writes them). The weights are computed
    from the q and k the model used as the figure reads them; ``vectors``: the q and k are
    the attention's too (the neuron view). Cached in the process: a gallery of specs over
    one sentence runs the model once. ``field`` names the text in messages."""
    if not text.strip():
        raise SpecError(f"model: {field} is empty; give the sentence to run")
    most = current().tokens * CHARS_PER_TOKEN
    if len(text) > most:  # tokenising 15 MB of words took 3 GB: refused before it is read
        raise SpecError(f"model: {field} is {len(text):,} characters, more than the tokens "
                        f"limit can hold ({most:,}); shorten it, or "
                        f"{current().describe('tokens')}")
    require_models()
    return _run(path, text, quiet, None if layers is None else tuple(layers), vectors, field,
                run or ModelRun())


@lru_cache(maxsize=8)
def _run(path: str, text: str, quiet: bool, layers: tuple[int, ...] | None,
         vectors: bool, field: str, run: ModelRun) -> Attention:
    from .model_run import prepared, recorded, role_of

    device = device_of(run.device)
    folder, tokenizer, model = load(path, quiet, device, run.dtype, run.generate > 0)
    name = printable(folder.name, 60)
    count = layer_count(model, role_of(model, run))
    kept = list(range(count)) if layers is None else list(layers)
    job = prepared(model, tokenizer, text, run, name, field, quiet,
                   lambda n: _check_held(model.config, len(kept), n, field))
    with stage("running the model", quiet), hushed():
        try:
            rec = recorded(model, job, kept)
        except SvgattnError:
            raise
        except Exception as exc:  # the model's files are input: their failure is not svgattn's
            raise SpecError(f"model: {name}: the model fails on this text "
                            f"({type(exc).__name__}: {printable(str(exc), 160)})") from None
    source, got = rec.vectors(job.role)
    from ..blocks import Lazy, position_biased

    made = make_attention(Lazy(source), job.queries, job.keys,
                          layer_names=[f"L{i}" for i in got], source=folder.name)
    made = replace(made, generated=job.generated, notes=(
        *job.notes, f"Run: {run.describe(device)}, {_implementation(model)} attention"
        f"{_ROLES.get(job.role, '')}"))
    if vectors:
        if position_biased(source):
            raise SpecError(f"view: {name} adds a position bias to q.k (T5's relative "
                            "attention bias), which the neuron view cannot show as q x k "
                            "products; draw another view")
        made = with_vectors(made, np.stack(source.queries), np.stack(source.keys),
                            list(source.scaling))
    return made


_ROLES = {  # what the caption says of an encoder-decoder's attention
    "encoder": "; the encoder's self-attention (source x source)",
    "decoder": "; the decoder's self-attention (target x target)",
    "cross": "; cross-attention: rows the decoder's tokens, columns the source's"}


def _check_held(config: Any, layers: int, tokens: int, field: str) -> None:
    """The cells limit, against what a run holds (before it runs): the q and k of the
    layers kept, and a matrix at the size a figure draws it (a longer input is pooled to
    :data:`~svgattn.analysis.reduce.DISPLAY` cells a side as it is computed)."""
    from ..blocks import DISPLAY

    heads = int(getattr(config, "num_attention_heads", None) or 1)
    groups = int(getattr(config, "num_key_value_heads", None) or heads)
    size = int(getattr(config, "head_dim", None) or
               (getattr(config, "hidden_size", None) or 64) // heads)
    held = layers * (heads + groups) * tokens * size + min(tokens, DISPLAY) ** 2
    check_cells(held, f"model: {field}: {tokens:,} tokens, the q and k of {layers} "
                      f"{'layer' if layers == 1 else 'layers'} and the matrix drawn")


def _implementation(model: Any) -> str:
    """The attention implementation the model ran (``sdpa``, ``eager``, ...)."""
    return str(getattr(model.config, "_attn_implementation", None) or "sdpa")


PROBE_WORDS = 50
PROBE_SEED = 0


def probe_text(path: str, kind: str, *, quiet: bool = True) -> tuple[str, str]:
    """(text, what it is) of a probe: ``repeated`` is PROBE_WORDS random whole-word tokens
    of the model's vocabulary (seeded: the same words every run) said twice, the input on
    which induction and duplicate-token heads show (Olsson et al. 2022)."""
    import numpy as np

    if kind != "repeated":
        raise SpecError(f"probe: {kind!r} is not a probe; use repeated")
    tokenizer = load(path, quiet)[1]  # the tokenizer: whatever the device and precision
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    words = []
    for _, index in vocab:  # a word that is one token with its leading space, and only one
        word = tokenizer.decode([index])
        if word.startswith(" ") and word[1:].isalpha() and word[1:].isascii() and \
                len(word) > 3 and len(tokenizer(word, add_special_tokens=False)["input_ids"]) == 1:
            words.append(word[1:])
    if len(words) < PROBE_WORDS:  # a vocabulary without leading-space words (WordPiece)
        words = [t for t, _ in vocab if t.isalpha() and t.isascii() and len(t) > 2]
    if len(words) < PROBE_WORDS:
        raise SpecError(f"probe: the model's vocabulary has {len(words)} whole words; the "
                        f"repeated probe says {PROBE_WORDS} twice: give --text with a passage "
                        "said twice instead")
    rng = np.random.default_rng(PROBE_SEED)
    chosen = [words[i] for i in rng.choice(len(words), PROBE_WORDS, replace=False)]
    half = " ".join(chosen)
    note = f"Probe: {PROBE_WORDS} random vocabulary words (seed {PROBE_SEED}) said twice"
    # the first word with its leading space, as it is the second time: without it a BPE
    # vocabulary splits it differently ("out comes" then " outcomes"), and one of the
    # repeats the induction score reads is no repeat at all
    for text in (f" {half}. {half}.", f"{half}. {half}."):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) % 2 == 0 and ids[:len(ids) // 2] == ids[len(ids) // 2:]:
            return text, note
    return f"{half}. {half}.", note + " (its tokenizer splits the two copies differently)"


def model_layers(path: str, *, quiet: bool = True, run: ModelRun | None = None,
                 square: str | None = None) -> int:
    """How many layers of the attention ``run`` draws the model at ``path`` has (loads
    it, once per process); ``square`` (what needs self-attention) refuses cross-attention."""
    from .model_run import role_of

    require_models()
    run = run or ModelRun()
    model = load(path, quiet, device_of(run.device), run.dtype, run.generate > 0)[2]
    role = role_of(model, run)
    if square and role == "cross":
        raise SpecError(f"attention: {square} needs self-attention, and this run draws "
                        "cross-attention (decoder tokens x source tokens); give --attention "
                        "encoder or decoder, or use the grid view")
    return layer_count(model, role)
