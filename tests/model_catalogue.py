"""Hostile model inputs for ``svgattn model``: damaged or malicious GGUF files, config.json,
safetensors, tokenizers, FIFOs, outputs over the model's own files, specs that name a
model. Same ``Case(name, kind, make, expect)`` form as tests/catalogue.py; run by
tests/test_model_catalogue.py, each in its own process: ``make(tmp)`` builds the case in
``tmp`` and returns the arguments of ``svgattn.cli.main``; ``expect`` is a fragment the
one-line error must hold. A new source of model input adds its cases here.

Every case is cheap: a tiny random-weight model (BERT, hidden size 32, 2 layers, 2 heads,
about 100 KB) is built once per process and copied; "huge" files are sparse (``truncate``);
no real weights are read or copied. :func:`tiny_model` and :func:`tiny_gguf` build valid
models, the controls (``CONTROLS``) show they run.

Extra expectations beyond the harness: ``STDIN`` gives the standard input a case is also run
with (the auto_map case answers "y" to transformers' prompt), and no case may leave the file
``MARKER`` in ``tmp`` (a hostile pickle or remote-code module would write it).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from catalogue import ESC, Case

TEXT = "the cat sat on the mat"
MARKER = "PWNED-svgattn-ran-model-code"
HUGE = 64 << 30  # the size of the sparse files: 64 GiB, none of it on disk

# a vocabulary of whole words: enough (>= 50 alphabetic, > 2 letters) for --probe repeated
WORDS = (
    "the", "cat", "sat", "on", "mat", "dog", "ran", "to", "a", "red", "big", "small", "house",
    "tree", "bird", "sky", "blue", "green", "sun", "moon", "star", "river", "stone", "hill",
    "road", "car", "boat", "fish", "water", "fire", "wind", "rain", "snow", "cold", "warm",
    "light", "dark", "day", "night", "book", "pen", "paper", "table", "chair", "door", "window",
    "wall", "floor", "roof", "garden", "flower", "grass", "leaf", "apple", "bread", "milk",
    "cheese", "salt", "sugar", "tea", "coffee", "cup", "plate", "spoon", "knife", "fork", "bowl",
    "bottle", "glass", "box", "bag", "hat", "coat", "shoe", "sock", "shirt", "dress", "ring",
    "bell", "clock", "lamp", "bed", "pillow", "blanket", "mirror", "brush", "soap", "towel", "it",
    "was", "because", "tired"
)
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
SMALL_WORDS = ("the", "cat", "sat", "on", "mat", "dog", "ran", "red")

CASES: list[Case] = []
CONTROLS: list[Case] = []  # valid inputs: each must draw (exit 0), so the cases test svgattn
STDIN: dict[str, bytes] = {}

Maker = Callable[[Path], list[str]]


def case(name: str, expect: str, *, stdin: bytes | None = None) -> Callable[[Maker], Maker]:
    def register(make: Maker) -> Maker:
        CASES.append(Case(f"model-{name}", "cli", make, expect))
        if stdin is not None:
            STDIN[f"model-{name}"] = stdin
        return make
    return register


def control(name: str) -> Callable[[Maker], Maker]:
    def register(make: Maker) -> Maker:
        CONTROLS.append(Case(f"control-{name}", "cli", make, ""))
        return make
    return register


def model_args(path: Path | str, tmp: Path, *extra: str, text: str = TEXT) -> list[str]:
    return ["model", str(path), "--text", text, "-o", str(tmp / "out.svg"), *extra]


# --- tiny valid models ----------------------------------------------------------------------

@lru_cache(maxsize=1)
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="svgattn-tiny-models-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@lru_cache(maxsize=8)
def _built_model(words: tuple[str, ...], settings: tuple[tuple[str, Any], ...]) -> Path:
    """A random-weight BERT with a WordPiece tokenizer over ``words``, saved once per
    process: config.json, model.safetensors, tokenizer.json, tokenizer_config.json and, as
    real BERT folders have it (transformers 5 no longer writes it), vocab.txt."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = Path(tempfile.mkdtemp(prefix="bert-", dir=_scratch()))
    vocab = {token: index for index, token in enumerate((*SPECIALS, *words))}
    config = {"vocab_size": len(vocab), "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128,
              **dict(settings)}
    torch.manual_seed(0)
    BertModel(BertConfig(**config)).save_pretrained(folder)
    BertTokenizer(vocab=vocab).save_pretrained(folder)
    (folder / "vocab.txt").write_text("".join(f"{token}\n" for token in vocab), encoding="utf-8")
    return folder


