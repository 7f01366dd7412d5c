"""The bad-input catalogue: hostile or mistaken inputs, each with the field its error must
name. Used by tests/test_catalogue.py.

A case is ``Case(name, make, expect)``: ``make(tmp)`` writes whatever files the case
needs into ``tmp`` and returns the CLI arguments (``cli`` cases) or a thunk to call
(``api`` cases); ``expect`` is a fragment the one-line message must contain.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TOKENS = ["It", "I", "is", "am", "the"]
ESC = "\x1b]0;pwned\x07\x1b[2J"


def seed() -> np.ndarray:
    w = np.zeros((5, 5))
    w[:2, :2] = 1
    w[2:, 2:] = 1
    return w


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "cli" or "api"
    make: Callable[[Path], Any]
    expect: str


CASES: list[Case] = []


def cli(name: str, expect: str) -> Callable[[Callable[[Path], list[str]]], None]:
    def register(make: Callable[[Path], list[str]]) -> None:
        CASES.append(Case(name, "cli", make, expect))
    return register


def api(name: str, expect: str, thunk: Callable[[Path], Callable[[], Any]]) -> None:
    CASES.append(Case(name, "api", thunk, expect))


# --- spec files ---------------------------------------------------------------------------

def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"tokens": TOKENS, "weights": seed().tolist(),
                            "heads": [{"name": "Head 0", "tokens": ["It", "I"]},
                                      {"name": "Head 1", "tokens": ["is", "am", "the"]}]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


def head(**changes: Any) -> dict[str, Any]:
    return spec(heads=[{"name": "H", "tokens": ["It"], **changes}])


def json_case(name: str, data: Any, expect: str, *extra: str) -> None:
    def make(tmp: Path) -> list[str]:
        path = tmp / "spec.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return ["render", str(path), *extra]
    CASES.append(Case(f"json-{name}", "cli", make, expect))


def toml_case(name: str, text: str | bytes, expect: str, *extra: str) -> None:
    def make(tmp: Path) -> list[str]:
        path = tmp / "spec.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["render", str(path), *extra]
    CASES.append(Case(f"toml-{name}", "cli", make, expect))


W = seed().tolist()
BAD_WEIGHTS: dict[str, tuple[Any, str]] = {
    "string-numbers": ([["1", 0, 0, 0, 0], *W[1:]], "weights"),
    "string-word": ([["abc"] * 5, *W[1:]], "weights"),
    "booleans-mixed": ([[True, 0.5, 0, 0, 0], *W[1:]], "weights[0][0]"),
    "booleans-all": ([[True] * 5] * 5, "weights[0][0]"),
    "null": ([[None] * 5, *W[1:]], "weights"),
    "ragged": ([[1, 0], *W[1:]], "weights"),
    "one-dim": ([1, 0, 0, 0, 0], "weights"),
    "three-dim": ([W], "weights"),
    "wrong-rows": (W[:3], "weights"),
    "wrong-cols": ([r[:3] for r in W], "weights"),
    "negative": ([[-1, 0, 0, 0, 0], *W[1:]], "weights[0][0]"),
    "object-cell": ([[{"a": 1}, 0, 0, 0, 0], *W[1:]], "weights"),
    "list-cell": ([[[1], 0, 0, 0, 0], *W[1:]], "weights"),
    "empty": ([], "weights"),
    "empty-rows": ([[]] * 5, "weights"),
    "scalar": (1.0, "weights"),
    "string": ("[[1,0],[0,1]]", "weights"),
    "huge-float": ([[1e+308 * 10, 0, 0, 0, 0], *W[1:]], "weights[0][0]"),
}
for _name, (_weights, _field) in BAD_WEIGHTS.items():
    json_case(f"weights-{_name}", spec(weights=_weights), _field)

json_case("weights-nan", json.dumps(spec()).replace('"weights": [[1.0', '"weights": [[NaN'),
          "weights[0][0]")
json_case("weights-infinity", json.dumps(spec()).replace('"weights": [[1.0',
                                                          '"weights": [[Infinity'), "weights[0][0]")
json_case("weights-minus-infinity", json.dumps(spec()).replace('"weights": [[1.0',
                                                                '"weights": [[-Infinity'),
          "weights[0][0]")
json_case("weights-5000-digits", json.dumps(spec()).replace('"weights": [[1.0',
                                                             '"weights": [[' + "9" * 5000),
          "weights[0][0]")
json_case("weights-1e400", json.dumps(spec()).replace('"weights": [[1.0', '"weights": [[1e400'),
          "weights[0][0]")

BAD_TOKENS: dict[str, tuple[Any, str]] = {
    "missing": (_DROP, "tokens"),
    "empty": ([], "tokens"),
    "string": ("It I is am the", "tokens"),
    "number-element": (["It", 1, "is", "am", "the"], "tokens[1]"),
    "null-element": (["It", None, "is", "am", "the"], "tokens[1]"),
    "nested": ([["It"], "I", "is", "am", "the"], "tokens[0]"),
    "object": ({"a": "It"}, "tokens"),
    "too-long": (["x" * 1001, "I", "is", "am", "the"], "token_chars"),
    "number": (5, "tokens"),
}
for _name, (_tokens, _field) in BAD_TOKENS.items():
    json_case(f"tokens-{_name}", spec(tokens=_tokens), _field)

json_case("tokens-too-many", spec(tokens=[f"t{i}" for i in range(32769)],
                                  weights=[[0]], heads=[]), "limit of 32768")
json_case("tokens-and-query", spec(query_tokens=TOKENS, key_tokens=TOKENS), "tokens")
json_case("query-without-key", spec(tokens=_DROP, query_tokens=TOKENS), "tokens")
json_case("cross-shape", spec(tokens=_DROP, query_tokens=TOKENS[:2], key_tokens=TOKENS),
          "weights")
json_case("weights-missing", spec(weights=_DROP), "weights")

BAD_HEADS: dict[str, tuple[Any, str]] = {
    "object": ({"name": "H", "tokens": ["It"]}, "heads"),
    "string": ("Head 0", "heads"),
    "number": (3, "heads"),
    "item-number": ([3], "heads[0]"),
    "item-list": ([["It"]], "heads[0]"),
    "nameless": ([{"tokens": ["It"]}], "heads[0].name"),
    "empty-name": ([{"name": "  ", "tokens": ["It"]}], "heads[0].name"),
    "name-number": ([{"name": 7, "tokens": ["It"]}], "heads[0].name"),
    "name-too-long": ([{"name": "h" * 1001}], "heads[0].name"),
    "duplicate-names": ([{"name": "H"}, {"name": "H"}], "heads[1].name"),
    "unknown-key": ([{"name": "H", "tokenz": ["It"]}], "heads[0]"),
    "escape-key": ([{"name": "H", ESC: 1}], "heads[0]"),
}
for _name, (_heads, _field) in BAD_HEADS.items():
    json_case(f"heads-{_name}", spec(heads=_heads), _field)

BAD_HEAD_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "tokens-string": ({"tokens": "It"}, "heads[0].tokens"),
    "tokens-object": ({"tokens": {"It": 1}}, "heads[0].tokens"),
    "unknown-token": ({"tokens": ["she"]}, "heads[0].tokens[0]"),
    "escape-token": ({"tokens": [ESC]}, "heads[0].tokens[0]"),
    "index-out-of-range": ({"tokens": [9]}, "heads[0].tokens[0]"),
    "negative-index": ({"tokens": [-1]}, "heads[0].tokens[0]"),
    "float-index": ({"tokens": [1.5]}, "heads[0].tokens[0]"),
    "bool-index": ({"tokens": [True]}, "heads[0].tokens[0]"),
    "null-token": ({"tokens": [None]}, "heads[0].tokens[0]"),
    "tokens-and-weights": ({"weights": W}, "heads[0]"),
    "color-bad": ({"color": "blurple"}, "heads[0].color"),
    "color-injection": ({"color": "red;}</style><script>alert(1)</script>"}, "heads[0].color"),
    "color-url": ({"color": "url(http://127.0.0.1:9/x)"}, "heads[0].color"),
    "color-number": ({"color": 255}, "heads[0].color"),
}
for _name, (_fields, _field) in BAD_HEAD_FIELDS.items():
    json_case(f"head-{_name}", head(**_fields), _field)

for _name, (_weights, _field) in {"shape": ([[1, 0], [0, 1]], "heads[0].weights"),
                                  "negative": ([[-1] * 5] * 5, "heads[0].weights"),
                                  "strings": ([["a"] * 5] * 5, "heads[0].weights"),
                                  "booleans": ([[False] * 5] * 5, "heads[0].weights")}.items():
    json_case(f"head-weights-{_name}", spec(heads=[{"name": "H", "weights": _weights}]), _field)

json_case("ambiguous-token", spec(tokens=["the", "cat", "the", "a", "b"],
                                  heads=[{"name": "H", "tokens": ["the"]}]), "occurs 2 times")

for _name, _vmax in {"string": "high", "negative": -1, "zero": 0, "bool": True,
                     "subnormal": 1e-320, "list": [1]}.items():
    json_case(f"vmax-{_name}", spec(vmax=_vmax), "vmax")
json_case("vmax-infinity", json.dumps(spec()).replace('"tokens"', '"vmax": Infinity, "tokens"'),
          "vmax")
json_case("vmax-nan", json.dumps(spec()).replace('"tokens"', '"vmax": NaN, "tokens"'), "vmax")
json_case("vmax-1e400", json.dumps(spec()).replace('"tokens"', '"vmax": 1e400, "tokens"'), "vmax")

for _name, _title in {"number": 5, "list": ["a"], "too-long": "t" * 1001}.items():
    json_case(f"title-{_name}", spec(title=_title), "title")
for _name, _width in {"word": "wide", "negative": "-3in", "zero": 0, "tiny": "0.1in",
                      "huge": "1000in", "bool": True, "inf": "1e400in", "list": [6]}.items():
    json_case(f"width-{_name}", spec(width=_width), "width")

json_case("theme-absolute", spec(theme="/etc/passwd.toml"), "theme")
json_case("theme-parent", spec(theme="../secret/config.toml"), "theme")
json_case("theme-proc", spec(theme="/proc/self/environ"), "theme")
json_case("theme-missing", spec(theme="mine.toml"), "theme")
json_case("theme-unknown-builtin", spec(theme="ligth"), "ligth")
json_case("theme-number", spec(theme=3), "theme")
json_case("theme-empty", spec(theme=""), "theme")
json_case("groups-string", spec(groups="yes"), "groups")
json_case("unknown-key", spec(titel="x"), "titel")
json_case("escape-key", spec(**{ESC: 1}), "unknown spec key")
json_case("bidi-key", spec(**{"\u202etitle": 1}), "unknown spec key")
json_case("duplicate-key", '{"tokens": ["a"], "tokens": ["b"], "weights": [[1]]}', "twice")
json_case("duplicate-head-key", '{"tokens": ["a"], "weights": [[1]], "heads": [{"name": "H", '
          '"name": "G"}]}', "twice")
json_case("top-level-array", [1, 2], "top level")
json_case("top-level-string", '"spec"', "top level")
json_case("top-level-null", "null", "top level")
json_case("deep-nesting", "[" * 100000 + "]" * 100000, "nested")
json_case("nesting-over-limit", {"tokens": ["a"], "weights": [[1]],
                                 "heads": [{"name": "H", "tokens": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
                                     [[["a"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}, "nested")
json_case("syntax", '{"tokens": [', "not valid JSON")
json_case("empty-file", "", "not valid JSON")
json_case("trailing-comma", '{"tokens": ["a"],}', "not valid JSON")
json_case("single-quotes", "{'tokens': ['a']}", "not valid JSON")
json_case("nul-byte", '{"tokens": ["a\x00"], "weights": [[1]]}', "NUL")
json_case("too-large", spec(), "file limit", "--limit", "spec_mb=0.0001")
json_case("tokens-over-limit", spec(), "limit of 3", "--limit", "tokens=3")
json_case("token-chars-over-limit", spec(), "token_chars", "--limit", "token_chars=1")

# TOML
TOML_OK = ('tokens = ["It", "I", "is", "am", "the"]\n'
           "weights = [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], "
           "[0, 0, 1, 1, 1]]\n")
TOML_CASES: dict[str, tuple[str | bytes, str]] = {
    "syntax": ('tokens = ["a", "b"\n', "not valid TOML"),
    "nan": (TOML_OK.replace("[[1, 1", "[[nan, 1"), "weights[0][0]"),
    "inf": (TOML_OK.replace("[[1, 1", "[[inf, 1"), "weights[0][0]"),
    "minus-inf": (TOML_OK.replace("[[1, 1", "[[-inf, 1"), "weights[0][0]"),
    "bool": (TOML_OK.replace("[[1, 1", "[[true, 1"), "weights[0][0]"),
    "string": (TOML_OK.replace("[[1, 1", '[["1", 1'), "weights"),
    "date": (TOML_OK.replace("[[1, 1", "[[1979-05-27, 1"), "weights"),
    "huge-int": (TOML_OK.replace("[[1, 1", "[[" + "9" * 5000 + ", 1"), "TOML"),
    "heads-table": (TOML_OK + '[heads]\nname = "H"\n', "heads"),
    "heads-string": (TOML_OK + 'heads = "H"\n', "heads"),
    "head-without-name": (TOML_OK + '[[heads]]\ntokens = ["It"]\n', "heads[0].name"),
    "head-bad-token": (TOML_OK + '[[heads]]\nname = "H"\ntokens = ["she"]\n',
                       "heads[0].tokens[0]"),
    "head-escape-name": (TOML_OK + '[[heads]]\nname = "\\u001b]0;x\\u0007"\ntokens = [9]\n',
                         "heads[0].tokens[0]"),
    "duplicate-key": (TOML_OK + 'title = "a"\ntitle = "b"\n', "not valid TOML"),
    "unknown-key": (TOML_OK + "colour = 3\n", "colour"),
    "deep-dotted": (TOML_OK + "x" + ".x" * 5000 + " = 1\n", "spec"),
    "deep-arrays": (TOML_OK.replace("weights =", "w2 = " + "[" * 3000 + "]" * 3000 + "\nweights ="),
                    "nested"),
    "empty": ("", "tokens"),
    "not-utf8": (b"tokens = [\"\xff\xfe\"]\n", "UTF-8"),
    "bom-then-bad-key": (b"\xef\xbb\xbf" + b"tokenz = []\n", "tokenz"),
    "theme-table": (TOML_OK + "[theme]\nname = 'x'\n", "theme"),
    "vmax-inf": (TOML_OK + "vmax = inf\n", "vmax"),
    "vmax-nan": (TOML_OK + "vmax = nan\n", "vmax"),
    "vmax-negative": (TOML_OK + "vmax = -1\n", "vmax"),
    "width-negative-inf": (TOML_OK + "width = -inf\n", "width"),
    "title-table": (TOML_OK + "[title]\na = 1\n", "title"),
    "tokens-inline-table": ('tokens = {a = 1}\nweights = [[1]]\n', "tokens"),
}
for _name, (_text, _expect) in TOML_CASES.items():
    toml_case(_name, _text, _expect)


@cli("spec-is-directory", "is a directory")
def _(tmp: Path) -> list[str]:
    (tmp / "spec.json").mkdir()
    return ["render", str(tmp / "spec.json")]


@cli("spec-is-fifo", "not a regular file")
def _(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "spec.json")
    return ["render", str(tmp / "spec.json")]


@cli("spec-missing", "no such")
def _(tmp: Path) -> list[str]:
    return ["render", str(tmp / "nope.toml")]


@cli("spec-unknown-suffix", "format")
def _(tmp: Path) -> list[str]:
    (tmp / "spec.yaml").write_text("tokens: [a]\n")
    return ["render", str(tmp / "spec.yaml")]


@cli("spec-escape-file-name", "no such")
def _(tmp: Path) -> list[str]:
    return ["render", str(tmp / f"{ESC}.toml")]


@cli("spec-theme-symlink-outside", "outside")
def _(tmp: Path) -> list[str]:
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "t.toml").write_text('extends = "light"\n')
    inner = tmp / "inner"
    inner.mkdir()
    (inner / "t.toml").symlink_to(outside / "t.toml")
    (inner / "spec.json").write_text(json.dumps(spec(theme="t.toml")))
    return ["render", str(inner / "spec.json")]


@cli("spec-theme-from-cwd-not-used", "does not exist beside the spec")
def _(tmp: Path) -> list[str]:
    (tmp / "specs").mkdir()
    (tmp / "mine.toml").write_text('extends = "light"\n')  # in the cwd, not beside the spec
    (tmp / "specs" / "spec.json").write_text(json.dumps(spec(theme="mine.toml")))
    os.chdir(tmp)
    return ["render", str(tmp / "specs" / "spec.json")]


@cli("spec-theme-bad-value-not-echoed", "is not a colour")
def _(tmp: Path) -> list[str]:
    (tmp / "t.toml").write_text('[colors]\ntext = "AKIA-SECRET-VALUE"\n')
    (tmp / "spec.json").write_text(json.dumps(spec(theme="t.toml")))
    return ["render", str(tmp / "spec.json")]


# --- numpy files ----------------------------------------------------------------------

def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def npz_bytes(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            data = value if isinstance(value, bytes) else npy_bytes(np.asarray(value))
            zf.writestr(f"{key}.npy", data)
    return buf.getvalue()


def file_case(name: str, filename: str, content: bytes | Callable[[], bytes], expect: str,
              *extra: str) -> None:
    def make(tmp: Path) -> list[str]:
        path = tmp / filename
        path.write_bytes(content() if callable(content) else content)
        return ["render", str(path), *extra]
    CASES.append(Case(f"numpy-{name}", "cli", make, expect))


GOOD = np.tile(seed()[None, None] / 2, (2, 3, 1, 1))
GOOD_NPZ = npz_bytes(attentions=GOOD, tokens=np.array(TOKENS))


def _corrupt(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0xFF
    return bytes(out)


file_case("npz-empty", "a.npz", b"", "not a readable .npz")
file_case("npz-truncated", "a.npz", GOOD_NPZ[: len(GOOD_NPZ) // 2], "not a readable .npz")
file_case("npz-bad-crc", "a.npz", lambda: _crc_broken(), "Bad CRC")
file_case("npz-bad-deflate", "a.npz", lambda: _corrupt(GOOD_NPZ, 60), ".npz")
file_case("npz-text-file", "a.npz", b"tokens,weights\nIt,1\n", "not a readable .npz")
file_case("npy-text-file", "a.npy", b"tokens,weights\nIt,1\n", "not a .npy array")
file_case("npy-empty", "a.npy", b"", "not a .npy array")
file_case("npy-huge-shape", "a.npy", npy_header((100000, 100000, 100000)), "limit")
file_case("npy-huge-tokens", "a.npy", npy_header((1, 1, 50000, 50000), "<f4"), "limit")
file_case("npy-truncated", "a.npy", npy_header((5, 5)) + b"\x00" * 17, "truncated")
file_case("npy-damaged-header", "a.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <<<<<\n",
          "header")
file_case("npy-pickle", "a.npy", lambda: _pickled(), "pickle")
file_case("npy-complex", "a.npy", npy_bytes(seed().astype(complex)), "complex")
file_case("npy-bool", "a.npy", npy_bytes(seed().astype(bool)), "attentions")
file_case("npy-strings", "a.npy", npy_bytes(seed().astype(str)), "attentions")
file_case("npy-structured", "a.npy", npy_bytes(np.zeros(5, dtype=[("a", "<f8")])), "attentions")
file_case("npy-1d", "a.npy", npy_bytes(np.ones(5)), "axes")
file_case("npy-6d", "a.npy", npy_bytes(np.ones((1, 1, 1, 1, 2, 2))), "axes")
file_case("npy-nan", "a.npy", npy_bytes(np.where(seed() > 0, np.nan, 0)), "finite")
file_case("npy-negative", "a.npy", npy_bytes(-seed()), ">= 0")
file_case("npy-tokens-mismatch", "a.npy", npy_bytes(seed()), "tokens", "--tokens", "a,b")
file_case("npy-tokens-empty", "a.npy", npy_bytes(seed()), "--tokens", "--tokens", " ")
file_case("npy-unknown-version", "a.npy", b"\x93NUMPY\x09\x00" + b"\x00" * 40, "header")
file_case("npz-missing-attentions", "a.npz", npz_bytes(tokens=np.array(TOKENS)), "attentions")
file_case("npz-tokens-one-string", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array("It I is am the")), "shape")
file_case("npz-tokens-5x1", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array(TOKENS)[:, None]), "shape")
file_case("npz-tokens-count", "a.npz", npz_bytes(attentions=GOOD, tokens=np.array(TOKENS[:3])),
          "tokens")
file_case("npz-tokens-numbers", "a.npz", npz_bytes(attentions=GOOD, tokens=np.arange(5)),
          "tokens")
file_case("npz-tokens-not-utf8", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array([b"\xff", b"I", b"is", b"am", b"the"])),
          "UTF-8")
file_case("npz-head-names-count", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array(TOKENS), head_names=np.array(["a"])),
          "head_names")
file_case("npz-layer-names-count", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array(TOKENS), layer_names=np.array(["a"] * 7)),
          "layer_names")
file_case("npz-query-without-key", "a.npz",
          npz_bytes(attentions=GOOD, query_tokens=np.array(TOKENS)), "key_tokens")
file_case("npz-tokens-and-query", "a.npz",
          npz_bytes(attentions=GOOD, tokens=np.array(TOKENS), query_tokens=np.array(TOKENS),
                    key_tokens=np.array(TOKENS)), "not both")
file_case("npz-complex", "a.npz", npz_bytes(attentions=GOOD.astype(complex),
                                            tokens=np.array(TOKENS)), "complex")
file_case("npz-huge-header", "a.npz",
          npz_bytes(attentions=npy_header((1000, 1000, 1000, 1000)), tokens=np.array(TOKENS)),
          "the file holds")
file_case("npz-zip-bomb", "a.npz", lambda: _zip_bomb(), "inflates", "--limit", "file_mb=256")
file_case("npz-nan-row", "a.npz",
          npz_bytes(attentions=np.where(GOOD > 0, np.nan, 0.0), tokens=np.array(TOKENS)),
          "finite")
file_case("npz-batch-without-index", "a.npz",
          npz_bytes(attentions=np.stack([GOOD, GOOD], axis=1), tokens=np.array(TOKENS)),
          "batch_index")
file_case("npz-batch-index-range", "a.npz",
          npz_bytes(attentions=np.stack([GOOD, GOOD], axis=1), tokens=np.array(TOKENS)),
          "batch_index", "--batch-index", "7")
file_case("npz-escape-array-name-and-missing", "a.npz",
          npz_bytes(**{ESC: np.ones(2), "tokens": np.array(TOKENS)}), "attentions")
file_case("npz-too-large", "a.npz", GOOD_NPZ, "file limit", "--limit", "file_mb=0.00001")
file_case("npz-cells-limit", "a.npz", GOOD_NPZ, "limit", "--limit", "cells=10")
file_case("npz-tokens-limit", "a.npz", GOOD_NPZ, "limit of 3", "--limit", "tokens=3")
file_case("npy-unknown-suffix", "a.npx", npy_bytes(seed()), "unknown input format")


@cli("npz-is-directory", "is a directory")
def _(tmp: Path) -> list[str]:
    (tmp / "a.npz").mkdir()
    return ["render", str(tmp / "a.npz")]


def _crc_broken() -> bytes:
    """A stored (uncompressed) .npz with one data byte flipped: its CRC no longer matches."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("attentions.npy", npy_bytes(GOOD))
        zf.writestr("tokens.npy", npy_bytes(np.array(TOKENS)))
    data = bytearray(buf.getvalue())
    data[200] ^= 0x01  # inside the attentions data
    return bytes(data)


