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


def figures() -> list[Figure]:
    out = [Figure(f"seed-{name}", "seed.toml",
                  f"The seed figure in the `{name}` theme"
                  + (" (3.25 in column width, 8 pt type)" if name == "paper" else ""),
                  theme=name) for name in builtin_themes()]
    out += [
        Figure("continuous", "continuous.toml",
               "Soft attention: two heads given by their own weights (links derived by the "
               "documented threshold rule), one by explicit tokens; a colour bar for "
               "continuous weights"),
        Figure("cross-attention", "cross_attention.toml",
               "Cross-attention: a rectangular 4x5 matrix with separate query and key tokens"),
    ]
    return out


def build(outdir: Path = HERE) -> list[Path]:
    """Render every gallery figure into ``outdir``; return the files written."""
    written = []
    for fig in figures():
        diagram = Diagram.from_spec(SPECS / fig.spec, theme=fig.theme, width=fig.width)
        for fmt in ("svg", "png"):
            written.append(diagram.save(outdir / f"{fig.stem}.{fmt}", dpi=DPI))
    index = ["# Gallery", "",
             "Every figure here is rendered by `python gallery/build.py` from the specs in",
             "[`specs/`](specs/); `tests/test_gallery.py` fails when a committed file is stale.",
             ""]
    for fig in figures():
        index += [f"## {fig.stem}", "", f"{fig.caption}. Spec: [`specs/{fig.spec}`](specs/"
                  f"{fig.spec}); [SVG]({fig.stem}.svg).", "", f"![{fig.caption}]({fig.stem}.png)",
                  ""]
    readme = outdir / "README.md"
    readme.write_text("\n".join(index), encoding="utf-8")
    written.append(readme)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
