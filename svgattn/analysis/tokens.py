"""Token labels: strip tokenizer markers, hide special tokens, merge word pieces.

Markers: GPT-2/RoBERTa/Llama byte-level BPE ``Ġ`` (a leading space), SentencePiece ``▁``
(a leading space), WordPiece ``##`` (continues the previous word), and ``</w>`` (ends a
word, CLIP/BPE). A leading space is hidden, or marked with a subtle middle dot when
``leading_space="mark"``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, quote

SPECIAL = re.compile(r"^(\[(CLS|SEP|PAD|MASK|UNK|BOS|EOS)\]|<\|[^|<>]{1,40}\|>|</?s>|<pad>|"
                     r"<unk>|<mask>|<bos>|<eos>|<cls>|<sep>|<\|endoftext\|>)$", re.IGNORECASE)
SPACE_MARKERS = ("Ġ", "▁")
SPACE_MARK = "·"


def _byte_table() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet: printable bytes stand for themselves, the others
    (controls, space, 0x7F-0xA0, 0xAD) for U+0100 onwards. Maps character -> byte."""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    table = {chr(b): b for b in keep}
    extra = 0
    for b in range(256):
        if b not in table.values():
            table[chr(256 + extra)] = b
            extra += 1
    return table


BYTE_OF = _byte_table()


def byte_level(tokens: list[str]) -> bool:
    """True for byte-level BPE tokens (GPT-2, Llama 3, SmolLM...): every character is in
    the byte alphabet and some token uses a remapped byte such as Ġ (a space)."""
    chars = set("".join(t for t in tokens if not is_special(t)))
    return bool(chars) and all(c in BYTE_OF for c in chars) and any(
        0x100 <= ord(c) <= 0x143 for c in chars)


def decode_bytes(token: str) -> str:
    """The text a byte-level token stands for; a piece holding part of a multi-byte
    character shows U+FFFD for the missing part (merge word pieces to see it whole)."""
    return bytes(BYTE_OF[c] for c in token).decode("utf-8", errors="replace")


def is_special(token: str) -> bool:
    """True for tokenizer control tokens such as [CLS], [SEP], <s>, <|endoftext|>."""
    return bool(SPECIAL.match(token.strip()))


def starts_word(token: str) -> bool:
    return token.startswith(SPACE_MARKERS) or token.startswith(" ")


def spaced(token: str, byte_level: bool = False) -> bool:
    """True when running text puts a space before ``token``: a word-start marker (``Ġ``,
    ``▁``, a leading space) or, for tokenizers without markers (WordPiece), any token that
    is not a ``##`` continuation. Special tokens stand apart."""
    if is_special(token):
        return True
    if token.startswith("##"):
        return False
    text = decode_bytes(token) if byte_level else token
    if text.startswith((*SPACE_MARKERS, " ")):
        return True
    if text and all(unicodedata.category(c)[0] == "P" for c in text) and text[0] not in "([{":
        return False  # punctuation leans on the word before it
    return not byte_level and not any(m in token for m in SPACE_MARKERS)


def clean(token: str, leading_space: str = "hide", byte_level: bool = False) -> str:
    """The label a reader should see for ``token`` (``byte_level``: decode GPT-2-style
    byte tokens, so 'æ³¨' reads 注 and 'Ġcat' reads ' cat')."""
    text = decode_bytes(token) if byte_level and not is_special(token) else token
    lead = text.startswith(SPACE_MARKERS) or (text.startswith(" ") and text.strip() != "")
    if lead:
        text = text[1:]
        if not text:
            return "\u2423"  # a token that is only a space: an open box, visible
    if text.startswith("##") and len(text) > 2:
        text = text[2:]
    if text.endswith("</w>") and len(text) > 4:
        text = text[:-4]
    text = text.replace("Ċ", "\u21b5").replace("ĉ", "\u21e5")  # byte-level newline, tab
    if lead and leading_space == "mark":
        text = SPACE_MARK + text
    return text if text else token


def word_spans(tokens: list[str]) -> list[list[int]]:
    """Group token indices into words. A piece joins the word before it when neither is a
    special token and: it starts with ``##`` (WordPiece); or the sequence uses ``Ġ``/``▁``
    word-start markers, the piece has none and begins with a letter or digit (BPE,
    SentencePiece; in byte-level BPE also a piece starting with a non-ASCII byte); or the
    sequence uses ``</w>`` and the word before has not ended."""
    spaced = any(t.startswith(SPACE_MARKERS) for t in tokens)
    end_marked = any(t.endswith("</w>") for t in tokens)
    # byte-level BPE splits characters into bytes: a piece starting with a non-ASCII byte
    # always continues the word before it
    raw_bytes = byte_level(tokens)
    spans: list[list[int]] = []
    for i, tok in enumerate(tokens):
        prev = tokens[spans[-1][-1]] if spans else None
        joins = prev is not None and not is_special(tok) and not is_special(prev) and (
            tok.startswith("##")
            or (spaced and not starts_word(tok) and (
                tok[:1].isalnum() or (raw_bytes and BYTE_OF.get(tok[:1], 0) >= 0x80)))
            or (end_marked and not prev.endswith("</w>")))
        if joins:
            spans[-1].append(i)
        else:
            spans.append([i])
    return spans