def _pickled() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([object(), 1], dtype=object), allow_pickle=True)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("attentions.npy", npy_header((16384, 16384)) + b"\x00" * (300 * 2**20))
    return buf.getvalue()


# --- themes -----------------------------------------------------------------------------

def theme_case(name: str, text: str | bytes, expect: str) -> None:
    """A bad theme, drawn by the demo (the flow view); a view's table is validated when
    that view draws, or when the theme is checked whole (``svgattn themes --check``)."""
    def make(tmp: Path) -> list[str]:
        path = tmp / "theme.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        table = text.split("]", 1)[0].lstrip("[") if isinstance(text, str) and \
            text.startswith("[") else ""
        if table in ("lines", "grid") or text == THEMES["text-line-height-word"][0]:
            return ["themes", "--check", str(path)]
        return ["demo", "-o", str(tmp / "out"), "--theme", str(path)]
    CASES.append(Case(f"theme-{name}", "cli", make, expect))


THEMES: dict[str, tuple[str | bytes, str]] = {
    "unknown-key": ("[colors]\nbackgrund = '#fff'\n", "did you mean"),
    "escape-key": (f'"{ESC}" = 1\n'.replace("\x1b", "\\u001b").replace("\x07", "\\u0007"),
                   "unknown theme key"),
    "bad-colour": ("[colors]\ntext = 'AKIA-SECRET'\n", "is not a colour"),
    "colour-injection": ("[colors]\ntext = 'red;}</style><script>alert(1)</script>'\n",
                         "is not a colour"),
    "colour-url": ("[colors]\nbackground = 'url(http://127.0.0.1:9/x)'\n", "is not a colour"),
    "colour-var": ("[colors]\ntext = 'var(--x)'\n", "is not a colour"),
    "family-injection": ("[font]\nfamily = 'x; } text { fill: red'\n", "font family"),
    "family-url": ("[font]\nfamily = 'url(http://127.0.0.1:9/f.woff)'\n", "font family"),
    "family-not-installed": ("[font]\nfamily = 'No Such Font Family'\n", "not installed"),
    "family-empty-list": ("[font]\nfamily = []\n", "font family"),
    "size-word": ("[font]\nsize = 'big'\n", "is not a length"),
    "size-huge": ("[font]\nsize = 500\n", "maximum"),
    "size-negative": ("[font]\nsize = -4\n", "minimum"),
    "size-neg-inf": ("[font]\nsize = -inf\n", "finite"),
    "size-nan": ("[font]\nsize = nan\n", "finite"),
    "width-zero": ("[figure]\nwidth = 0\n", "minimum"),
    "width-negative": ("[figure]\nwidth = -5\n", "minimum"),
    "width-neg-inf": ("[figure]\nwidth = -inf\n", "finite"),
    "width-1e308": ("[figure]\nwidth = 1e308\n", "maximum"),
    "width-1e-300": ("[figure]\nwidth = 1e-300\n", "minimum"),
    "width-string": ("[figure]\nwidth = 'wide'\n", "is neither a length nor a venue"),
    "colormap-injection": ("[colors]\ncolormap = 'x;} text{fill:red'\n", "colour-map name"),
    "colormap-url": ("[colors]\ncolormap = 'url(http://127.0.0.1:9/x)'\n", "colour-map name"),
    "diverging-one": ("[colors]\ndiverging = ['#ffffff']\n", "at least 2"),
    "show-title-string": ("[figure]\nshow_title = 'no'\n", "true or false"),
    "lines-opacity-2": ("[lines]\nopacity = 2\n", "must lie in"),
    "grid-gap-negative": ("[grid]\ngap = '-1em'\n", "minimum"),
    "text-line-height-word": ("[text]\nline_height = 'tall'\n", "is not a length"),
    "width-bool": ("[figure]\nwidth = true\n", "is not a length"),
    "margin-negative": ("[figure]\nmargin = '-1em'\n", "minimum"),
    "opacity-3": ("[flow]\nconnector_opacity = 3\n", "must lie in"),
    "opacity-string": ("[flow]\nconnector_opacity = 'half'\n", "finite number"),
    "bool-string": ("[legend]\nshow = 'yes'\n", "true or false"),
    "choice": ("[figure]\ntitle_align = 'justify'\n", "is not one of"),
    "palette-empty": ("[colors]\nheads = []\n", "at least 1"),
    "palette-string": ("[colors]\nheads = '#ffffff'\n", "list"),
    "colormap-one": ("[colors]\ncolormap = ['#ffffff']\n", "at least 2"),
    "max-chars-negative": ("[text]\nmax_label_chars = -1\n", "must lie in"),
    "max-chars-huge": ("[text]\nmax_label_chars = 1e9\n", "must lie in"),
    "legend-title-long": ("[legend]\ntitle = '" + "x" * 300 + "'\n", "200 characters"),
    "name-number": ("name = 3\n", "string"),
    "extends-missing": ("extends = 'nope.toml'\n", "no such theme"),
    "extends-absolute": ("extends = '/etc/passwd.toml'\n", "relative path"),
    "extends-parent": ("extends = '../x.toml'\n", "relative path"),
    "extends-proc": ("extends = '/proc/self/environ'\n", "relative path"),
    "extends-number": ("extends = 3\n", "extends"),
    "extends-unknown-builtin": ("extends = 'drak'\n", "did you mean 'dark'"),
    "extends-self": ("extends = 'theme.toml'\n", "cycle"),
    "syntax": ("[colors\n", "not valid TOML"),
    "not-utf8": (b"name = '\xff'\n", "UTF-8"),
    "bom-then-unknown": (b"\xef\xbb\xbfnope = 1\n", "unknown theme key"),
    "deep-dotted": ("x" + ".x" * 5000 + " = 1\n", "unknown theme key"),
    "huge-int": ("[font]\nsize = " + "9" * 5000 + "\n", "theme"),
    "nul": (b"name = 'a'\x00\n", "NUL"),
}
for _name, (_text, _expect) in THEMES.items():
    theme_case(_name, _text, _expect)


@cli("theme-extends-chain-too-long", "longer than")
def _(tmp: Path) -> list[str]:
    for i in range(40):
        (tmp / f"t{i}.toml").write_text(f'extends = "t{i + 1}.toml"\n')
    (tmp / "t40.toml").write_text('extends = "light"\n')
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "t0.toml")]


