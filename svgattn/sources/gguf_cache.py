"""A GGUF model converted once, loaded in a fraction of a second after that.

transformers reads a ``.gguf`` file by de-quantising every tensor in Python: 25 s for
SmolLM2-135M on two cores, each run, against 0.3 s for the same float32 weights from
safetensors. The first run saves what transformers produced (the float32 state dict as
safetensors, the config without its quantisation entry, the tokenizer's files) in the
trusted cache folder (:mod:`svgattn.cache`), keyed by the GGUF file's SHA-256 and the
transformers and torch versions; later runs load that. The weights are bit-for-bit those
of the de-quantised model (a test compares them), so a cached run draws the same figure.
Safetensors holds tensors only: nothing in the entry is executed or unpickled. With the
cache off (``SVGATTN_CACHE=0``) or untrusted, every run converts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .. import cache

CHUNK = 1 << 22


def fingerprint(path: Path) -> str:
    """The GGUF file's SHA-256 with the versions that shape the conversion."""
    import torch
    import transformers

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    digest.update(f"|{transformers.__version__}|{torch.__version__}".encode())
    return digest.hexdigest()[:32]


def entry(gguf: Path) -> Path | None:
    """The cache folder of this file's conversion (``None`` without a usable cache)."""
    folder = cache.directory()
    return None if folder is None else folder / "models" / fingerprint(gguf)


def load(gguf: Path) -> tuple[Any, Any] | None:
    """(tokenizer, model) from the cache, or ``None`` on a miss or a damaged entry."""
    where = entry(gguf)
    if where is None or not (where / "done").is_file():
        return None
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        model = AutoModel.from_pretrained(where, attn_implementation="eager",
                                          local_files_only=True, use_safetensors=True)
    except Exception:  # safetensors, json, torch: any damage is a miss
        return None  # convert again
    return tokenizer, model


def save(gguf: Path, tokenizer: Any, model: Any) -> None:
    """Keep a conversion for the next run; any failure just leaves no entry (the cache is
    an optimisation)."""
    where = entry(gguf)
    if where is None:
        return
    from safetensors.torch import save_file

    temp = None
    try:
        where.parent.mkdir(mode=0o700, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=where.parent, prefix=".tmp-"))
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (temp / "config.json").write_text(json.dumps(config, default=str))
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(temp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(temp)
        (temp / "done").write_text("")
        os.replace(temp, where)
        temp = None
    except (OSError, ValueError, RuntimeError):
        pass
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(temp)
