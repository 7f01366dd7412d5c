"""A Hugging Face model folder, checked before transformers reads it.

A model folder is untrusted input, like a spec: a ``config.json`` can name code to run
(``auto_map``), claim two million layers or a vocabulary of 10^12, or nest JSON a hundred
thousand levels deep; weights can be pickles (which run code when loaded), truncated, or
safetensors whose header claims 2^62 bytes; any file can be a FIFO that blocks the reader.
Here, before transformers is imported:

- only regular files are read (symbolic links are followed, as Hugging Face's cache links
  its blobs; FIFOs, sockets and devices are refused);
- every JSON file transformers reads is parsed with its size and nesting bounded;
- ``config.json`` is an object naming a model type and no code, its sizes are whole
  numbers in range, its heads divide its width, and the memory it describes is within the
  ``model_gb`` limit;
- weights are safetensors only (pickles are refused, never unpickled), each header is read
  and checked against its file, and the layers the config claims are in the weights;
- a tokenizer is there (svgattn names tokens with the model's own).

What could still go wrong when transformers builds the model (a weight the config needs
that the files lack) is checked after loading (:func:`check_loaded`).
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError, printable, quote
from ..limits import current

JSON_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json",
              "special_tokens_map.json", "generation_config.json", "added_tokens.json",
              "preprocessor_config.json", "processor_config.json", "vocab.json",
              "model.safetensors.index.json", "chat_template.json")
TOKENIZERS = ("tokenizer.json", "tokenizer.model", "vocab.txt", "vocab.json", "spiece.model",
              "sentencepiece.bpe.model", "source.spm")
PICKLES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
JSON_MB = 256  # a tokenizer.json of a 250k vocabulary is 20 MB
MAX_HEADER = 100 << 20  # bytes of one safetensors header
MAX_LAYERS = 4096
MAX_SIZE = (1 << 31) - 1  # any width, count or vocabulary in a config
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
          "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}
# config keys that hold sizes (whichever a model type uses)
SIZES = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
         "num_key_value_heads", "intermediate_size", "max_position_embeddings", "head_dim",
         "n_layer", "n_head", "n_embd", "n_positions", "n_ctx", "n_inner", "d_model", "d_ff",
         "d_kv", "num_layers", "num_heads", "num_decoder_layers", "encoder_layers",
         "decoder_layers", "encoder_attention_heads", "decoder_attention_heads",
         "encoder_ffn_dim", "decoder_ffn_dim")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers")
WIDTHS = (("hidden_size", "num_attention_heads"), ("n_embd", "n_head"),
          ("d_model", "encoder_attention_heads"), ("d_model", "decoder_attention_heads"))
_LAYER = re.compile(r"(?:^|\.)(?:layers?|h|block|blocks)\.(\d+)\.")


@dataclass(frozen=True)
class Folder:
    """A checked model folder: its config, the files transformers may read (a figure must
    never be written over one), and its weights' tensors (name -> (dtype, shape))."""

    path: Path
    config: dict[str, Any]
    files: tuple[Path, ...]
    tensors: dict[str, tuple[str, tuple[int, ...]]]


def regular_files(folder: Path, name: str) -> list[Path]:
    """The files of ``folder`` (not its subfolders); anything else that is not a folder
    (a FIFO, a socket, a device, a dangling link) is refused: a reader would block on it or
    read without end."""
    out = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise SpecError(f"model: {name}: cannot list the folder ({exc.strerror})") from None
    for entry in entries:
        try:
            info = os.stat(entry)  # links followed: Hugging Face's cache links its blobs
        except OSError:
            raise SpecError(f"model: {name}/{printable(entry.name, 60)}: a link to nothing; "
                            "remove it or restore what it points to") from None
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"model: {name}/{printable(entry.name, 60)}: not a regular file (a "
                            "FIFO, socket or device); a model folder holds only files")
        out.append(entry)
    return out