@cli("theme-extends-cycle", "cycle")
def _(tmp: Path) -> list[str]:
    (tmp / "a.toml").write_text('extends = "b.toml"\n')
    (tmp / "b.toml").write_text('extends = "a.toml"\n')
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "a.toml")]


@cli("theme-extends-from-theme-folder", "no such theme")
def _(tmp: Path) -> list[str]:
    (tmp / "themes").mkdir()
    (tmp / "parent.toml").write_text('extends = "light"\n')  # in the cwd, not the theme's folder
    (tmp / "themes" / "child.toml").write_text('extends = "parent.toml"\n')
    os.chdir(tmp)
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "themes" / "child.toml")]


@cli("theme-is-directory", "is a directory")
def _(tmp: Path) -> list[str]:
    (tmp / "t.toml").mkdir()
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "t.toml")]


@cli("theme-is-fifo", "not a regular file")
def _(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "t.toml")
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "t.toml")]


@cli("theme-missing", "no such theme")
def _(tmp: Path) -> list[str]:
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "t.toml")]


@cli("theme-unknown-builtin", "did you mean 'paper'")
def _(tmp: Path) -> list[str]:
    return ["demo", "-o", str(tmp / "out"), "--theme", "papr"]


@cli("theme-escape-name", "no built-in theme")
def _(tmp: Path) -> list[str]:
    return ["demo", "-o", str(tmp / "out"), "--theme", ESC]


