"""Long sequences: raster matrices, label thinning, windows and pooling, and 512- and
4096-token attention in every view."""

from __future__ import annotations

import base64
import io
import itertools
import math
import re
import subprocess
from functools import lru_cache

import numpy as np
import pytest
from conftest import by_id, need, need_tools, parse
from invariants import violations
from models import with_grid
from PIL import Image
from renderers import CHROMIUM, render_all
from scenes import grid, grids, paths, rects, texts

from svgattn import Diagram, load_theme
from svgattn.analysis.reduce import pool
from svgattn.errors import SpecError
from svgattn.formats import PRINT_DPI
from svgattn.layout.labels import priority, thin
from svgattn.render.pdf_images import png_parts, substitute
from svgattn.scene import Text
from svgattn.sources import from_array
from svgattn.views.registry import get, load_all


@lru_cache(maxsize=2)
def real_looking(n: int, heads: int = 2) -> tuple[np.ndarray, tuple[str, ...]]:
    """Causal attention that looks like a language model's: a first-token sink, a
    previous-token head, a few content tokens that many queries read; words repeat."""
    rng = np.random.default_rng(n)
    out = np.empty((1, heads, n, n), dtype=np.float32)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    for h in range(heads):
        logits = rng.normal(0, 1, (n, n)).astype(np.float32)
        logits[:, 0] += 4 + h
        logits += np.where(i - j == h + 1, 3.0, 0.0).astype(np.float32)
        logits[:, rng.choice(n, 6, replace=False)] += 2.5
        logits = np.where(j <= i, logits, -np.inf)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        out[0, h] = e / e.sum(axis=1, keepdims=True)
    words = ["the", "model", "reads", "long", "prompts", "and", "attends", "to", "a", "few",
             "content", "words"]
    tokens = tuple(["<s>"] + [words[k % len(words)] for k in range(1, n)])
    return out, tokens


def attention(n: int):
    weights, tokens = real_looking(n)
    return from_array(weights, list(tokens))


def _png_of(svg: str) -> np.ndarray:
    m = re.search(r'href="data:image/png;base64,([^"]+)"', svg)
    assert m, "no embedded image"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(m.group(1)))).convert("RGB"))


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


