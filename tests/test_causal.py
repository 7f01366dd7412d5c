"""Long causal attention drawn faithfully (issue 17): on synthetic attention with known
structure, the figure shows the sink and the diagonal in every pixel row, keeps masked
cells apart from zero weights, names positions where labels thin, and scores tokens
without favouring early or late positions."""

from __future__ import annotations

import io
import sys
from functools import lru_cache

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image
from scenes import grid, texts

from svgattn import Diagram
from svgattn.analysis.links import LinkRule, link_scores, links_from_weights
from svgattn.analysis.received import received
from svgattn.analysis.sinks import sink_columns
from svgattn.sources import from_array
from svgattn.theme import builtin_themes

sys.path.insert(0, str(ROOT / "gallery"))
import synthetic  # gallery/synthetic.py: attention with known structure


@lru_cache(maxsize=2)
def _synthetic(n: int) -> np.ndarray:
    return synthetic.causal(n)


def _attention(n: int):
    return from_array(_synthetic(n), synthetic.tokens(n), head_names=list(synthetic.HEADS))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(float) @ np.array([0.2126, 0.7152, 0.0722])


def _visible(image: np.ndarray, cells, dpi: float, left) -> tuple[int, int, range]:
    """In how many of the matrix's pixel rows the sink column (the first two pixels) and
    the diagonal (within 2 pixels) are darker than the row's median; ``left`` rounds the
    matrix's left edge to a pixel."""
    px = dpi / 72
    x0, y0 = left(cells.x * px), round(cells.y * px)
    w, h = round(cells.cell_w * 4096 * px), round(cells.cell_h * 4096 * px)
    lum = _luminance(image[y0:y0 + h, x0:x0 + w])
    rows = range(2, h - 2)  # the matrix's edge pixels blend with the page
    sink = diagonal = 0
    for r in rows:
        median = float(np.median(lum[r]))
        sink += lum[r, 0] < median or lum[r, 1] < median
        c = int((r + 0.5) / h * w)
        diagonal += float(lum[r, max(0, c - 2):c + 3].min()) < median
    return sink, diagonal, rows


def test_sink_and_diagonal_survive_in_every_pixel_row_at_300_dpi():
    """4,096 tokens in a 6.5 in figure at 300 dpi: about a third of a pixel a token. The
    sink column and the diagonal stay darker than their row's median in >= 99 % of the
    matrix's pixel rows (read back from the PNG)."""
    d = Diagram.from_attention(_attention(4096), view="matrix", width="6.5in")
    cells = grid(d.scene())
    image = np.asarray(Image.open(io.BytesIO(d.to_bytes("png", dpi=300))).convert("RGB"))
    w = round(cells.cell_w * 4096 * 300 / 72)
    assert w < 4096 / 2  # pixels really are coarser than cells
    sink, diagonal, rows = _visible(image, cells, 300, round)
    assert sink >= 0.99 * len(rows), f"sink visible in {sink} of {len(rows)} rows"
    assert diagonal >= 0.99 * len(rows), f"diagonal visible in {diagonal} of {len(rows)} rows"


@pytest.mark.parametrize("theme", sorted(builtin_themes()))
def test_masked_cells_differ_from_zero_weights_in_every_theme(theme):
    w = np.tril(np.ones((6, 6)))
    w[4, 1] = 0.0  # a zero weight a query could see
    w /= w.sum(axis=1, keepdims=True)
    d = Diagram.from_attention(from_array(w, list("abcdef")), view="matrix", theme=theme)
    cells = grid(d.scene())
    assert cells.masked
    masked, zero = cells.colours[int(cells.index[0, 5])], cells.colours[int(cells.index[4, 1])]
    assert masked != zero
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    if d.theme["figure.caption"] == "full":
        assert "masked" in caption.lower()