# --- command-line flags ---------------------------------------------------------------

SEED_SPEC = Path(__file__).resolve().parent.parent / "gallery" / "specs" / "seed.toml"


def flag_case(name: str, flags: list[str], expect: str, *, npz: bool = False,
              output: str = "out.svg") -> None:
    def make(tmp: Path) -> list[str]:
        source = str(SEED_SPEC)
        if npz:
            (tmp / "a.npz").write_bytes(GOOD_NPZ)
            source = str(tmp / "a.npz")
        return ["render", source, "-o", os.path.join(str(tmp), output), *flags]
    CASES.append(Case(f"flag-{name}", "cli", make, expect))


FLAGS: dict[str, tuple[list[str], str, bool]] = {
    "dpi-zero": (["--dpi", "0"], "--dpi", False),
    "dpi-negative": (["--dpi", "-5"], "--dpi", False),
    "dpi-nan": (["--dpi", "nan"], "--dpi", False),
    "dpi-inf": (["--dpi", "inf"], "--dpi", False),
    "dpi-huge": (["--dpi", "1e9"], "--dpi", False),
    "dpi-word": (["--dpi", "high"], "--dpi", False),
    "dpi-low": (["--dpi", "5"], "--dpi", False),
    "width-word": (["--width", "wide"], "width", False),
    "width-negative": (["--width", "-3in"], "width", False),
    "width-zero": (["--width", "0"], "width", False),
    "width-inf": (["--width", "1e400in"], "width", False),
    "width-huge": (["--width", "200in"], "width", False),
    "width-em": (["--width", "30em"], "em", False),
    "format-unknown": (["--format", "tiff"], "--format", False),
    "format-mismatch": (["--format", "pdf"], "does not match", False),
    "text-mode": (["--text-mode", "outline"], "--text", False),
    "theme-unknown": (["--theme", "nosuch"], "no built-in theme", False),
    "layer-with-spec": (["--layer", "1"], "layer: applies to real attention", False),
    "heads-with-spec": (["--heads", "1"], "heads: selects heads of real attention", False),
    "merge-with-spec": (["--merge-words"], "merge_words: applies to real attention", False),
    "sinks-with-spec": (["--keep-sinks"], "keep_sinks: applies to real attention", False),
    "focus-with-flow": (["--focus", "It"],
                        "focus: an option of the image, lines, neuron and text views", False),
    "view-unknown": (["--view", "pie"], "view: 'pie' is not a view;", False),
    "matrices-with-matrix": (["--view", "matrix", "--matrices", "heads"],
                             "matrices: an option of the flow view", False),
    "threshold-range": (["--view", "lines", "--threshold", "2"], "threshold", False),
    "colormap-unknown": (["--colormap", "nosuchmap"], "colormap", True),
    "colormap-injection": (["--colormap", "red;}</style>"], "colormap", True),
    "norm-unknown": (["--norm", "sqrt"], "--norm", True),
    "gamma-zero": (["--norm", "power", "--gamma", "0"], "gamma", True),
    "log-vmin-zero": (["--norm", "log", "--vmin", "0"], "log", True),
    "vmin-above-vmax": (["--vmin", "0.9", "--vmax", "0.1"], "vmin", True),
    "rollout-cross": (["--combine", "rollout", "--minus-layer", "0", "--view", "lines"],
                      "combine: the lines view does not read it", True),
    "difference-lines": (["--minus-layer", "0", "--view", "lines"],
                         "lines view cannot draw a difference", True),
    "focus-unknown": (["--view", "text", "--focus", "dog"], "focus", True),
    "focus-range": (["--view", "lines", "--focus", "99"], "focus", True),
    "minus-head-range": (["--view", "matrix", "--minus-head", "7"], "minus_head", True),
    "minus-both": (["--view", "matrix", "--minus-head", "0", "--minus-layer", "0"],
                   "not both", True),
    "minus-with-text-view": (["--view", "text", "--minus-layer", "0"], "difference", True),
    "layers-range": (["--view", "grid", "--layers", "0-9"], "layers", True),
    "layers-backwards": (["--view", "grid", "--layers", "1-0"], "backwards", True),
    "width-venue-typo": (["--width", "neurip"], "did you mean 'neurips'", False),
    "unknown-flag": (["--colour", "red"], "--colour: unknown option; did you mean", False),
    "limit-bogus": (["--limit", "bogus"], "--limit", False),
    "limit-negative": (["--limit", "tokens=-1"], "--limit", False),
    "limit-unknown": (["--limit", "nope=3"], "--limit", False),
    "limit-nan": (["--limit", "tokens=nan"], "--limit", False),
    "npz-vmax-negative": (["--vmax", "-1"], "--vmax", True),
    "npz-vmax-zero": (["--vmax", "0"], "--vmax", True),
    "npz-vmax-inf": (["--vmax", "inf"], "--vmax", True),
    "npz-vmax-nan": (["--vmax", "nan"], "--vmax", True),
    "npz-vmax-subnormal": (["--vmax", "1e-320"], "--vmax", True),
    "npz-links-inf": (["--links", "threshold:inf"], "links", True),
    "npz-links-nan": (["--links", "threshold:nan"], "links", True),
    "npz-links-zero": (["--links", "threshold:0"], "links", True),
    "npz-links-negative": (["--links", "threshold:-1"], "links", True),
    "npz-links-top-zero": (["--links", "top:0"], "links", True),
    "npz-links-top-word": (["--links", "top:many"], "links", True),
    "npz-links-bogus": (["--links", "closest"], "links", True),
    "npz-links-escape": (["--links", ESC], "links", True),
    "npz-combine": (["--combine", "median"], "--combine", True),
    "npz-layer-range": (["--layer", "99"], "layer", True),
    "npz-layer-negative-range": (["--layer", "-99"], "layer", True),
    "npz-layer-name": (["--layer", "L9"], "layer", True),
    "npz-heads-range": (["--heads", "99"], "heads", True),
    "npz-heads-empty": (["--heads", ","], "heads", True),
    "npz-heads-duplicate": (["--heads", "0,0"], "twice", True),
    "npz-heads-name": (["--heads", "H9"], "heads", True),
    "npz-tokens-count": (["--tokens", "a,b"], "tokens", True),
    "npz-batch-index": (["--batch-index", "3"], "batch_index", True),
    "npz-leading-space": (["--leading-space", "show"], "--leading-space", True),
    "npz-dpi-zero-svg": (["--dpi", "0"], "--dpi", True),
}
for _name, (_flags, _expect, _npz) in FLAGS.items():
    flag_case(_name, _flags, _expect, npz=_npz)

