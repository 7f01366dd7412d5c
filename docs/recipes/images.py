"""A DINO-style image map (Caron et al. 2021, Figs. 1 and 3) and a Prompt-to-Prompt word
map (Hertz et al. 2022), from arrays as a model would give them. The attention here is
SYNTHETIC, with the structure stated in gallery/pictures.py (a ViT-like [CLS] row with four
registers over scikit-image's public-domain cat; diffusion cross-attention over its coffee
photo): the figures show what svgattn draws, not what a model does. For a model's own, run
`svgattn model FOLDER --image photo.jpg --view image`, or record a diffusers pipeline with
`svgattn.record_diffusion` (docs: Attention over images).

Run: python docs/recipes/images.py [OUT_DIR]   (default: gallery/recipes)
"""

import importlib.util
import sys
from pathlib import Path

from svgattn import Diagram
from svgattn.sources.arrays import load_file

ROOT = Path(__file__).resolve().parents[2]


def pictures() -> Path:
    """gallery/pictures.py's files (written when missing): the photos and the arrays."""
    spec = importlib.util.spec_from_file_location("pictures", ROOT / "gallery" / "pictures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ensure(models=False)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = pictures()
    # DINO: [CLS]'s attention in the last layer, one outline colour per head around the
    # fewest patches holding 60 % of its patch attention, over the one photo
    cls = load_file(data / "cat-cls.npz", image=data / "cat.jpg")
    dino = Diagram.from_attention(cls, view="image", heads="0-3", mask=0.6, norms="hide",
                                  width="3.25in", theme="paper",
                                  caption="Synthetic attention (stated structure), not a model's")
    # Prompt-to-Prompt: one map per word, averaged over steps, layers and heads
    words = load_file(data / "coffee-words.npz", image=data / "coffee.jpg")
    p2p = Diagram.from_attention(words, view="words", words="cup,coffee,saucer,spoon",
                                 width="6.5in", theme="paper",
                                 caption="Synthetic cross-attention (stated structure), not a "
                                         "model's")
    for name, d in (("images-dino", dino), ("images-p2p", p2p)):
        for fmt in ("svg", "png"):
            d.save(out / f"{name}.{fmt}", dpi=150)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