def merge_spans(matrix: np.ndarray, row_spans: list[list[int]],
                col_spans: list[list[int]]) -> np.ndarray:
    """Merge word pieces: sum over merged key columns, mean over merged query rows, so a
    row-stochastic matrix stays row-stochastic. Works on ``[..., query, key]``."""
    cols = np.stack([matrix[..., span].sum(axis=-1) for span in col_spans], axis=-1)
    return np.stack([cols[..., span, :].mean(axis=-2) for span in row_spans], axis=-2)


def merged_label(tokens: list[str], span: list[int], leading_space: str,
                 byte_level: bool = False) -> str:
    if byte_level:  # decode the word's bytes together: pieces may split a character
        return clean("".join(tokens[i] for i in span), leading_space, byte_level=True)
    first = clean(tokens[span[0]], leading_space)
    return first + "".join(clean(tokens[i], "hide") for i in span[1:])


@dataclass(frozen=True, eq=False)
class Prepared:
    """Attention after special tokens were hidden and word pieces merged (on every layer
    and head), with the raw strings options match, the cleaned labels and each key
    token's spacing in running text."""

    weights: np.ndarray
    query_raw: list[str]
    key_raw: list[str]
    query_labels: list[str]
    key_labels: list[str]
    key_spaced: list[bool]
    notes: tuple[str, ...]
    # the source's position of each row's (column's) first token
    query_origin: tuple[int, ...] = ()
    key_origin: tuple[int, ...] = ()


def prepare(weights: np.ndarray, q_raw: list[str], k_raw: list[str], hide_special: bool,
            merge_words: bool, leading_space: str, where: str) -> Prepared:
    """Hide special tokens (rows renormalised) and merge word pieces, clean labels."""
    if leading_space not in ("hide", "mark"):
        raise SpecError(f"{where}: leading_space: {quote(leading_space)} is not hide or mark")
    notes: list[str] = []
    lazy = not isinstance(weights, np.ndarray)  # svgattn.blocks: regrouped as it is read
    q_groups = [[i] for i in range(len(q_raw))]
    k_groups = [[i] for i in range(len(k_raw))]
    if hide_special:
        keep_q = [i for i, t in enumerate(q_raw) if not is_special(t)]
        keep_k = [i for i, t in enumerate(k_raw) if not is_special(t)]
        if not keep_q or not keep_k:
            raise SpecError(f"{where}: hide_special: every token is special; drop the option")
        if not lazy:
            weights = weights[:, :, keep_q][:, :, :, keep_k]
            sums = weights.sum(axis=-1, keepdims=True)
            weights = np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)
        q_groups, k_groups = [[i] for i in keep_q], [[i] for i in keep_k]
        q_raw = [q_raw[i] for i in keep_q]
        k_raw = [k_raw[i] for i in keep_k]
        notes.append("special tokens hidden, rows renormalised")
    q_bytes, k_bytes = byte_level(q_raw), byte_level(k_raw)
    if merge_words:
        q_spans, k_spans = word_spans(q_raw), word_spans(k_raw)
        if not lazy:
            weights = merge_spans(weights, q_spans, k_spans)
        q_groups = [[q_groups[i][0] for i in s] for s in q_spans]
        k_groups = [[k_groups[i][0] for i in s] for s in k_spans]
        q_labels = [merged_label(q_raw, s, leading_space, q_bytes) for s in q_spans]
        k_labels = [merged_label(k_raw, s, leading_space, k_bytes) for s in k_spans]
        k_spaced = [spaced(k_raw[s[0]], k_bytes) for s in k_spans]
        q_raw = ["".join(q_raw[i] for i in s) for s in q_spans]
        k_raw = ["".join(k_raw[i] for i in s) for s in k_spans]
        notes.append("word pieces merged")
    else:
        q_labels = [clean(t, leading_space, q_bytes) for t in q_raw]
        k_labels = [clean(t, leading_space, k_bytes) for t in k_raw]
        k_spaced = [spaced(t, k_bytes) for t in k_raw]
    if lazy and (hide_special or merge_words):
        from ..blocks import mapped

        weights = mapped(weights, q_groups, k_groups, hide_special)  # type: ignore
    return Prepared(weights, q_raw, k_raw, q_labels, k_labels, k_spaced, tuple(notes),
                    tuple(g[0] for g in q_groups), tuple(g[0] for g in k_groups))