flag_case("output-trailing-slash", [], "names a directory", output="out/")
flag_case("output-dot", [], "directory", output=".")
flag_case("output-unknown-suffix", [], "cannot tell the format", output="out.tiff")
flag_case("output-no-suffix", [], "cannot tell the format", output="out")
flag_case("output-missing-dir", [], "does not exist", output="nope/out.svg")


@cli("output-is-directory", "is a directory")
def _(tmp: Path) -> list[str]:
    (tmp / "out.svg").mkdir()
    return ["render", str(SEED_SPEC), "-o", str(tmp / "out.svg")]


@cli("output-device-without-format", "cannot tell the format")
def _(tmp: Path) -> list[str]:
    return ["render", str(SEED_SPEC), "-o", "/dev/null"]


@cli("output-unwritable-dir", "cannot write")
def _(tmp: Path) -> list[str]:
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: use a directory of a read-only mount
        return ["render", str(SEED_SPEC), "-o", "/proc/out.svg"]
    return ["render", str(SEED_SPEC), "-o", str(locked / "out.svg")]


@cli("output-full-device", "failed")
def _(tmp: Path) -> list[str]:
    return ["render", str(SEED_SPEC), "-o", "/dev/full", "--format", "svg"]


@cli("demo-output-is-file", "not a directory")
def _(tmp: Path) -> list[str]:
    (tmp / "file").write_text("x")
    return ["demo", "-o", str(tmp / "file")]