def test_thinned_labels_carry_their_positions():
    d = Diagram.from_attention(_attention(512), view="matrix", width="6.5in")
    rows = texts(d.scene(), "row-label")
    assert 3 <= len(rows) < 512
    for t in rows:
        index = int(t.id.rsplit("-", 1)[1])
        assert t.label.text.endswith(f"\u00b7{index}")


def test_labels_never_thin_to_fewer_at_a_wider_width():
    att = _attention(512)
    counts = [len(texts(Diagram.from_attention(att, view="matrix", width=f"{w}in").scene(),
                        "row-label")) for w in (3.25, 4, 5, 6.5, 8)]
    assert counts == sorted(counts), counts


def test_positional_heads_favour_no_position():
    """A previous-token head and a diagonal+band head score every token alike (away from
    the first and last few), so they link no token, and the caption says why; the
    period-64 head's early tokens really are attended by more queries."""
    w = _synthetic(1024)[0]
    sinks = (0,)
    for h in (0, 1):
        s = link_scores(w[h], sinks, ignore_self=True, causal=True)[600:1000]
        assert float(s.max()) <= 1.05 * float(s.min())
        assert links_from_weights(w[h], LinkRule(top_k=3, ignore=sinks, ignore_self=True,
                                                 causal=True)) == []
    period = link_scores(w[2], sinks, ignore_self=True, causal=True)
    assert period[100] > period[500] > period[900]
    d = Diagram.from_attention(_attention(1024), view="flow", width="6.5in", caption="full")
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert "no token stands out" in caption and "H1 previous" in caption


def test_the_strongest_keys_are_found_wherever_they_are():
    """Noise plus two keys many queries attend to (one early, one late): those two are
    the links, not the first tokens (seen by every query) nor the last (seen by few)."""
    n = 1024
    rng = np.random.default_rng(0)
    w = np.tril(rng.random((n, n)))
    for key in (300, 900):
        w[key + 1:, key] += 4 * w[key + 1:].sum(axis=1) / np.arange(key + 2, n + 1)
    w /= w.sum(axis=1, keepdims=True)
    assert links_from_weights(w, LinkRule(top_k=2, causal=True)) == [300, 900]
    assert set(np.argsort(-received(w, causal=True))[:2]) == {300, 900}


def test_a_first_token_sink_is_found_in_a_long_prompt():
    """10 % more of every row on the first token is a sink at 1,000 tokens (uniform
    attention gives it 0.7 %), though not at 10 tokens (where it gives 20 %)."""
    for n, expected in ((1000, [0]), (10, [])):
        w = np.tril(np.ones((n, n)))
        w /= w.sum(axis=1, keepdims=True)
        w[1:] *= 0.9
        w[1:, 0] += 0.1
        assert sink_columns(["x"] * n, w, causal=True) == expected


@pytest.mark.parametrize("dpi", [150, 300])
def test_a_pdf_viewer_shows_the_sink_and_diagonal_in_every_row(dpi, tmp_path):
    """The 4,096-token PDF rasterised by poppler (a PDF viewer) at 150 and 300 dpi: sink
    column and diagonal darker than the row's median in >= 99 % of pixel rows; the cell
    image is pooled to 300 dpi of the printed size, by strongest colour."""
    import math
    import subprocess

    from conftest import need_tools

    need_tools("pdftoppm")
    d = Diagram.from_attention(_attention(4096), view="matrix", width="6.5in")
    cells = grid(d.scene())
    (tmp_path / "m.pdf").write_bytes(d.to_bytes("pdf"))
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(tmp_path / "m.pdf"),
                    str(tmp_path / "m")], check=True)
    image = np.asarray(Image.open(tmp_path / "m.png").convert("RGB"))
    # poppler starts the image on the pixel its left edge falls in
    sink, diagonal, rows = _visible(image, cells, dpi, math.floor)
    assert sink >= 0.99 * len(rows) and diagonal >= 0.99 * len(rows), (sink, diagonal, len(rows))
