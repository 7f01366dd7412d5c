"""A GGUF model converted once, loaded in a fraction of a second after that.

transformers reads a ``.gguf`` file by de-quantising every tensor in Python: 25 s for
SmolLM2-135M on two cores, each run, against 0.3 s for the same float32 weights from
safetensors. The first run saves what transformers produced (the float32 state dict as
safetensors, the config without its quantisation entry, the tokenizer's files) in the
trusted cache folder (:mod:`svgattn.cache`), keyed by the GGUF file's SHA-256 and the
transformers and torch versions; later runs load that. The weights are bit-for-bit those
of the de-quantised model (a test compares them), so a cached run draws the same figure.
Safetensors holds tensors only: nothing in the entry is executed or unpickled, and an entry
is used only when it verifies against its manifest (the SHA-256 of each file, the tensor
names and shapes); a damaged or tampered one is replaced, atomically. With the cache off
(``SVGATTN_CACHE=0``) or untrusted, every run converts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from .. import cache
from ..errors import SvgattnError

CHUNK = 1 << 22


def fingerprint(path: Path) -> str:
    """The GGUF file's SHA-256 with the versions that shape the conversion."""
    import torch
    import transformers

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    # the model class is part of the key: entries before the language-model head was kept
    # (svgattn 0.2) hold a base model
    digest.update(f"|{transformers.__version__}|{torch.__version__}|causal-lm".encode())
    return digest.hexdigest()[:32]


def entry(gguf: Path) -> Path | None:
    """The cache folder of this file's conversion (``None`` without a usable cache)."""
    folder = cache.directory()
    return None if folder is None else folder / "models" / fingerprint(gguf)


MANIFEST = "manifest.json"


def load(gguf: Path) -> tuple[Any, Any] | None:
    """(tokenizer, model) from the cache, or ``None`` on a miss. An entry is used only
    when it verifies (:func:`verified`); a damaged one is removed (and the next
    :func:`save` replaces it) rather than loaded."""
    where = entry(gguf)
    if where is None or not os.path.lexists(where):
        return None
    if not verified(where):
        _discard(where)
        return None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    safe: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True}
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, **safe)
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            where, use_safetensors=True, output_loading_info=True, **safe)
        model, info = loaded
    except Exception:  # safetensors, json, torch: any damage is a miss
        _discard(where)
        return None
    if info.get("missing_keys") or info.get("mismatched_keys"):
        _discard(where)
        return None
    return tokenizer, model


def verified(where: Path) -> bool:
    """Whether the entry ``where`` is what :func:`save` wrote: a real folder (not a
    symbolic link) only this user can write, holding exactly the files its manifest lists,
    each a regular file with the recorded SHA-256, the weights with the recorded tensor
    names and shapes. Anything else (a weight removed, a file changed or added, code
    planted) is not used."""
    try:
        info = os.lstat(where)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or \
                info.st_mode & 0o022:
            return False
        manifest_path = where / MANIFEST
        if not stat.S_ISREG(os.lstat(manifest_path).st_mode):
            return False
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if set(os.listdir(where)) != {*files, MANIFEST}:
            return False
        for name, digest in files.items():
            path = where / name
            if not stat.S_ISREG(os.lstat(path).st_mode) or _sha256(path) != digest:
                return False
        from .model_files import safetensors_header

        found = safetensors_header(where / "model.safetensors", "cache")
        return {k: [d, list(s)] for k, (d, s) in found.items()} == manifest["tensors"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SvgattnError):
        return False


def save(gguf: Path, tokenizer: Any, model: Any) -> None:
    """Keep a conversion for the next run, with its manifest; an entry already there is
    replaced atomically. Any failure just leaves no entry (the cache is an optimisation)."""
    where = entry(gguf)
    if where is None:
        return
    from safetensors.torch import save_model

    from .model_files import safetensors_header

    temp = None
    try:
        where.parent.mkdir(mode=0o700, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=where.parent, prefix=".tmp-"))
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (temp / "config.json").write_text(json.dumps(config, default=str))
        # tied weights (a language model's head is its embedding) are saved once
        save_model(model, str(temp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(temp)
        tensors = safetensors_header(temp / "model.safetensors", "cache")
        manifest = {"files": {p.name: _sha256(p) for p in sorted(temp.iterdir())},
                    "tensors": {k: [d, list(s)] for k, (d, s) in tensors.items()}}
        (temp / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
        _install(temp, where)
        temp = None
    except (OSError, ValueError, RuntimeError, SvgattnError):
        pass
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(temp)


def _install(temp: Path, where: Path) -> None:
    """``temp`` becomes the entry ``where``, replacing one there: the old entry is renamed
    away first (a rename cannot replace a folder that holds files), so a reader sees the
    old entry, no entry, or the new one, never a mixture."""
    if os.path.lexists(where):
        old = Path(tempfile.mkdtemp(dir=where.parent, prefix=".old-"))
        os.replace(where, old / "entry")
        os.replace(temp, where)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temp, where)


def _discard(where: Path) -> None:
    """Remove an entry that does not verify (a symbolic link is removed, not followed)."""
    with contextlib.suppress(OSError):
        if os.path.islink(where) or not os.path.isdir(where):
            os.unlink(where)
        else:
            old = Path(tempfile.mkdtemp(dir=where.parent, prefix=".old-"))
            os.replace(where, old / "entry")
            shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