def inspect(folder: Path, *, tokenizer: bool = True) -> Folder:
    """``folder`` checked as the module docstring says; a one-line error otherwise.
    Without ``tokenizer`` (a vision encoder) it must hold the image processor's settings
    instead."""
    name = printable(folder.name, 60)
    files = regular_files(folder, name)
    present = {f.name: f for f in files}
    for path in files:  # what transformers reads whole, besides the weights
        if not path.name.endswith((".safetensors", ".gguf")) and \
                os.stat(path).st_size > JSON_MB << 20:
            raise SpecError(f"model: {name}/{printable(path.name, 60)}: more than {JSON_MB} MB, "
                            "more than a model's tokenizer or config file holds")
    for json_name in JSON_FILES:
        if json_name in present and json_name != "config.json":
            read_json(present[json_name], name)
    if "config.json" not in present:
        raise SpecError(f"model: {name}: holds no config.json; give a Hugging Face model folder")
    config = read_json(present["config.json"], name)
    if not isinstance(config, dict):
        raise SpecError(f"model: {name}/config.json: is not a JSON object of settings")
    check_config(config, name)
    if not tokenizer:
        if "preprocessor_config.json" not in present:
            raise SpecError(f"model: {name}: holds no preprocessor_config.json; svgattn "
                            "prepares the picture with the model's own image processor")
    elif not any(t in present for t in TOKENIZERS):
        raise SpecError(f"model: {name}: holds no tokenizer ({', '.join(TOKENIZERS[:3])} ...); "
                        "svgattn names the tokens with the model's own tokenizer")
    tensors = _weights(folder, present, name)
    check_layers(config, tensors, name)
    return Folder(folder, config, tuple(files), tensors)


def read_json(path: Path, name: str) -> Any:
    """A JSON file of the model, its size and nesting bounded."""
    shown = f"{name}/{printable(path.name, 60)}"
    size = os.stat(path).st_size
    if size > JSON_MB << 20:
        raise SpecError(f"model: {shown}: {size:,} bytes, more than a model's JSON file holds "
                        f"({JSON_MB} MB)")
    with open(path, "rb") as fh:
        data = fh.read(size + 1)
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_unique,
                          parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise SpecError(f"model: {shown}: not UTF-8 text; the file is damaged") from None
    except RecursionError:
        raise SpecError(f"model: {shown}: nested too deeply to be a model's JSON") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"model: {shown}: not valid JSON ({exc.msg} at line {exc.lineno}); the "
                        "file is damaged") from None
    except _Duplicate as exc:
        raise SpecError(f"model: {shown}: the key {exc} appears twice in one object (a reader "
                        "would silently keep the last)") from None
    except _Constant as exc:
        raise SpecError(f"model: {shown}: holds {exc}, which is not a number JSON allows; the "
                        "file is damaged") from None


class _Duplicate(Exception):
    pass


