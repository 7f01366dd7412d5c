"""Synthetic causal attention with known structure, for the gallery, the tests and the
benchmarks: ``python gallery/synthetic.py`` writes ``gallery/specs/data/synthetic-4096.npz``
(``gallery/build.py`` writes it when it is missing).

One layer of three heads over ``n`` tokens, every row a probability distribution over the
keys its query can see (a causal decoder):

- ``H0`` sink + diagonal + band: 30 % on the first token (a BOS sink), 30 % on the token
  itself, 30 % over the 16 tokens before it, the rest uniform;
- ``H1`` previous token: 60 % on the token before, 25 % on the sink, the rest uniform;
- ``H2`` period 64: 60 % spread over the tokens 64, 128, 192 ... before, 25 % on the sink,
  the rest uniform (rows shorter than 64 tokens: on the sink and uniform).

Nothing here is a trained model's attention: the gallery says so under each figure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

WORDS = ("the", "model", "reads", "a", "long", "prompt", "and", "each", "token", "attends",
         "to", "what", "came", "before", "it", ".")
HEADS = ("H0 sink+diagonal+band", "H1 previous", "H2 period-64")


def tokens(n: int) -> list[str]:
    """A BOS token, then words with GPT-2 style leading-space markers."""
    return ["<s>"] + [("Ġ" if k % 7 else "") + WORDS[k % len(WORDS)] for k in range(1, n)]


def causal(n: int = 4096, dtype: type = np.float32) -> np.ndarray:
    """``[1, 3, n, n]`` causal attention of the three heads (rows sum to 1)."""
    out = np.zeros((1, 3, n, n), dtype=dtype)
    for i in range(n):
        visible = i + 1
        rows = [np.zeros(visible) for _ in range(3)]
        for row in rows:
            row[:] = 0.1 / visible
        rows[0][0] += 0.3
        rows[0][i] += 0.3
        band = np.arange(max(0, i - 16), i)
        if len(band):
            rows[0][band] += 0.3 / len(band)
        else:
            rows[0][i] += 0.3
        rows[1][0] += 0.25
        rows[1][max(0, i - 1)] += 0.65  # the previous token (itself on the first row)
        period = np.arange(i - 64, -1, -64)
        rows[2][0] += 0.25
        if len(period):
            rows[2][period] += 0.65 / len(period)
        else:
            rows[2][0] += 0.65
        for h, row in enumerate(rows):
            out[0, h, i, :visible] = row / row.sum()
    return out


def write(path: Path, n: int = 4096) -> Path:
    """Write the file whole, then move it into place: test processes and benchmarks that
    ask for it at once never read one half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(part, "wb") as f:
        np.savez(f, attentions=causal(n), tokens=np.array(tokens(n)),
                 head_names=np.array(HEADS), layer_names=np.array(["synthetic"]))
    os.replace(part, path)
    return path


DATA = Path(__file__).resolve().parent / "specs" / "data"


def ensure(n: int = 4096) -> Path:
    """The synthetic file of ``n`` tokens, written if it is missing."""
    path = DATA / f"synthetic-{n}.npz"
    return path if path.is_file() else write(path, n)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
    print(write(DATA / f"synthetic-{n}.npz", n))