def tiny_model(tmp: Path, name: str = "tiny-model", *, words: Sequence[str] = WORDS,
               **config: Any) -> Path:
    """A tiny valid model folder ``tmp/name`` (about 100 KB; built once per process and
    copied). ``config`` overrides BertConfig settings consistently (weights match)."""
    target = tmp / name
    shutil.copytree(_built_model(tuple(words), tuple(sorted(config.items()))), target)
    return target


# GGUF value types (llama.cpp's gguf.h)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_PACK = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
         BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
# (key, value type, value, element type of an array or None)
Meta = tuple[str, int, Any, int | None]
ALIGN = 32


def _gguf_str(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def _gguf_value(vtype: int, value: Any, elem: int | None = None) -> bytes:
    if vtype == STR:
        return _gguf_str(value)
    if vtype == ARR:
        assert elem is not None
        return struct.pack("<IQ", elem, len(value)) + b"".join(_gguf_value(elem, v) for v in value)
    return struct.pack(_PACK[vtype], value)


def _sp_vocab() -> tuple[list[str], list[float], list[int]]:
    """A sentencepiece-style vocabulary (tokens, scores, types): specials, the characters
    and every prefix of each '▁word', so the merges can be derived from the scores."""
    tokens, types = ["<unk>", "<s>", "</s>"], [2, 3, 3]
    pieces: dict[str, None] = dict.fromkeys(["▁", *"abcdefghijklmnopqrstuvwxyz"])
    for word in WORDS:
        spelled = "▁" + word
        pieces.update(dict.fromkeys(spelled[:end] for end in range(2, len(spelled) + 1)))
    tokens += list(pieces)
    types += [1] * len(pieces)
    scores = [0.0, 0.0, 0.0] + [float(len(p)) - i * 1e-4 for i, p in enumerate(pieces)]
    return tokens, scores, types


def llama_meta(*, tokenizer: bool = True, arch: str = "llama", **override: int) -> list[Meta]:
    """The metadata of a tiny llama GGUF (hidden 32, 2 blocks, 2 heads); ``override`` sets
    integer keys after the ``{arch}.`` prefix (``embedding_length=2**31``)."""
    numbers = {"context_length": 128, "embedding_length": 32, "block_count": 2,
               "feed_forward_length": 64, "rope.dimension_count": 16,
               "attention.head_count": 2, "attention.head_count_kv": 2, **override}
    meta: list[Meta] = [("general.architecture", STR, arch, None),
                        ("general.name", STR, "tiny", None)]
    meta += [(f"{arch}.{key}", U32, value, None) for key, value in numbers.items()]
    meta.append((f"{arch}.attention.layer_norm_rms_epsilon", F32, 1e-5, None))
    if tokenizer:
        tokens, scores, types = _sp_vocab()
        meta += [("tokenizer.ggml.model", STR, "llama", None),
                 ("tokenizer.ggml.tokens", ARR, tokens, STR),
                 ("tokenizer.ggml.scores", ARR, scores, F32),
                 ("tokenizer.ggml.token_type", ARR, types, I32),
                 ("tokenizer.ggml.unknown_token_id", U32, 0, None),
                 ("tokenizer.ggml.bos_token_id", U32, 1, None),
                 ("tokenizer.ggml.eos_token_id", U32, 2, None)]
    return meta


def llama_tensors(vocab: int | None = None) -> dict[str, np.ndarray]:
    """Random float32 weights of the tiny llama, by GGUF name, in torch order."""
    vocab = len(_sp_vocab()[0]) if vocab is None else vocab
    rng = np.random.default_rng(0)

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    tensors = {"token_embd.weight": w(vocab, 32), "output_norm.weight": np.ones(32, np.float32)}
    for block in range(2):
        p = f"blk.{block}."
        tensors.update({p + "attn_norm.weight": np.ones(32, np.float32),
                        p + "ffn_norm.weight": np.ones(32, np.float32),
                        p + "attn_q.weight": w(32, 32), p + "attn_k.weight": w(32, 32),
                        p + "attn_v.weight": w(32, 32), p + "attn_output.weight": w(32, 32),
                        p + "ffn_gate.weight": w(64, 32), p + "ffn_up.weight": w(64, 32),
                        p + "ffn_down.weight": w(32, 64)})
    return tensors


def raw_gguf(meta: Iterable[Meta], tensors: dict[str, np.ndarray] | None = None, *,
             magic: bytes = b"GGUF", version: int = 3, tensor_count: int | None = None,
             kv_count: int | None = None,
             shapes: dict[str, Sequence[int]] | None = None) -> bytes:
    """A GGUF file written byte by byte, so it can lie: any magic, version or count,
    duplicate keys, a tensor ``shapes`` entry (torch order) other than its data."""
    meta, tensors, shapes = list(meta), tensors or {}, shapes or {}
    head = magic + struct.pack("<IQQ", version,
                               len(tensors) if tensor_count is None else tensor_count,
                               len(meta) if kv_count is None else kv_count)
    body = b"".join(_gguf_str(k) + struct.pack("<I", t) + _gguf_value(t, v, e)
                    for k, t, v, e in meta)
    table, data = b"", b""
    for name, array in tensors.items():
        dims = list(reversed(shapes.get(name, array.shape)))  # ggml order: fastest first
        table += _gguf_str(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, 0, len(data))
        data += array.astype("<f4").tobytes()
        data += b"\0" * (-len(data) % ALIGN)
    out = head + body + table
    return out + b"\0" * (-len(out) % ALIGN) + data if tensors else out


def tiny_gguf(tmp: Path, name: str = "tiny.gguf") -> Path:
    """A tiny valid GGUF (llama architecture, sentencepiece-style tokenizer, float32
    weights) written with the ``gguf`` package's GGUFWriter."""
    from gguf import GGUFValueType, GGUFWriter

    path = tmp / name
    writer = GGUFWriter(str(path), "llama")
    for key, vtype, value, elem in llama_meta():
        if key != "general.architecture":
            writer.add_key_value(key, value, GGUFValueType(vtype),
                                 None if elem is None else GGUFValueType(elem))
    for tensor, array in llama_tensors().items():
        writer.add_tensor(tensor, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# --- GGUF -------------------------------------------------------------------------------------

def gguf_case(name: str, expect: str, data: Callable[[], bytes], *,
              size: int | None = None) -> None:
    def make(tmp: Path) -> list[str]:
        path = tmp / "m.gguf"
        path.write_bytes(data())
        if size is not None:
            os.truncate(path, size)  # sparse: the file claims the size, the disk holds nothing
        return model_args(path, tmp)
    CASES.append(Case(f"model-gguf-{name}", "cli", make, expect))


def _llama(**kw: Any) -> Callable[[], bytes]:
    return lambda: raw_gguf(llama_meta(**kw), llama_tensors())


def _with_meta(extra: Sequence[Meta], *, tensors: bool = True, **kw: Any) -> Callable[[], bytes]:
    return lambda: raw_gguf([*llama_meta(**kw), *extra], llama_tensors() if tensors else None)


ARCH_ONLY: list[Meta] = [("general.architecture", STR, "llama", None)]
gguf_case("empty", "gguf", lambda: b"")
gguf_case("magic-only", "gguf", lambda: b"GGUF")
gguf_case("bad-magic", "gguf", lambda: raw_gguf(ARCH_ONLY, magic=b"GGML"))
gguf_case("version-99", "gguf", lambda: raw_gguf(ARCH_ONLY, version=99))
gguf_case("key-count-2^62", "gguf", lambda: raw_gguf(ARCH_ONLY, kv_count=2**62))
gguf_case("key-count-2^64-1", "gguf", lambda: raw_gguf(ARCH_ONLY, kv_count=2**64 - 1))
gguf_case("tensor-count-2^63", "gguf", lambda: raw_gguf(ARCH_ONLY, tensor_count=2**63))
gguf_case("key-length-2^62", "gguf",
          lambda: raw_gguf(ARCH_ONLY, kv_count=2) + struct.pack("<Q", 2**62) + b"general.x")
gguf_case("string-length-2^63", "gguf", lambda: raw_gguf(
    ARCH_ONLY, kv_count=2) + _gguf_str("general.name") + struct.pack("<IQ", STR, 2**63) + b"x")
gguf_case("u32-array-count-2^62", "gguf", lambda: raw_gguf(
    ARCH_ONLY, kv_count=2) + _gguf_str("llama.x") + struct.pack("<IIQ", ARR, U32, 2**62))
gguf_case("string-array-count-2^62", "gguf", lambda: raw_gguf(
    ARCH_ONLY, kv_count=2) + _gguf_str("tokenizer.ggml.tokens")
    + struct.pack("<IIQ", ARR, STR, 2**62) + _gguf_str("a"))
gguf_case("unknown-architecture", "architecture", _llama(arch="svgattnhostile"))
gguf_case("escape-architecture", "architecture", _llama(arch=f"x{ESC}"))
gguf_case("duplicate-key", "gguf",
          _with_meta([("llama.block_count", U32, 4_000_000_000, None)]))
gguf_case("duplicate-architecture", "gguf",
          _with_meta([("general.architecture", STR, "svgattnhostile", None)]))
gguf_case("zero-alignment", "alignment", _with_meta([("general.alignment", U32, 0, None)]))
gguf_case("odd-alignment", "alignment", _with_meta([("general.alignment", U32, 7, None)]))
gguf_case("tensor-dims-overflow", "gguf", lambda: raw_gguf(
    llama_meta(), llama_tensors(), shapes={"token_embd.weight": (2**32, 2**32)}))
gguf_case("tensor-beyond-file", "gguf", lambda: raw_gguf(
    llama_meta(), llama_tensors(), shapes={"blk.1.ffn_down.weight": (32, 2**40)}))
gguf_case("no-tokenizer", "tokenizer", _llama(tokenizer=False))
gguf_case("embedding-length-2^31", "embedding_length", _llama(embedding_length=2**31))
gguf_case("block-count-4e9", "block_count", _llama(block_count=4_000_000_000))
gguf_case("head-count-zero", "head_count", _llama(**{"attention.head_count": 0}))
gguf_case("sparse-64gb-unknown-architecture", "GB exceed the model file limit",
          lambda: raw_gguf([("general.architecture", STR, "svgattnhostile", None)]), size=HUGE)
gguf_case("sparse-64gb-llama", "gguf", _llama(), size=HUGE)


@case("gguf-fifo-in-folder", "gguf")
def _(tmp: Path) -> list[str]:
    (tmp / "m").mkdir()
    os.mkfifo(tmp / "m" / "model.gguf")
    return model_args(tmp / "m", tmp)


@case("gguf-directory-named-gguf", "gguf")
def _(tmp: Path) -> list[str]:
    (tmp / "m" / "weights.gguf").mkdir(parents=True)
    return model_args(tmp / "m", tmp)


# --- config.json ------------------------------------------------------------------------------

def config_case(name: str, expect: str,
                change: str | bytes | Callable[[dict[str, Any]], Any], *,
                text: str = TEXT) -> None:
    """The tiny model with its config.json replaced (``change`` text or bytes) or edited."""
    def make(tmp: Path) -> list[str]:
        folder = tiny_model(tmp)
        path = folder / "config.json"
        if isinstance(change, str):
            path.write_text(change, encoding="utf-8")
        elif isinstance(change, bytes):
            path.write_bytes(change)
        else:
            config = json.loads(path.read_text())
            change(config)
            path.write_text(json.dumps(config), encoding="utf-8")
        return model_args(folder, tmp, text=text)
    CASES.append(Case(f"model-config-{name}", "cli", make, expect))


def _set(**values: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda config: config.update(values)


LONG_TEXT = " ".join(WORDS[i % 40] for i in range(200))  # 200 tokens: past 128 positions
config_case("not-json", "config.json", "{not json")
config_case("empty", "config.json", "")
config_case("array", "config.json", "[1, 2]")
config_case("string", "config.json", '"bert"')
config_case("deep-100000", "config.json", "[" * 100_000 + "]" * 100_000)
config_case("deep-object-100000", "config.json", '{"a":' * 100_000 + "1" + "}" * 100_000)
config_case("not-utf8", "config.json", b'{"model_type": "bert\xff"}')
config_case("duplicate-key", "config.json", json.dumps(
    {"model_type": "bert", "num_hidden_layers": 2})[:-1] + ', "num_hidden_layers": 2000000}')
config_case("unknown-model-type", "model_type", _set(model_type="svgattn_hostile"))
config_case("no-model-type", "model_type", lambda c: c.pop("model_type"))
config_case("model-type-number", "model_type", _set(model_type=7))
config_case("escape-model-type", "model_type", _set(model_type=f"bert{ESC}"))
config_case("escape-hidden-act", "hidden_act", _set(hidden_act=ESC))
config_case("vocab-size-10^12", "vocab_size", _set(vocab_size=10**12))
config_case("vocab-size-negative", "vocab_size", _set(vocab_size=-5))
config_case("hidden-size-string", "hidden_size", _set(hidden_size="32"))
config_case("heads-zero", "num_attention_heads", _set(num_attention_heads=0))
config_case("hidden-not-divisible", "num_attention_heads", _set(num_attention_heads=3))
config_case("max-positions-2-weights-disagree", "does not match the weights",
            _set(max_position_embeddings=2))
config_case("layers-2000000", "num_hidden_layers", _set(num_hidden_layers=2_000_000))
config_case("layers-zero", "num_hidden_layers", _set(num_hidden_layers=0))
config_case("intermediate-10^11", "intermediate_size", _set(intermediate_size=10**11))
config_case("layer-norm-eps-nan", "NaN", _set(layer_norm_eps=float("nan")))


@case("config-sparse-64gb", "config.json")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    os.truncate(folder / "config.json", HUGE)
    return model_args(folder, tmp)


@case("max-positions-2", "at most 2")
def _(tmp: Path) -> list[str]:
    return model_args(tiny_model(tmp, max_position_embeddings=2), tmp)


def _auto_map(tmp: Path) -> list[str]:
    """An unknown model_type whose auto_map names code in the folder; that code, if ever
    imported, writes ``tmp/MARKER``."""
    folder = tiny_model(tmp)
    (folder / "hostile.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(tmp / MARKER)!r}).write_text('svgattn imported hostile.py\\n')\n"
        "from transformers import PretrainedConfig, PreTrainedModel\n\n\n"
        "class HostileConfig(PretrainedConfig):\n"
        "    model_type = 'svgattn_hostile'\n\n\n"
        "class HostileModel(PreTrainedModel):\n"
        "    config_class = HostileConfig\n")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="svgattn_hostile", architectures=["HostileModel"],
                  auto_map={"AutoConfig": "hostile.HostileConfig",
                            "AutoModel": "hostile.HostileModel"})
    (folder / "config.json").write_text(json.dumps(config))
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["hostile.HostileConfig", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    return model_args(folder, tmp)


case("config-auto-map-code", "code")(_auto_map)
case("config-auto-map-code-answer-y", "code", stdin=b"y\n")(_auto_map)


@case("folder-name-escape-long-text", "at most 128")
def _(tmp: Path) -> list[str]:
    return model_args(tiny_model(tmp, f"m{ESC}"), tmp, text=LONG_TEXT)


@case("path-escape-missing", "model")
def _(tmp: Path) -> list[str]:
    return model_args(tmp / f"no{ESC}such", tmp)


@case("package-name-not-a-model", "model")
def _(tmp: Path) -> list[str]:
    return model_args("json", tmp)  # an installed package without config.json or .gguf


# --- safetensors, pickles ---------------------------------------------------------------------

def weights_case(name: str, expect: str, change: Callable[[Path], Any]) -> None:
    def make(tmp: Path) -> list[str]:
        folder = tiny_model(tmp)
        change(folder / "model.safetensors")
        return model_args(folder, tmp)
    CASES.append(Case(f"model-safetensors-{name}", "cli", make, expect))


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _header_size(size: int) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[:8] = struct.pack("<Q", size)
        path.write_bytes(bytes(data))
    return change


def _rename_tensors(prefix: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        from safetensors.numpy import load_file, save_file

        tensors = load_file(str(path))
        save_file({prefix + k: v for k, v in tensors.items()}, str(path),
                  metadata={"format": "pt"})
    return change


def _header_json(header: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        raw = header.encode()
        path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return change


def _to_dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


weights_case("truncated", "model.safetensors", _truncate)
weights_case("empty", "model.safetensors", lambda p: p.write_bytes(b""))
weights_case("header-2^62", "model.safetensors", _header_size(2**62))
weights_case("header-past-end", "model.safetensors", _header_size(1 << 20))
weights_case("header-not-json", "model.safetensors", _header_json("{not json" + " " * 7))
weights_case("header-offsets-past-end", "model.safetensors", _header_json(json.dumps(
    {"embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [10**6, 10**6],
                                           "data_offsets": [0, 4 * 10**12]}})))
weights_case("escape-tensor-names", "the weights lack", _rename_tensors(ESC))
weights_case("symlink-dev-zero", "model.safetensors", _to_dev_zero)
weights_case("sparse-64gb", "GB of weights exceed", lambda p: os.truncate(p, HUGE))


class _Exec:
    """Unpickled, runs ``code`` (a hostile pytorch_model.bin)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return exec, (self.code,)


@case("pickle-weights-only", "pytorch_model.bin")
def _(tmp: Path) -> list[str]:
    """A legitimate torch.save of the weights, but a pickle: refused, never unpickled."""
    import torch
    from safetensors.torch import load_file

    folder = tiny_model(tmp)
    torch.save(load_file(str(folder / "model.safetensors")), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return model_args(folder, tmp)


@case("pickle-runs-code", "pytorch_model.bin")
def _(tmp: Path) -> list[str]:
    import torch

    folder = tiny_model(tmp)
    code = f"open({str(tmp / MARKER)!r}, 'w').write('unpickled')"
    torch.save({"embeddings.word_embeddings.weight": _Exec(code)}, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return model_args(folder, tmp)


@case("no-weights", "model.safetensors")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (folder / "model.safetensors").unlink()
    return model_args(folder, tmp)


# --- tokenizer --------------------------------------------------------------------------------

@case("tokenizer-json-broken", "tokenizer")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (folder / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "Wor')
    return model_args(folder, tmp)


@case("tokenizer-json-deep", "tokenizer")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (folder / "tokenizer.json").write_text("[" * 100_000 + "]" * 100_000)
    return model_args(folder, tmp)


@case("tokenizer-none", "tokenizer")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt",
                 "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    return model_args(folder, tmp)


@case("tokenizer-config-not-json", "tokenizer_config.json")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (folder / "tokenizer_config.json").write_text("{nope")
    return model_args(folder, tmp)


@case("probe-tiny-vocabulary", "probe")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp, words=SMALL_WORDS)
    return ["model", str(folder), "--probe", "repeated", "-o", str(tmp / "out.svg")]


# --- FIFOs ------------------------------------------------------------------------------------

def fifo_case(file: str, expect: str) -> None:
    def make(tmp: Path) -> list[str]:
        folder = tiny_model(tmp)
        (folder / file).unlink()
        os.mkfifo(folder / file)
        return model_args(folder, tmp)
    CASES.append(Case(f"model-fifo-{file}", "cli", make, expect))


fifo_case("config.json", "config.json")
fifo_case("model.safetensors", "model.safetensors")
fifo_case("tokenizer.json", "tokenizer.json")
fifo_case("tokenizer_config.json", "tokenizer_config.json")


# --- outputs over the model's own files -------------------------------------------------------

@case("output-over-safetensors", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    return ["model", str(folder), "--text", TEXT, "-o", str(folder / "model.safetensors"),
            "--format", "svg"]


@case("output-over-vocab", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    return ["model", str(folder), "--text", TEXT, "-o", str(folder / "vocab.txt"),
            "--format", "svg"]


@case("output-link-to-safetensors", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (tmp / "fig.svg").symlink_to(folder / "model.safetensors")
    return ["model", str(folder), "--text", TEXT, "-o", str(tmp / "fig.svg")]


@case("output-over-gguf", "output")
def _(tmp: Path) -> list[str]:
    path = tiny_gguf(tmp)
    return ["model", str(path), "--text", TEXT, "-o", str(path), "--format", "svg"]


@case("output-over-gguf-in-folder", "output")
def _(tmp: Path) -> list[str]:
    (tmp / "g").mkdir()
    path = tiny_gguf(tmp / "g")
    return ["model", str(tmp / "g"), "--text", TEXT, "-o", str(path), "--format", "svg"]


@case("batch-force-output-over-vocab", "one of the inputs")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    return ["batch", "--model", str(folder), "--text", TEXT, "--heads", "0", "--jobs", "1",
            "--force", "--quiet", "--format", "svg", "-o", str(folder / "vocab.txt")]


def _spec(tmp: Path, model: str, **more: Any) -> Path:
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {"model": model, **more}.items())
    path = tmp / "spec.toml"
    path.write_text(body, encoding="utf-8")
    return path


@case("spec-output-over-safetensors", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    spec = _spec(tmp, folder.name, text=TEXT)
    return ["render", str(spec), "-o", str(folder / "model.safetensors"), "--format", "svg"]


@case("spec-output-over-vocab", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    spec = _spec(tmp, folder.name, text=TEXT)
    return ["render", str(spec), "-o", str(folder / "vocab.txt"), "--format", "svg"]


@case("spec-output-over-gguf", "output")
def _(tmp: Path) -> list[str]:
    path = tiny_gguf(tmp)
    spec = _spec(tmp, path.name, text=TEXT)
    return ["render", str(spec), "-o", str(path), "--format", "svg"]


@case("spec-output-over-text-file", "output")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    (tmp / "prompt.svg").write_text(TEXT)
    spec = _spec(tmp, folder.name, text_file="prompt.svg")
    return ["render", str(spec), "-o", str(tmp / "prompt.svg")]


# --- specs that name a model ------------------------------------------------------------------

@case("spec-model-from-cwd", "beside the spec")
def _(tmp: Path) -> list[str]:
    """The folder is in the current directory, not beside the spec: it must not be used
    (its name is an identifier, the form svgattn takes for a package name)."""
    tiny_model(tmp, "tinymodel")
    (tmp / "specs").mkdir()
    spec = _spec(tmp / "specs", "tinymodel", text=TEXT)
    os.chdir(tmp)
    return ["render", str(spec), "-o", str(tmp / "out.svg")]


@case("spec-model-from-cwd-hyphen", "beside the spec")
def _(tmp: Path) -> list[str]:
    tiny_model(tmp, "tiny-model")
    (tmp / "specs").mkdir()
    spec = _spec(tmp / "specs", "tiny-model", text=TEXT)
    os.chdir(tmp)
    return ["render", str(spec), "-o", str(tmp / "out.svg")]


@case("spec-text-file-15mb", "text_file")
def _(tmp: Path) -> list[str]:
    folder = tiny_model(tmp)
    line = (TEXT + " ") * 40 + "\n"
    (tmp / "prompt.txt").write_text(line * (15 * 2**20 // len(line)), encoding="utf-8")
    spec = _spec(tmp, folder.name, text_file="prompt.txt")
    return ["render", str(spec), "-o", str(tmp / "out.svg")]


@case("spec-model-escape-name", "model")
def _(tmp: Path) -> list[str]:
    spec = _spec(tmp, f"m{ESC}", text=TEXT)
    return ["render", str(spec), "-o", str(tmp / "out.svg")]


# --- controls: valid inputs that must draw ----------------------------------------------------

@control("tiny-model")
def _(tmp: Path) -> list[str]:
    return model_args(tiny_model(tmp), tmp)


@control("tiny-model-probe")
def _(tmp: Path) -> list[str]:
    return ["model", str(tiny_model(tmp)), "--probe", "repeated", "-o", str(tmp / "out.svg")]


@control("tiny-gguf")
def _(tmp: Path) -> list[str]:
    return model_args(tiny_gguf(tmp), tmp)


@control("raw-gguf")
def _(tmp: Path) -> list[str]:
    (tmp / "raw.gguf").write_bytes(raw_gguf(llama_meta(), llama_tensors()))
    return model_args(tmp / "raw.gguf", tmp)


@control("spec-model-beside-spec-from-another-cwd")
def _(tmp: Path) -> list[str]:
    """An identifier-named folder beside the spec, run from another directory."""
    (tmp / "specs").mkdir()
    tiny_model(tmp / "specs", "tinymodel")
    spec = _spec(tmp / "specs", "tinymodel", text=TEXT)
    (tmp / "elsewhere").mkdir()
    os.chdir(tmp / "elsewhere")
    return ["render", str(spec), "-o", str(tmp / "out.svg")]