@cli("demo-dpi", "--dpi")
def _(tmp: Path) -> list[str]:
    return ["demo", "-o", str(tmp / "out"), "--dpi", "0"]


@cli("png-too-many-pixels", "megapixel")
def _(tmp: Path) -> list[str]:
    return ["render", str(SEED_SPEC), "-o", str(tmp / "out.png"), "--dpi", "4800", "--width",
            "90in"]


@cli("model-empty-text", "--text")
def _(tmp: Path) -> list[str]:
    return ["model", str(tmp), "--text", "  ", "-o", str(tmp / "out.svg")]


@cli("model-missing-path", "model")
def _(tmp: Path) -> list[str]:
    return ["model", str(tmp / "nope"), "--text", "hello", "-o", str(tmp / "out.svg")]


@cli("model-empty-folder", "config.json")
def _(tmp: Path) -> list[str]:
    (tmp / "m").mkdir()
    return ["model", str(tmp / "m"), "--text", "hello", "-o", str(tmp / "out.svg")]


@cli("model-bad-output-first", "does not exist")
def _(tmp: Path) -> list[str]:
    return ["model", str(tmp / "nope"), "--text", "hello", "-o", str(tmp / "x" / "out.svg")]


@cli("missing-output", "-o/--output")
def _(tmp: Path) -> list[str]:
    return ["render", str(SEED_SPEC), "--output"]


@cli("no-command", "command")
def _(tmp: Path) -> list[str]:
    return []


# --- the Python API ---------------------------------------------------------------------

def _diagram(**kw: Any) -> Callable[[Path], Callable[[], Any]]:
    def make(tmp: Path) -> Callable[[], Any]:
        from svgattn import Diagram, Head

        args: dict[str, Any] = {"tokens": TOKENS, "weights": seed(),
                                "heads": [Head("H", tokens=["It"])]}
        args.update(kw)
        return lambda: Diagram(**args).save(tmp / "out.svg")
    return make


def _torch(kind: str) -> Any:
    import torch

    w = torch.tensor(seed())
    return {"complex": w.to(torch.complex64), "bool": w.bool()}[kind]


API_DIAGRAM: dict[str, tuple[dict[str, Any], str]] = {
    "no-tokens": ({"tokens": None}, "tokens"),
    "weights-string": ({"weights": "[[1]]"}, "weights"),
    "weights-bool-array": ({"weights": seed().astype(bool)}, "booleans"),
    "weights-complex-array": ({"weights": seed().astype(complex)}, "complex"),
    "weights-object-array": ({"weights": np.array([[object()] * 5] * 5)}, "objects"),
    "weights-nan": ({"weights": np.full((5, 5), np.nan)}, "finite"),
    "weights-int-overflow": ({"weights": [[10**400] * 5] * 5}, "weights"),
    "tokens-array-2d": ({"tokens": np.array(TOKENS)[:, None]}, "shape"),
    "tokens-bytes-invalid": ({"tokens": [b"\xff", b"I", b"is", b"am", b"the"]}, "UTF-8"),
    "heads-dict": ({"heads": {"H": ["It"]}}, "heads"),
    "heads-item-int": ({"heads": [1]}, "heads[0]"),
    "theme-int": ({"theme": 123}, "theme"),
    "width-negative": ({"width": -1}, "width"),
    "width-inf": ({"width": float("inf")}, "width"),
    "text-mode": ({"text": "outline"}, "text"),
    "vmax-nan": ({"vmax": float("nan")}, "vmax"),
    "vmax-huge-int": ({"vmax": 10**400}, "vmax"),
    "title-bytes": ({"title": b"t"}, "title"),
}
for _name, (_kw, _expect) in API_DIAGRAM.items():
    api(f"diagram-{_name}", _expect, _diagram(**_kw))


def _with(call: Callable[[], Any]) -> Callable[[Path], Callable[[], Any]]:
    return lambda tmp: call


def _fa(**kw: Any) -> Callable[[], Any]:
    def run() -> Any:
        from svgattn import Diagram
        from svgattn.sources import from_array

        return Diagram.from_attention(from_array(GOOD, TOKENS), **kw).to_svg()
    return run