class _Constant(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise _Constant(name)  # NaN, Infinity: Python's parser takes them, JSON does not


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(quote(key, 40))
        out[key] = value
    return out


def check_config(config: Mapping[str, Any], name: str) -> None:
    """A config that names a model type and no code, with sizes that a model can have."""
    where = f"model: {name}/config.json"
    if "auto_map" in config or config.get("trust_remote_code"):
        raise SpecError(f"{where}: names code of its own to run (auto_map); svgattn never runs "
                        "a model's code: use a model transformers itself supports")
    kind = config.get("model_type")
    if not isinstance(kind, str) or not kind:
        raise SpecError(f"{where}: model_type: {quote(kind, 40)} is not a model type; a Hugging "
                        "Face config names one (bert, llama ...)")
    for key in SIZES:
        value = config.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
            raise SpecError(f"{where}: {key}: {quote(value, 30)} is not a size a model has (a "
                            "whole number from 1); the file is damaged")
    for width_key, heads_key in WIDTHS:
        width, heads = config.get(width_key), config.get(heads_key)
        if isinstance(width, int) and isinstance(heads, int) and config.get("head_dim") is \
                None and width % heads:
            raise SpecError(f"{where}: {width_key} ({width}) is not a multiple of {heads_key} "
                            f"({heads}); the file is damaged")
    deep = next((k for k in LAYER_KEYS if isinstance(config.get(k), int)), None)
    if deep is not None and config[deep] > MAX_LAYERS:
        raise SpecError(f"{where}: {deep}: {config[deep]:,} layers; models have at most "
                        f"{MAX_LAYERS:,}")
    gb = described_gb(config)
    if gb > current().model_gb:
        raise SpecError(f"{where}: describes about {gb:,.1f} GB of float32 parameters, over the "
                        f"limit of {current().model_gb:g} GB; {current().describe('model_gb')}")


def described_gb(config: Mapping[str, Any]) -> float:
    """The float32 parameters a config describes, roughly (embeddings and, per layer,
    attention and feed-forward weights), in GB: what building the model would allocate."""
    def size(*keys: str) -> int:
        return next((int(config[k]) for k in keys if isinstance(config.get(k), int)), 0)

    width = size("hidden_size", "n_embd", "d_model")
    vocab = size("vocab_size")
    inner = size("intermediate_size", "n_inner", "d_ff", "encoder_ffn_dim") or 4 * width
    layers = size(*LAYER_KEYS) + size("encoder_layers") + size("decoder_layers")
    params = vocab * width + layers * (4 * width * width + 3 * width * inner)
    return params * 4 / 2**30


def _weights(folder: Path, present: Mapping[str, Path],
             name: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Every tensor of the folder's safetensors files, each header checked; pickles are
    refused (loading one runs whatever code it holds)."""
    safetensors = [p for n, p in present.items() if n.endswith(".safetensors")]
    if not safetensors:
        pickled = sorted(n for n in present if n.endswith(PICKLES))
        if pickled:
            raise SpecError(f"model: {name}: its weights are pickles ({printable(pickled[0], 60)}"
                            "), which can run code when loaded; svgattn reads safetensors only "
                            "(convert them with safetensors.torch.save_file)")
        raise SpecError(f"model: {name}: holds no weights (model.safetensors); give a complete "
                        "model folder")
    total = sum(os.stat(p).st_size for p in safetensors)
    if total > current().model_gb * 2**30:
        raise SpecError(f"model: {name}: {total / 2**30:,.1f} GB of weights exceed the limit of "
                        f"{current().model_gb:g} GB; {current().describe('model_gb')}")
    if "model.safetensors.index.json" in present:
        index = read_json(present["model.safetensors.index.json"], name)
        shards = index.get("weight_map", {}) if isinstance(index, dict) else None
        if not isinstance(shards, dict) or any(
                not isinstance(v, str) or v not in present for v in shards.values()):
            raise SpecError(f"model: {name}/model.safetensors.index.json: names a shard that "
                            "is not a file of the folder; the folder is incomplete")
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for path in sorted(safetensors):
        tensors.update(safetensors_header(path, f"{name}/{printable(path.name, 60)}"))
    return tensors


def safetensors_header(path: Path, shown: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The tensors of a safetensors file (name -> (dtype, shape)), each lying inside it."""
    size = os.stat(path).st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise SpecError(f"model: {shown}: too short to be safetensors; the file is damaged")
        length = struct.unpack("<Q", head)[0]
        if length > min(size - 8, MAX_HEADER):
            raise SpecError(f"model: {shown}: its header claims {length:,} bytes, more than the "
                            "file holds; the file is damaged")
        raw = fh.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise SpecError(f"model: {shown}: its header is not valid JSON; the file is damaged"
                        ) from None
    if not isinstance(header, dict):
        raise SpecError(f"model: {shown}: its header is not a table of tensors")
    room = size - 8 - length
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        ok = isinstance(info, dict) and info.get("dtype") in DTYPES and \
            isinstance(info.get("shape"), list) and isinstance(info.get("data_offsets"), list)
        shape = info.get("shape", []) if ok else []
        offsets = info.get("data_offsets", []) if ok else []
        ok = ok and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_SIZE
                        for d in (*shape, *offsets)) and len(offsets) == 2
        if ok:
            count = 1
            for d in shape:
                count *= d
            begin, end = offsets
            ok = 0 <= begin <= end <= room and end - begin == count * DTYPES[info["dtype"]]
        if not ok:
            raise SpecError(f"model: {shown}: tensor {quote(key, 40)} is not described as one "
                            "lying inside the file; the file is damaged")
        out[key] = (info["dtype"], tuple(shape))
    return out


def check_layers(config: Mapping[str, Any], tensors: Mapping[str, Any], name: str) -> None:
    """The layers the config claims are in the weights (a config of two million layers
    over a two-layer model would build, randomly, the rest)."""
    claimed = next((config[k] for k in LAYER_KEYS if isinstance(config.get(k), int)), None)
    found = {int(m.group(1)) for key in tensors if (m := _LAYER.search(key))}
    if claimed is not None and found and claimed > max(found) + 1:
        raise SpecError(f"model: {name}/config.json: {claimed:,} layers, but the weights hold "
                        f"{max(found) + 1}; the config does not belong to these weights")


def check_loaded(info: Mapping[str, Any], name: str) -> None:
    """After transformers built the model: every weight it needs came from the files (a
    missing one would be randomly initialised: another model, drawn without a word)."""
    missing = list(info.get("missing_keys") or ())
    mismatched = list(info.get("mismatched_keys") or ())
    if missing or mismatched:
        keys = missing or [m[0] if isinstance(m, (list, tuple)) else m for m in mismatched]
        raise SpecError(f"model: {name}: the weights lack {len(keys)} the model needs (e.g. "
                        f"{quote(keys[0], 50)}); transformers would fill them with random "
                        "numbers: give the model's complete, matching files")