# --- raster matrices -----------------------------------------------------------------------
def test_above_the_threshold_cells_are_one_image_of_the_cell_colours():
    """300 x 300 cells (over the default 16,384): one <image>, each cell an f x f block
    of exactly its colour on the scale (f the pre-scale for renderers that smooth)."""
    n = 300
    w = np.random.default_rng(0).random((n, n))
    d = Diagram.from_attention(from_array(w, [f"t{i}" for i in range(n)]), view="matrix")
    svg = d.to_svg()
    assert svg.count("<image") == 1 and "<rect" not in svg.split('-matrix"', 1)[1][:200]
    cells = grid(d.scene())
    assert cells.raster
    image = _png_of(svg)
    f = image.shape[0] // n
    assert image.shape == (n * f, n * f, 3) and f >= 2
    blocks = image.reshape(n, f, n, f, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()  # every block uniform: no smoothing
    expect = np.array([_rgb(c) for c in cells.colours])[cells.index]
    assert (blocks[:, 0, :, 0] == expect).all()


def test_vector_cells_on_request_and_raster_threshold_is_a_theme_key(tmp_path):
    n = 200
    w = np.random.default_rng(1).random((n, n))
    att = from_array(w, [f"t{i}" for i in range(n)])
    assert "<image" in Diagram.from_attention(att, view="matrix").to_svg()
    vector = Diagram.from_attention(att, view="matrix", cells="vector").to_svg()
    assert "<image" not in vector and grid(Diagram.from_attention(
        att, view="matrix", cells="vector").scene()).raster is False
    theme = tmp_path / "big.toml"
    theme.write_text('extends = "light"\n[matrix]\nraster_above = 50000\n')
    assert "<image" not in Diagram.from_attention(att, view="matrix", theme=theme).to_svg()
    small = from_array(np.eye(4), list("abcd"))
    assert "<image" in Diagram.from_attention(small, view="matrix", cells="raster").to_svg()
    assert load_theme("light")["matrix.raster_above"] == 16384


def test_raster_cells_are_crisp_in_cairosvg_librsvg_and_chromium(tmp_path):
    """A checkerboard of two colours, 4096 cells (raster on request), drawn 6 px a cell.
    cairosvg and Chromium draw nearest-neighbour (image-rendering): every pixel is one of
    the two colours. librsvg 2.54 smooths whatever it is told; the image is pre-scaled
    (8 pixels a cell) so the smoothing only softens cell edges: along a line through
    the cell centres at least 60 % of pixels are exact (a 1-pixel-a-cell image would be
    a gradient, exact only at the centres)."""
    need(CHROMIUM is not None, "Debian chromium")
    need_tools("rsvg-convert")
    n = 64
    w = (np.add.outer(np.arange(n), np.arange(n)) % 2).astype(float)
    d = Diagram([f"t{i}" for i in range(n)], w, cells="raster", theme="light")
    cells = grid(d.scene())
    scale = 6 / cells.cell_w
    images = render_all(d.to_svg(), scale, tmp_path)
    colours = np.array([_rgb(c) for c in cells.colours])
    low, high = colours[cells.index[0, 1]], colours[cells.index[0, 0]]
    x0, y0 = cells.x * scale, cells.y * scale
    for name, image in images.items():
        rgb = image[..., :3]
        for r, c in itertools.product(range(0, n, 7), range(0, n, 5)):
            y, x = int(y0 + (r + 0.5) * 6), int(x0 + (c + 0.5) * 6)
            want = low if (r + c) % 2 else high
            assert np.abs(rgb[y, x] - want).max() <= 2, (name, r, c, rgb[y, x], want)

        def exact(px: np.ndarray) -> np.ndarray:
            return (np.abs(px - low).max(axis=-1) <= 2) | (np.abs(px - high).max(axis=-1) <= 2)

        inner = rgb[int(y0) + 1:int(y0 + n * 6) - 1, int(x0) + 1:int(x0 + n * 6) - 1]
        line = rgb[int(y0 + 2.5 * 6), int(x0) + 1:int(x0 + n * 6) - 1]
        if name == "rsvg":
            assert exact(line).mean() > 0.6, exact(line).mean()
        else:
            assert exact(inner).mean() > 0.97, (name, exact(inner).mean())


def test_pdf_embeds_the_png_rows_as_an_indexed_image(tmp_path):
    """The PDF's image is the matrix's cells, indexed, not interpolated, at one pixel a
    cell up to 300 dpi of the printed size (finer cells pooled k x k by their strongest
    colour); poppler draws it with the scale's colours."""
    need_tools("pdfimages", "pdftoppm")
    n = 2048
    w = np.tile(np.linspace(0, 1, n), (n, 1))
    d = Diagram.from_attention(from_array(w, [f"t{i}" for i in range(n)]), view="matrix",
                               width="6.5in")
    path = d.save(tmp_path / "m.pdf")
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert len(listing) == 1
    cols = listing[0].split()
    cells = grid(d.scene())
    k = math.ceil(1 / (cells.cell_w * PRINT_DPI / 72))  # 2,048 cells in about 5.5 in: 2
    side = str(math.ceil(n / k))
    assert k == 2 and (cols[3], cols[4], cols[5], cols[9]) == (side, side, "index", "no")
    assert path.read_bytes() == d.to_bytes("pdf")  # deterministic
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path),
                    str(tmp_path / "m")], check=True)
    page = np.asarray(Image.open(tmp_path / "m.png").convert("RGB")).astype(int)
    k = 100 / 72
    y = int((cells.y + cells.box.h / 2) * k)
    for frac in (0.1, 0.5, 0.9):
        x = int((cells.x + frac * cells.box.w) * k)
        c = int(frac * n)
        want = _rgb(cells.colours[cells.index[n // 2, c]])
        assert np.abs(page[y, x] - want).max() <= 6, (frac, page[y, x], want)


def test_pdf_image_substitution_refuses_what_it_cannot_find():
    """No placeholder in the PDF: ``None`` (the caller then lets cairo draw the image)."""
    pdf = Diagram(["a", "b"], np.eye(2)).to_bytes("pdf")
    png = _png_bytes(np.zeros((2, 2), np.uint8))
    assert substitute(pdf, [png]) is None
    assert png_parts(png)[:2] == (2, 2)


def _png_bytes(index: np.ndarray) -> bytes:
    from svgattn.render.raster import indexed_png

    return indexed_png(index, ("#000000", "#ffffff"))


# --- labels --------------------------------------------------------------------------------
def test_thinning_keeps_round_strides_and_never_collides():
    assert thin(10, 12.0, 10.0) == list(range(10))
    assert thin(512, 1.0, 11.0) == list(range(0, 512, 20))  # 11 -> the round stride 20
    assert thin(100, 1.0, 3.0, every=7) == list(range(0, 100, 7))
    picked = thin(100, 1.0, 5.0, only=[50, 52, 10, 99, 56, 3])
    assert picked == [3, 10, 50, 56, 99]  # 52 touches 50, chosen first
    for n, pitch, need_ in itertools.product((7, 100, 4096), (0.3, 1.0, 9.0), (2.0, 11.0)):
        shown = thin(n, pitch, need_)
        assert all((b - a) * pitch >= need_ - 1e-9 for a, b in itertools.pairwise(shown))


def test_labels_option_every_top_and_named_tokens():
    w = np.zeros((6, 6))
    w[:, 4] = 1
    w[:, 2] = 0.5
    data = Diagram(["a", "b", "c", "d", "e", "f"], w, view="matrix").data
    assert priority("every:3", data, 1, "x") == (None, 3)
    assert priority("top:2", data, 1, "x") == ([4, 2], None)
    assert priority("f, 1", data, 1, "x") == ([5, 1], None)
    assert priority(None, data, 1, "x") == (None, None)
    with pytest.raises(SpecError, match="'zz' is not one of the tokens"):
        priority("zz", data, 1, "matrix view")


def test_positions_mean_the_same_token_with_a_window():
    """A window shows tokens 100-199: --focus 150 and --labels 150 name token 150 (the
    51st row shown), and a token outside the window is a clear error."""
    att = attention(512)
    shown = Diagram.from_attention(att, view="lines", window="100:200", focus=150, heads="0")
    assert shown.data.index(150, "focus", "x") == 50
    assert shown.data.query_spans[50] == (150, 151)
    scene = Diagram.from_attention(att, view="matrix", window="100:200",
                                   labels="100,150").scene()
    assert sorted(int(t.id.rsplit("-", 1)[1]) for t in texts(scene, "col-label")) == [0, 50]
    with pytest.raises(SpecError, match="token 250 is outside the tokens shown"):
        Diagram.from_attention(att, view="text", window="100:200", focus=250).scene()
    pooled = Diagram.from_attention(att, view="matrix", pool="8", heads="0")
    assert pooled.data.index(21, "focus", "x") == 2  # tokens 16-23 are the third block


def test_rollout_with_a_window_is_the_window_of_the_rollout():
    att = attention(256)
    full = Diagram.from_attention(att, view="matrix", combine="rollout")
    part = Diagram.from_attention(att, view="matrix", combine="rollout", window="64:128")
    np.testing.assert_allclose(part.data.matrix, full.data.matrix[64:128, 64:128], atol=1e-12)
    assert "of the rollout over every token" in " ".join(part.data.caption)


def test_pooling_coarser_than_the_tokens_is_refused():
    att = attention(300)
    with pytest.raises(SpecError, match="pool: blocks of 4096 are not smaller than the 300"):
        Diagram.from_attention(att, view="matrix", pool="4096")
    with pytest.raises(SpecError, match="not smaller than the 100 tokens of the window"):
        Diagram.from_attention(att, view="matrix", window="0:100", pool="max:100")


def test_named_labels_are_drawn_and_others_are_not():
    att = attention(512)
    scene = Diagram.from_attention(att, view="matrix", labels="0,100,<s>,300").scene()
    cols = sorted(int(t.id.rsplit("-", 1)[1]) for t in texts(scene, "col-label"))
    assert cols == [0, 100, 300]


def test_type_never_goes_below_the_minimum_and_labels_thin_first():
    """4096 tokens in a 3.25in column: every label at the theme's size (at least
    text.min_size), none overlapping, the caption says how many are labelled."""
    att = attention(4096)
    scene = Diagram.from_attention(att, view="matrix", width="3.25in", theme="paper",
                                   caption="full").scene()
    theme = load_theme("paper")
    assert min(t.label.size for t in scene.find(Text)) >= theme["text.min_size"] - 1e-9
    rows = texts(scene, "row-label")
    assert 3 <= len(rows) < 100
    assert all(a.bbox.bottom <= b.bbox.y for a, b in itertools.pairwise(rows))
    assert violations(scene) == []
    caption = " ".join(t.label.text for t in texts(scene, "caption"))
    assert f"{len(rows)} of 4096 rows labelled" in caption


# --- window and pool -----------------------------------------------------------------------
def test_window_selects_tokens_and_the_caption_says_so():
    att = attention(512)
    d = Diagram.from_attention(att, view="matrix", window="100:164")
    assert d.data.matrix.shape == (64, 64)
    assert d.data.query_tokens[0] == att.query_tokens[100]
    caption = " ".join(t.label.text for t in texts(d.scene(), "caption"))
    assert "tokens 100\u2013163 of 512" in caption.lower()


def test_pool_means_or_maxes_blocks_and_labels_name_the_ranges():
    att = attention(512)
    mean = Diagram.from_attention(att, view="matrix", pool="8", heads="0")
    peak = Diagram.from_attention(att, view="matrix", pool="max:8", heads="0")
    head = np.asarray(att.weights[-1, 0], dtype=np.float64)
    assert mean.data.matrix.shape == (64, 64)
    assert mean.data.matrix[3, 2] == pytest.approx(head[24:32, 16:24].mean())
    assert peak.data.matrix[3, 2] == pytest.approx(head[24:32, 16:24].max())
    assert mean.data.query_tokens[1] == "8\u201315"
    assert mean.data.query_labels[1] == f"{att.query_tokens[8]} 8\u201315"
    both = Diagram.from_attention(att, view="matrix", window="100:164", pool="8")
    assert both.data.query_tokens[:2] == ("100\u2013107", "108\u2013115")
    caption = " ".join(t.label.text for t in texts(peak.scene(), "caption"))
    assert "pooled: max over 8x8 token blocks" in caption.lower()
    ragged = pool(np.arange(20.0).reshape(4, 5), 3, "mean")
    assert ragged.shape == (2, 2) and ragged[1, 1] == pytest.approx(np.mean([18, 19]))


# --- every view at 512 and 4096 tokens -------------------------------------------------------
@pytest.mark.parametrize("n", [512, 4096])
@pytest.mark.parametrize("view", sorted(load_all()))
def test_every_view_draws_long_real_looking_attention(view, n):
    """Clean layouts (inside the canvas, nothing overlapping), files under 10 MB, and
    what each view does about length."""
    source = attention(n)
    if get(view).vectors:  # the neuron view explains weights by the q and k they came from
        from vectors import causal

        weights, q, k = causal(n, kv_heads=1)
        source = from_array(weights, list(real_looking(n)[1]), queries=q, keys=k)
    d = Diagram.from_attention(with_grid(source, view), view=view, width="6.5in")
    scene = d.scene()
    assert violations(scene) == [], view
    svg = d.to_svg()
    assert len(svg.encode()) < 10_000_000
    parse(svg)
    if view in ("flow", "matrix"):
        assert grid(scene).raster
        labelled = texts(scene, "col-label")
        assert 3 <= len(labelled) <= 60
    if view == "flow":  # only the linked tokens are nodes, each led to its row
        nodes, leaders = rects(scene, "node"), paths(scene, "leader")
        assert 1 <= len(nodes) <= 16 and len(leaders) == len(nodes)
    if view == "lines":  # each head's 12 strongest lines; tokens named with positions
        heads = len(d.data.heads)
        assert 1 <= len(paths(scene, "target")) <= heads * 12
        listed = texts(scene, "query-label")
        assert len(listed) <= 2 * heads * 12
        assert all(" \u00b7" in t.label.text for t in listed)
    if view == "grid":
        assert all(g.index.shape[0] <= 128 for g in grids(scene))


def test_a_long_flow_figure_joins_nodes_to_their_own_rows():
    from scenes import flow_violations

    scene = Diagram.from_attention(attention(512), view="flow", width="6.5in").scene()
    assert flow_violations(scene) == []
    root = parse(Diagram.from_attention(attention(512), view="flow").to_svg())
    assert any(k.startswith("leader-") for k in by_id(root))