for _name, (_kw, _expect) in {
        "layer-range": ({"layer": 7}, "layer"), "layer-float": ({"layer": 0.5}, "layer"),
        "heads-empty": ({"heads": []}, "heads"), "heads-range": ({"heads": [8]}, "heads"),
        "combine": ({"combine": "median"}, "combine"), "links": ({"links": "x"}, "links"),
        "leading-space": ({"leading_space": "x"}, "leading_space"),
        "vmax-negative": ({"vmax": -1}, "vmax"), "vmax-bool": ({"vmax": True}, "vmax"),
        "width": ({"width": "1cm"}, "width")}.items():
    api(f"from-attention-{_name}", _expect, _with(_fa(**_kw)))


def _call(module: str, name: str, *args: Any, **kw: Any) -> Callable[[], Any]:
    def run() -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kw)
    return run


API_CALLS: dict[str, tuple[Callable[[], Any], str]] = {
    "from-array-6d": (_call("svgattn.sources", "from_array", np.ones((1,) * 6)), "axes"),
    "from-array-batch-float": (_call("svgattn.sources", "from_array", np.ones((1, 2, 1, 2, 2)),
                                     batch_index=0.5), "batch_index"),
    "from-array-tokens-count": (_call("svgattn.sources", "from_array", seed(), ["a"]), "tokens"),
    "from-array-tokens-string": (_call("svgattn.sources", "from_array", seed(), "abcde"),
                                 "tokens"),
    "from-array-strings": (_call("svgattn.sources", "from_array", seed().astype(str)), "strings"),
    "from-array-head-names": (_call("svgattn.sources", "from_array", seed(), TOKENS,
                                    head_names=["a", "b"]), "head_names"),
    "load-file-missing": (_call("svgattn.sources", "load_file", "/nonexistent/a.npz"), "no such"),
    "load-file-dev-zero": (_call("svgattn.sources", "load_file", "/dev/zero.npy"), "no such"),
    "hf-empty": (_call("svgattn.sources", "from_huggingface", {"attentions": ()}, TOKENS),
                 "eager"),
    "hf-none-layer": (_call("svgattn.sources", "from_huggingface", {"attentions": (None,)},
                            TOKENS), "eager"),
    "hf-kind": (_call("svgattn.sources", "from_huggingface", {}, TOKENS, kind="bogus"), "kind"),
    "hf-3d-layer": (_call("svgattn.sources", "from_huggingface", (np.ones((1, 5, 5)),), TOKENS),
                    "batch, heads"),
    "tl-empty": (_call("svgattn.sources", "from_transformerlens", {}, TOKENS), "pattern"),
    "theme-replace-unknown": (lambda: __import__("svgattn").load_theme("light").replace(
        **{"colors.backgrund": "#000000"}), "did you mean"),
    "theme-replace-bad-value": (lambda: __import__("svgattn").load_theme("light").replace(
        **{"figure.width": "-1in"}), "figure.width"),
    "load-theme-number": (_call("svgattn", "load_theme", 123), "theme"),
    "limits-unknown": (lambda: __import__("svgattn.limits").limits.override(
        bogus=1).__enter__(), "bogus"),
    "limits-negative": (lambda: __import__("svgattn.limits").limits.override(
        tokens=-1).__enter__(), "tokens"),
    "save-format": (lambda: _seed_diagram().save("/tmp/x.svg", fmt="tiff"), "format"),
    "to-bytes-format": (lambda: _seed_diagram().to_bytes("bmp"), "format"),
    "save-dpi": (lambda: _seed_diagram().to_bytes("svg", dpi=0), "dpi"),
    "save-dpi-string": (lambda: _seed_diagram().to_bytes("png", dpi="300"), "dpi"),
    "torch-complex": (lambda: _diagram_with(_torch("complex")), "complex"),
    "torch-bool": (lambda: _diagram_with(_torch("bool")), "booleans"),
}
for _name, (_thunk, _expect) in API_CALLS.items():
    api(f"api-{_name}", _expect, _with(_thunk))


def _seed_diagram() -> Any:
    from svgattn import Diagram

    return Diagram.from_spec(SEED_SPEC)


def _diagram_with(weights: Any) -> Any:
    from svgattn import Diagram

    return Diagram(TOKENS, weights).to_svg()


# --- round two: batches, windows, pooling, labels, cells, colours, selections, limits ----

def batch_case(name: str, make_args: Callable[[Path], list[str]], expect: str) -> None:
    """A ``svgattn batch`` run on the seed attention (a.npz, 2 layers x 3 heads)."""
    def make(tmp: Path) -> list[str]:
        (tmp / "a.npz").write_bytes(GOOD_NPZ)
        return ["batch", str(tmp / "a.npz"), *make_args(tmp)]
    CASES.append(Case(f"batch-{name}", "cli", make, expect))


BATCH_PATTERNS: dict[str, tuple[str, str]] = {
    "format-spec-huge": ("{head:>5000000000}.svg", "fields take no format spec"),
    "format-spec-d": ("{head_name:d}.svg", "fields take no format spec"),
    "conversion": ("{head_name!r}.svg", "fields take no format spec or conversion"),
    "unknown-field": ("{nope}.svg", "unknown field '{nope}'"),
    "attribute": ("{head.real}.svg", "unknown field"),
    "index": ("{head[0]}.svg", "unknown field"),
    "unbalanced": ("{head.svg", "write fields as {layer}"),
    "input-suffix": ("{stem}.npz", "is named like an input (.npz)"),
    "collision": ("same.svg", "names the same file"),
}
for _name, (_pattern, _expect) in BATCH_PATTERNS.items():
    batch_case(f"pattern-{_name}", lambda tmp, p=_pattern: [
        "--heads", "all", "-o", str(tmp / p), "--format", "svg"], _expect)


def _folder_is_file(tmp: Path) -> list[str]:
    (tmp / "figs").write_text("a file, not a folder")
    return ["--heads", "all", "-o", str(tmp / "figs" / "{head}.svg")]


def _symlinked_twice(tmp: Path) -> list[str]:
    (tmp / "d0").mkdir()
    (tmp / "d1").symlink_to(tmp / "d0")
    return ["--heads", "0", "--layers", "all", "-o", str(tmp / "d{layer}" / "x.svg")]


def _link_to_input(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "0.svg").symlink_to(tmp / "a.npz")
    return ["--heads", "0", "--force", "-o", str(tmp / "out" / "{head}.svg")]


def _link_leading_out(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "elsewhere").mkdir()
    (tmp / "out" / "H0").symlink_to(tmp / "elsewhere")  # named like a head
    return ["--heads", "all", "-o", str(tmp / "out" / "{head_name}" / "x.svg")]


batch_case("output-folder-is-a-file", _folder_is_file, "is a file, not a folder")
batch_case("two-names-one-file", _symlinked_twice, "names the same file")
batch_case("overwrites-its-input", _link_to_input, "is one of the inputs")
batch_case("link-leads-out", _link_leading_out, "leads outside")
batch_case("jobs-zero", lambda tmp: ["--jobs", "0", "-o", str(tmp / "{head}.svg")], "--jobs")
for _name, _address in {"words": "not a url", "no-host": "tcp://", "no-scheme": "127.0.0.1",
                        "file": "file:///etc/passwd", "open-bracket": "tcp://[::1",
                        "port-range": "tcp://localhost:99999", "escape": ESC}.items():
    batch_case(f"scheduler-{_name}", lambda tmp, a=_address: [
        "-o", str(tmp / "{head}.svg"), "--scheduler", a], "is not a scheduler address")

