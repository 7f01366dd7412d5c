"""Run a local Hugging Face model offline and return its attention: the prompts a figure
needs (or a probe), the layers it draws. Finding, checking and loading the model is
:mod:`svgattn.sources.model_load`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Attention
from ..errors import SpecError, SvgattnError, printable
from ..limits import check_cells, check_tokens, current
from .huggingface import from_huggingface
from .model_load import load, model_files, require_models
from .quiet import hushed, stage

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


def run_prompts(path: str, prompt: object, *, probe: str | None, quiet: bool,
                options: Mapping[str, Any], many: bool, uses_layers: bool,
                vectors: bool) -> Runs:
    """Run the model at ``path`` on each prompt (or on the ``probe``) for a figure with
    ``options`` (its layer references). ``many``: the figure summarises several inputs;
    ``uses_layers``: it draws several layers; ``vectors``: it reads q and k."""
    from ..analysis.request import model_layers as needed_layers
    from ..captions import Essential

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
        raise SpecError(f"model: {len(prompts)} prompts: this view draws one; use --view heads "
                        "(which averages over them) or svgattn batch")
    layers, named = needed_layers(options, model_layers(path, quiet=quiet), uses_layers)
    runs = [run_model(path, p, quiet=quiet, layers=layers, vectors=vectors) for p in prompts]
    return Runs(runs if len(runs) > 1 else runs[0], (Essential(note),) if note else (), named,
                {f"model's file {printable(f.name, 60)}": f for f in model_files(path)})


def run_model(path: str, text: str, *, quiet: bool = False,
              layers: Sequence[int] | None = None, vectors: bool = False,
              field: str = "--text") -> Attention:
    """Tokenise ``text``, run the model once with eager attention, return the attention of
    ``layers`` (model layer indices; every layer when ``None``), named by their index in
    the model ("L20"), so a figure's layer references must be names (as
    :func:`svgattn.analysis.request.model_layers` writes them). ``vectors``: also the query
    and key vectors of those layers (the neuron view). Cached in the process: a gallery of
    specs over one sentence runs the model once. ``field`` names the text in messages."""
    if not text.strip():
        raise SpecError(f"model: {field} is empty; give the sentence to run")
    most = current().tokens * CHARS_PER_TOKEN
    if len(text) > most:  # tokenising 15 MB of words took 3 GB: refused before it is read
        raise SpecError(f"model: {field} is {len(text):,} characters, more than the tokens "
                        f"limit can hold ({most:,}); shorten it, or "
                        f"{current().describe('tokens')}")
    require_models()
    return _run(path, text, quiet, None if layers is None else tuple(layers), vectors, field)


@lru_cache(maxsize=8)
def _run(path: str, text: str, quiet: bool, layers: tuple[int, ...] | None,
         vectors: bool = False, field: str = "--text") -> Attention:
    from ..data import with_vectors
    from .capture import Vectors, run_capturing

    folder, tokenizer, model = load(path, quiet)
    name = printable(folder.name, 60)
    with hushed():
        encoded = tokenizer(text, return_tensors="pt")
    length = int(encoded["input_ids"].shape[-1])
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit is not None and length > limit:
        raise SpecError(f"model: {field} is {length} tokens but {name} takes at most "
                        f"{limit}; shorten the text")
    # the limits, from the token count, before the seconds of the forward pass
    count = layer_count(model)
    kept = list(range(count)) if layers is None else list(layers)
    check_tokens(length, f"model: {field}")
    check_cells(len(kept) * int(getattr(model.config, "num_attention_heads", 1)) * length ** 2,
                f"model: {len(kept)} {'layer' if len(kept) == 1 else 'layers'} of attention")
    seen: dict[int, Vectors] | None = {} if vectors else None
    with stage("running the model", quiet), hushed():
        try:
            captured = run_capturing(model, encoded, None if layers is None else kept,
                                     vectors=seen)
        except SvgattnError:
            raise
        except Exception as exc:  # the model's files are input: their failure is not svgattn's
            raise SpecError(f"model: {name}: the model fails on this text "
                            f"({type(exc).__name__}: {printable(str(exc), 160)})") from None
    attention = from_huggingface(captured, tokenizer=tokenizer,
                                 input_ids=encoded["input_ids"],
                                 attention_mask=encoded.get("attention_mask"))
    made = Attention(attention.weights, attention.query_tokens, attention.key_tokens,
                     tuple(f"L{i}" for i in kept), attention.head_names, source=folder.name)
    if seen is None:
        return made
    missing = [i for i in kept if i not in seen]
    if missing:
        raise SpecError(f"model: the q and k of layer(s) {missing[:8]} were not seen (the model "
                        "took another attention path there); save queries and keys yourself "
                        "in an .npz for the neuron view")
    return with_vectors(made, np.stack([seen[i][0] for i in kept]),
                        np.stack([seen[i][1] for i in kept]), [seen[i][2] for i in kept])


PROBE_WORDS = 50
PROBE_SEED = 0


def probe_text(path: str, kind: str, *, quiet: bool = True) -> tuple[str, str]:
    """(text, what it is) of a probe: ``repeated`` is PROBE_WORDS random whole-word tokens
    of the model's vocabulary (seeded: the same words every run) said twice, the input on
    which induction and duplicate-token heads show (Olsson et al. 2022)."""
    import numpy as np

    if kind != "repeated":
        raise SpecError(f"probe: {kind!r} is not a probe; use repeated")
    tokenizer = load(path, quiet)[1]
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


def layer_count(model: Any) -> int:
    """How many attention layers the model has (a model of none is refused)."""
    from .capture import attention_modules

    modules = attention_modules(model)
    count = len(modules) if modules is not None else \
        int(getattr(model.config, "num_hidden_layers", 0) or 0)
    if count < 1:
        raise SpecError("model: the model has no attention layers to draw")
    return count


def model_layers(path: str, *, quiet: bool = True) -> int:
    """How many layers the model at ``path`` has (loads it, once per process)."""
    require_models()
    return layer_count(load(path, quiet)[2])
