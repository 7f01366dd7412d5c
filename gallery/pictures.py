"""The gallery's pictures and the attention over them, written into ``specs/data/pictures``
when missing (not committed; ``python gallery/pictures.py`` by hand).

The photographs are scikit-image's bundled samples (public domain / CC0, see their
docstrings): Stefan van der Walt's cat (``chelsea``) and Rachel Michetti's coffee
(``coffee``). The attention over them is synthetic, with the structure stated below,
except the two tiny models, which are real architectures with random weights: their
figures say so. Nothing here is a trained model's attention.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "specs" / "data" / "pictures"
GRID = 14  # the cat: 14 x 14 patches of a 300 x 300 crop (a ViT-B/16's grid)
# where the stated structure lies, as (row, col) centres on the cat's grid
CAT_PARTS = {"eyes": [(5, 4), (5, 10)], "nose": [(9, 8)], "ears": [(0, 2), (0, 12)],
             "chin": [(12, 7)]}


def _blob(rows: int, cols: int, centres: list[tuple[float, float]], width: float,
          stretch: float = 1.0) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    out = np.zeros((rows, cols))
    for cy, cx in centres:
        out += np.exp(-(((yy - cy) / stretch) ** 2 + (xx - cx) ** 2) / (2 * width ** 2))
    return out


def cat() -> tuple[np.ndarray, bytes]:
    """The cat's face, 300 x 300 (a square crop of ``chelsea``), as pixels and JPEG."""
    import io

    import skimage.data
    from PIL import Image

    pixels = skimage.data.chelsea()[:, 75:375]
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    return pixels, buf.getvalue()


def cat_attention() -> dict[str, np.ndarray]:
    """A ViT-like input: [CLS], four registers, 14 x 14 patches; 2 layers x 6 heads. In
    the last layer CLS attends to the eyes (H0), the nose (H1), the ears (H2), the chin
    (H3), the whole face (H4), and H5 parks 70 % of its attention on register 2 (the
    artefact Darcet et al. 2023 describe); every head gives the registers some share.
    Every other row is random. Token norms: the patches about 1, register 2 and three
    background patches high (the high-norm tokens of Darcet et al.)."""
    rng = np.random.default_rng(25)
    n = 5 + GRID * GRID
    weights = rng.dirichlet(np.ones(n) * 0.7, size=(2, 6, n))
    maps = [_blob(GRID, GRID, CAT_PARTS[k], 1.0) for k in ("eyes", "nose", "ears", "chin")]
    maps.append(_blob(GRID, GRID, [(7, 7)], 3.5))
    maps.append(np.ones((GRID, GRID)))
    register = [0.10, 0.12, 0.08, 0.15, 0.10, 0.70]
    for h, (m, reg) in enumerate(zip(maps, register, strict=True)):
        row = np.zeros(n)
        row[1:5] = reg * np.array([0.1, 0.2, 0.6, 0.1])
        row[0] = 0.02
        row[5:] = (1 - reg - 0.02) * (m.ravel() + 0.01) / (m.ravel() + 0.01).sum()
        weights[1, h, 0] = row
    norms = 1 + 0.05 * rng.random(n)
    norms[3] = 6.0
    for r, c in ((0, 13), (13, 0), (2, 13)):
        norms[5 + r * GRID + c] = 5.0
    tokens = ["[CLS]"] + [f"[REG{i}]" for i in range(4)] + \
        [f"{r},{c}" for r in range(GRID) for c in range(GRID)]
    return {"attentions": weights.astype(np.float32), "tokens": np.array(tokens),
            "grid": np.array([GRID, GRID]), "patch_start": np.array(5), "norms": norms}


COFFEE = (16, 24)  # latent grid of the coffee photo (400 x 600): 25-pixel cells
PROMPT = ["<|startoftext|>", "a", "cup", "of", "coffee", "on", "a", "saucer", "with", "a",
          "spoon", "<|endoftext|>", "<|endoftext|>", "<|endoftext|>"]


def coffee_attention() -> dict[str, np.ndarray]:
    """Diffusion-style cross-attention, ``[steps, layers, heads, pixels, tokens]`` = [10,
    3, 4, 384, 14], pixels as queries: "cup" on the cup, "coffee" on the crema, "saucer"
    on the saucer's ring, "spoon" on the spoon, the function words faint and everywhere,
    the start token taking most of every pixel's attention (as in Stable Diffusion);
    per-step noise. Synthetic: no model made it."""
    rows, cols = COFFEE
    rng = np.random.default_rng(26)
    regions = {
        "cup": _blob(rows, cols, [(5, 11.5)], 2.6),
        "coffee": _blob(rows, cols, [(5.5, 11.5)], 1.6, stretch=0.6),
        "saucer": _blob(rows, cols, [(10, 11.5)], 3.0, stretch=0.9) -
        0.7 * _blob(rows, cols, [(6, 11.5)], 2.2),
        "spoon": _blob(rows, cols, [(11, 15)], 1.0, stretch=1.6),
    }
    steps, layers, heads = 10, 3, 4
    a = rng.random((steps, layers, heads, rows * cols, len(PROMPT))) * 0.02
    for k, token in enumerate(PROMPT):
        if token in regions:
            a[..., k] += 0.35 * np.clip(regions[token], 0, None).ravel()
        elif not token.startswith("<|"):
            a[..., k] += 0.03
    a[..., 0] += 1.0  # the start token: most of each row
    a /= a.sum(-1, keepdims=True)
    return {"attentions": a.astype(np.float32), "key_tokens": np.array(PROMPT),
            "query_tokens": np.array([f"{r},{c}" for r in range(rows) for c in range(cols)]),
            "grid": np.array(COFFEE), "grid_axis": np.array("query")}


def coffee() -> bytes:
    """The coffee photograph (400 x 600) as JPEG."""
    import io

    import skimage.data
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(skimage.data.coffee()).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def tiny_models() -> None:
    """A ViT and a DINOv2 with four registers, 224 x 224 pictures in 16-pixel patches
    (14 x 14), random weights (seeded): real architectures run by ``svgattn model
    --image``, never a trained model's figure."""
    import torch
    import transformers as t

    small = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=128, image_size=224, patch_size=16)
    torch.manual_seed(0)
    vit = DATA / "vit-random-weights"
    if not (vit / "config.json").is_file():
        t.ViTModel(t.ViTConfig(**small)).save_pretrained(vit)
        t.ViTImageProcessor(size={"height": 224, "width": 224}).save_pretrained(vit)
    torch.manual_seed(1)
    dino = DATA / "dinov2-registers-random-weights"
    if not (dino / "config.json").is_file():
        t.Dinov2WithRegistersModel(t.Dinov2WithRegistersConfig(
            num_register_tokens=4, **small)).save_pretrained(dino)
        t.BitImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224},
                            image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                            ).save_pretrained(dino)


def ensure(models: bool = True) -> Path:
    """Every picture file, written if missing (``models``: the tiny models too)."""
    DATA.mkdir(parents=True, exist_ok=True)
    if not (DATA / "cat.jpg").is_file():
        (DATA / "cat.jpg").write_bytes(cat()[1])
    if not (DATA / "coffee.jpg").is_file():
        (DATA / "coffee.jpg").write_bytes(coffee())
    if not (DATA / "cat-cls.npz").is_file():
        np.savez(DATA / "cat-cls.npz", **cat_attention())
    if not (DATA / "coffee-words.npz").is_file():
        np.savez(DATA / "coffee-words.npz", **coffee_attention())
    if models:
        tiny_models()
    return DATA


if __name__ == "__main__":
    print(ensure("--no-models" not in sys.argv[1:]))