ROUND_TWO_FLAGS: dict[str, tuple[list[str], str]] = {
    "window-words": (["--window", "a:b"], "window: 'a:b' is not A:B"),
    "window-empty": (["--window", "4:2"], "window: '4:2' selects no token"),
    "window-superscript": (["--window", "\u00b2:4"], "is not A:B"),
    "pool-word": (["--pool", "big"], "pool: 'big' is not a block size"),
    "pool-zero": (["--pool", "0"], "is not a block size"),
    "pool-as-large-as-the-input": (["--pool", "5"], "pool: blocks of 5 are not smaller"),
    "pool-window": (["--window", "0:3", "--pool", "max:3"], "tokens of the window"),
    "labels-every-zero": (["--view", "matrix", "--labels", "every:0"],
                          "labels: every:'0' needs a whole number of at least 1"),
    "labels-every-negative": (["--view", "matrix", "--labels", "every:-1"],
                              "every:'-1' needs a whole number"),
    "labels-every-fraction": (["--view", "matrix", "--labels", "every:2.5"],
                              "every:'2.5' needs a whole number"),
    "labels-top-zero": (["--view", "matrix", "--labels", "top:0"],
                        "top:'0' needs a whole number"),
    "labels-top-word": (["--view", "matrix", "--labels", "top:many"],
                        "top:'many' needs a whole number"),
    "labels-unknown-token": (["--view", "matrix", "--labels", "It,zz"],
                             "labels: 'zz' is not one of the tokens"),
    "labels-position-range": (["--view", "matrix", "--labels", "99"],
                              "position 99 is out of range"),
    "labels-superscript": (["--view", "matrix", "--labels", "\u00b2"],
                           "'\u00b2' is not one of the tokens"),
    "labels-lines-view": (["--view", "lines", "--labels", "auto"],
                          "labels: an option of the flow and matrix views"),
    "cells-bogus": (["--view", "matrix", "--cells", "pixels"], "--cells"),
    "cells-text-view": (["--view", "text", "--cells", "raster"],
                        "cells: an option of the flow and matrix views"),
    "colormap-typo": (["--colormap", "viridis_rr"], "is not a known colour map"),
    "vmin-word": (["--vmin", "low"], "--vmin: 'low' is not a number"),
    "vmin-nan": (["--vmin", "nan"], "--vmin: nan must be a finite number"),
    "vmin-inf": (["--vmin=-inf"], "must be a finite number"),
    "gamma-huge": (["--norm", "power", "--gamma", "100"],
                   "--gamma: 100 must be between 0.05 and 20"),
    "log-difference": (["--view", "matrix", "--minus-layer", "0", "--norm", "log"],
                       "a difference is drawn on a linear scale"),
    "vmin-positive-difference": (["--view", "matrix", "--minus-layer", "0", "--vmin", "0.1"],
                                 "centred on zero"),
    "layers-superscript": (["--view", "grid", "--layers", "\u00b2"],
                           "layers: '\u00b2' is neither an index"),
    "heads-superscript": (["--heads", "\u00b2"], "heads: '\u00b2' is neither an index"),
    "layer-superscript": (["--layer", "\u00b2"], "layer: '\u00b2' is neither an index"),
    "focus-superscript": (["--view", "text", "--focus", "\u00b2"],
                          "focus: '\u00b2' is not one of the tokens"),
    "minus-head-superscript": (["--view", "matrix", "--minus-head", "\u00b2"],
                               "minus_head: heads: '\u00b2' is neither an index"),
    "heads-backwards": (["--heads", "2-1"], "runs backwards"),
    "top-fraction": (["--view", "lines", "--top", "2.5"], "--top: '2.5' is not a whole number"),
    "top-zero": (["--view", "lines", "--top", "0"], "--top: 0 must be between 1 and 10000"),
    "focus-outside-window": (["--view", "text", "--window", "0:2", "--focus", "4"],
                             "token 4 is outside the tokens shown (0\u20131)"),
    "png-taller-than-cairo": (["--limit", "megapixels=100000", "--dpi", "4800", "--width",
                               "90in"], "cairo draws at most 32767 a side"),
}
for _name, (_flags, _expect) in ROUND_TWO_FLAGS.items():
    flag_case(_name, _flags, _expect, npz=True,
              output="out.png" if _name.startswith("png") else "out.svg")

json_case("vmax-quoted", spec(vmax="0.5"), "vmax: '0.5' is a string; write a number")
json_case("gamma-string", spec(gamma="2", norm="power"), "gamma: '2' is a string")
json_case("overflowing-weights", spec(weights=[[1e308] * 5] * 5, heads=[]),
          "weights: weights up to 1e+308 overflow when 5 of them are added")
json_case("spec-over-spec-mb", spec(title="x" * 900), "spec file limit of 0.0001 MB",
          "--limit", "spec_mb=0.0001")
file_case("npz-duplicate-head-names", "a.npz", npz_bytes(
    attentions=GOOD, tokens=np.array(TOKENS), head_names=np.array(["h", "g", "h"])),
    "head_names[2]: 'h' names two heads")
file_case("npz-duplicate-layer-names", "a.npz", npz_bytes(
    attentions=GOOD, tokens=np.array(TOKENS), layer_names=np.array(["L", "L"])),
    "layer_names[1]: 'L' names two layers")
file_case("npz-overflow", "a.npz", npz_bytes(attentions=np.full((1, 1, 5, 5), 1e308),
                                             tokens=np.array(TOKENS)), "overflow when")
file_case("npz-member-truncated", "a.npz", npz_bytes(
    attentions=npy_header((2, 3, 5, 5)) + b"\x00" * 64, tokens=np.array(TOKENS)),
    "the header promises 1,200 bytes of data but the file holds")
theme_case("extends-missing-not-toml", 'extends = "base.txt"\n',
           "extends: 'base.txt' is not a .toml file")
theme_case("colormap-not-in-catalogue", '[colors]\ncolormap = "notamap"\n',
           "is not a known colour map")
theme_case("lines-table-unknown-key", '[lines]\nwidht = 2\n', "unknown theme key 'lines.widht'")


@cli("theme-extends-not-toml-file-exists", "is not a .toml file")
def _(tmp: Path) -> list[str]:
    (tmp / "base.txt").write_text("not a theme\n")
    (tmp / "t.toml").write_text('extends = "base.txt"\n')
    return ["demo", "-o", str(tmp / "out"), "--theme", str(tmp / "t.toml")]


@cli("render-over-its-spec", "is the input this run reads")
def _(tmp: Path) -> list[str]:
    spec_path = tmp / "s.json"
    spec_path.write_text(json.dumps(spec()))
    (tmp / "link.svg").symlink_to(spec_path)
    return ["render", str(spec_path), "-o", str(tmp / "link.svg")]


@cli("render-over-its-theme", "is the --theme file this run reads")
def _(tmp: Path) -> list[str]:
    (tmp / "t.toml").write_text('extends = "paper"\n')
    (tmp / "t.svg").symlink_to(tmp / "t.toml")
    return ["render", str(SEED_SPEC), "--theme", str(tmp / "t.toml"), "-o", str(tmp / "t.svg")]


@cli("render-format-input-suffix", "is named like an input (.toml)")
def _(tmp: Path) -> list[str]:
    return ["render", str(SEED_SPEC), "-o", str(tmp / "fig.toml"), "--format", "svg"]
