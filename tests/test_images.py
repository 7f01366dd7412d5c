"""Attention over images: patch grids in the data model, pictures as untrusted input, the
image and words views (checked through the SVG, the CSV and the PDF), and vision models
run on tiny random configs built offline."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import svgattn
from svgattn import Diagram
from svgattn.analysis.patch_maps import dino_mask, outline
from svgattn.errors import SpecError
from svgattn.photo import read_image, read_image_bytes
from svgattn.sources.arrays import from_array

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
ROWS, COLS, PREFIX = 6, 9, 5  # [CLS], four registers, then 6 x 9 patches
HOT = (2, 7)


def _photo(h: int = 120, w: int = 180) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 90)], -1).astype(np.uint8)


def _held_out() -> tuple[np.ndarray, list[str]]:
    """CLS attends 30 % to the registers, and most of the rest to patch HOT."""
    n = PREFIX + ROWS * COLS
    rng = np.random.default_rng(3)
    a = rng.dirichlet(np.ones(n), size=(2, 3, n))
    cls = np.full(n, 0.2 / (ROWS * COLS))
    cls[1:PREFIX] = 0.3 / 4
    cls[0] = 0.0
    cls[PREFIX + HOT[0] * COLS + HOT[1]] += 0.5
    a[:, :, 0] = cls / cls.sum()
    tokens = ["[CLS]"] + [f"[REG{i}]" for i in range(4)] + \
        [f"{r},{c}" for r in range(ROWS) for c in range(COLS)]
    return a.astype(np.float32), tokens


def _attention(**extra: object) -> svgattn.Attention:
    a, tokens = _held_out()
    return from_array(a, tokens, grid=[ROWS, COLS], patch_start=PREFIX, image=_photo(),
                      **extra)


def _words(svg: str) -> str:
    """The figure's text, its lines joined (a caption wraps between words)."""
    return " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))


def _tooltips(svg: str, group: str) -> dict[tuple[int, int], tuple[float, tuple[float, ...]]]:
    """(row, col) -> (weight, (x, y, w, h)) of the patch cells in group ``group``."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if not g.get("id", "").endswith(group):
            continue
        for rect in g.iter(f"{SVG}rect"):
            title = rect.find(f"{SVG}title")
            m = re.fullmatch(r"(?:.* )?patch \((\d+), (\d+)\): (\S+)",
                             title.text if title is not None else "")
            if m:
                out[int(m[1]), int(m[2])] = (float(m[3]), tuple(
                    float(rect.get(k)) for k in ("x", "y", "width", "height")))
    return out


def test_cls_row_with_registers_hot_patch_and_tiling() -> None:
    d = Diagram.from_attention(_attention(), view="image", heads=[0])
    svg = d.to_svg()
    root = ET.fromstring(svg)
    images = list(root.iter(f"{SVG}image"))
    assert len(images) == 1  # the photo, once
    box = tuple(float(images[0].get(k)) for k in ("x", "y", "width", "height"))
    assert images[0].get(f"{XLINK}href").startswith("data:image/png;base64,")
    cells = _tooltips(svg, "main-cells")
    assert len(cells) == ROWS * COLS
    hot = max(cells, key=lambda k: cells[k][0])
    assert hot == HOT
    # the weights drawn are the layer's attention of CLS to each patch (float32 data)
    a, _ = _held_out()
    for (r, c), (weight, _) in cells.items():
        assert weight == pytest.approx(float(a[-1, 0, 0, PREFIX + r * COLS + c]), rel=1e-3)
    # cells tile the photo exactly: edges on the photo's, each patch w/cols x h/rows
    x0, y0, w, h = box
    for (r, c), (_, (x, y, cw, ch)) in cells.items():
        assert x == pytest.approx(x0 + c * w / COLS, abs=0.01)
        assert y == pytest.approx(y0 + r * h / ROWS, abs=0.01)
        assert (cw, ch) == (pytest.approx(w / COLS, abs=0.01), pytest.approx(h / ROWS, abs=0.01))
    assert w / h == pytest.approx(180 / 120, rel=1e-3)
    # over the photo: each cell's own colour at the stated opacity (no group opacity, which
    # LibreOffice would apply twice), the strongest cell in the map's strongest colour
    cells_group = next(g for g in root.iter(f"{SVG}g") if g.get("id", "").endswith("main-cells"))
    assert cells_group.get("opacity") is None
    fills = {r.get("fill-opacity") for r in cells_group.iter(f"{SVG}rect")}
    assert fills == {"0.6"}
    hottest = next(r for r in cells_group.iter(f"{SVG}rect")
                   if r.find(f"{SVG}title").text.startswith(f"patch ({HOT[0]}, {HOT[1]})"))
    assert hottest.get("fill") == "#fcfdbf"  # magma's top
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    # registers: 30 % of CLS's attention, and not on the colour scale
    assert "30% of [CLS]'s attention goes to tokens outside the grid" in text
    assert "[REG0] 7.5%" in text


def test_heads_are_small_multiples_with_their_mean() -> None:
    svg = Diagram.from_attention(_attention(), view="image").to_svg()
    a, _ = _held_out()
    mean = _tooltips(svg, "main-cells")
    for h in range(3):
        head = _tooltips(svg, f"head-{h}-cells")
        assert len(head) == ROWS * COLS
        assert head[1, 1][0] == pytest.approx(float(a[-1, h, 0, PREFIX + COLS + 1]), rel=1e-3)
    expected = a[-1, :, 0, PREFIX + COLS + 1].mean()
    assert mean[1, 1][0] == pytest.approx(float(expected), rel=1e-3)
    assert len(list(ET.fromstring(svg).iter(f"{SVG}image"))) == 1


def test_focus_by_patch_and_mask_count_recomputed() -> None:
    a, _ = _held_out()
    d = Diagram.from_attention(_attention(), view="image", heads=[1], focus="3,4", mask=0.6)
    rows = list(csv.reader(io.StringIO(d.to_csv().decode())))
    assert rows[0] == ["row", "col", "weight", "in_mask"]
    body = rows[1:]
    assert len(body) == ROWS * COLS
    weights = a[-1, 1, PREFIX + 3 * COLS + 4, PREFIX:]
    for r, c, w, _ in body:
        assert float(w) == pytest.approx(float(weights[int(r) * COLS + int(c)]), rel=1e-6)
    kept = {(int(r), int(c)) for r, c, _, m in body if m == "1"}
    order = np.argsort(-weights)
    share = np.cumsum(weights[order]) / weights.sum()
    count = int(np.argmax(share >= 0.6)) + 1  # the fewest patches holding 60 %
    assert len(kept) == count
    assert kept == {divmod(int(i), COLS) for i in order[:count]}
    svg = d.to_svg()
    outlines = [p for p in ET.fromstring(svg).iter(f"{SVG}path")
                if "mask" in p.get("class", "")]
    assert outlines  # drawn along patch edges: every vertex on the grid
    image = next(ET.fromstring(svg).iter(f"{SVG}image"))
    x0, y0 = float(image.get("x")), float(image.get("y"))
    cw, ch = float(image.get("width")) / COLS, float(image.get("height")) / ROWS
    for p in outlines:
        for x, y in re.findall(r"([\d.]+) ([\d.]+)", p.get("d")):
            assert (float(x) - x0) / cw == pytest.approx(round((float(x) - x0) / cw), abs=1e-3)
            assert (float(y) - y0) / ch == pytest.approx(round((float(y) - y0) / ch), abs=1e-3)


def test_mask_outline_merges_patches() -> None:
    mask = np.zeros((4, 4), dtype=bool)
    mask[1:3, 1:3] = True  # one 2 x 2 region: one loop of 4 corners
    assert outline(mask) == [[(1, 1), (3, 1), (3, 3), (1, 3)]]
    mask[0, 3] = True  # a second region
    assert len(outline(mask)) == 2
    values = np.array([[0.5, 0.1], [0.3, 0.1]])
    assert dino_mask(values, 0.6).tolist() == [[True, False], [True, False]]


def test_several_heads_masks_one_colour_each_over_one_photo() -> None:
    d = Diagram.from_attention(_attention(), view="image", mask=0.6)
    root = ET.fromstring(d.to_svg())
    strokes = {p.get("stroke") for p in root.iter(f"{SVG}path") if "mask" in p.get("class", "")
               and p.get("id", "").split("-")[1] == "main"}
    assert len(strokes) == 3
    assert len(list(root.iter(f"{SVG}image"))) == 1


def test_rollout_and_smoothing_are_stated() -> None:
    d = Diagram.from_attention(_attention(), view="image", combine="rollout", smooth=True)
    root = ET.fromstring(d.to_svg())
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "rollout" in text.lower()
    assert "Smoothed for display" in text
    assert len(list(root.iter(f"{SVG}image"))) == 2  # the photo and the smoothed map


def test_norms_drawn_as_a_map() -> None:
    a, tokens = _held_out()
    norms = np.ones(len(tokens))
    norms[PREFIX + 7] = 9.0  # a high-norm patch (0, 7)
    att = from_array(a, tokens, grid=[ROWS, COLS], patch_start=PREFIX, norms=norms)
    svg = Diagram.from_attention(att, view="image", heads=[0]).to_svg()
    cells = _tooltips(svg, "norms-cells")
    assert max(cells, key=lambda k: cells[k][0]) == (0, 7)


def test_every_format_and_theme_is_deterministic(tmp_path: Path) -> None:
    for theme in ("light", "paper", "slides", "dark"):
        d = Diagram.from_attention(_attention(), view="image", theme=theme)
        for fmt in ("svg", "pdf", "png", "eps"):
            assert d.to_bytes(fmt) == d.to_bytes(fmt), (theme, fmt)


def test_a_jpeg_stays_a_jpeg_in_the_pdf(tmp_path: Path) -> None:
    import pikepdf

    path = tmp_path / "photo.jpg"
    Image.fromarray(_photo()).save(path, quality=85)
    a, tokens = _held_out()
    att = from_array(a, tokens, grid=[ROWS, COLS], patch_start=PREFIX, image=path)
    pdf = Diagram.from_attention(att, view="image", heads=[0]).to_bytes("pdf")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        jpegs = [o for o in doc.objects if isinstance(o, pikepdf.Stream)
                 and o.get("/Subtype") == pikepdf.Name.Image
                 and o.get("/Filter") == pikepdf.Name.DCTDecode]
        assert len(jpegs) == 1
        assert jpegs[0].read_raw_bytes() == path.read_bytes()
    svg = Diagram.from_attention(att, view="image", heads=[0]).to_svg()
    assert svg.count("data:image/jpeg;base64,") == 1


def test_words_view_maps_known_regions_of_diffusion_arrays(tmp_path: Path) -> None:
    rows = cols = 8
    words = ["<|startoftext|>", "a", "cat", "on", "grass", "<|endoftext|>", "<|endoftext|>"]
    yy, xx = np.mgrid[0:rows, 0:cols]
    rng = np.random.default_rng(0)
    a = rng.random((4, 2, 3, rows * cols, len(words))) * 0.05  # [steps, layers, heads, px, tok]
    a[..., 2] += ((yy == 2) & (xx == 5)).ravel()  # "cat" at (2, 5)
    a[..., 4] += (yy == 7).ravel()  # "grass" along the bottom row
    a[..., 0] += 1.0
    a /= a.sum(-1, keepdims=True)
    np.savez(tmp_path / "d.npz", attentions=a.astype(np.float32), key_tokens=np.array(words),
             query_tokens=np.array([f"px{i}" for i in range(rows * cols)]),
             grid=np.array([rows, cols]), grid_axis=np.array("query"),
             image=_photo(64, 64))
    out = tmp_path / "w.csv"
    run = subprocess.run([sys.executable, "-m", "svgattn", "render", str(tmp_path / "d.npz"),
                          "--view", "words", "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = list(csv.reader(io.StringIO(out.read_text())))
    assert lines[0] == ["word_index", "word", "row", "col", "weight"]
    table = lines[1:]
    assert {r[1] for r in table} == {"a", "cat", "on", "grass"}  # specials dropped
    assert len(table) == 4 * rows * cols
    mean = a.mean(axis=(0, 1, 2))  # steps, layers, heads
    cat = {(int(r[2]), int(r[3])): float(r[4]) for r in table if r[1] == "cat"}
    assert max(cat, key=cat.get) == (2, 5)
    assert cat[2, 5] == pytest.approx(float(mean[2 * cols + 5, 2]), rel=1e-4)
    grass = {(int(r[2]), int(r[3])): float(r[4]) for r in table if r[1] == "grass"}
    assert min(v for (r, _), v in grass.items() if r == 7) > max(
        v for (r, _), v in grass.items() if r < 7)
    svg = Diagram.from_attention(
        svgattn.sources.arrays.load_file(tmp_path / "d.npz"), view="words", specials=True
    ).to_svg()
    assert "Mean over 4 denoising steps" in svg
    assert "&lt;|startoftext|&gt;" in svg


def test_vlm_span_maps_a_text_token_onto_the_grid() -> None:
    # a VLM's sequence: text, 3 x 4 image tokens, text; token 17 looks at patch (1, 2)
    text = ["<s>", "USER", ":"]
    tokens = text + [f"img{i}" for i in range(12)] + ["what", "is", "it", "?"]
    n = len(tokens)
    a = np.tril(np.ones((n, n)))
    a[17, :] = 0.01 * np.tril(np.ones(n))[17]
    a[17, 3 + 1 * 4 + 2] = 1.0
    a /= a.sum(-1, keepdims=True)
    att = from_array(a[None, None], tokens, grid=[3, 4], patch_start=3)
    rows = list(csv.reader(io.StringIO(
        Diagram.from_attention(att, view="image", focus="it").to_csv().decode())))
    best = max(rows[1:], key=lambda r: float(r[2]))
    assert (int(best[0]), int(best[1])) == (1, 2)
    words = Diagram.from_attention(att, view="words").to_csv().decode().splitlines()
    assert {r.split(",")[1] for r in words[1:]} == {"what", "is", "it", "?"}


@pytest.mark.parametrize("kind, prefix", [("vit", ["[CLS]"]),
                                          ("dinov2reg", ["[CLS]", "[REG0]", "[REG1]",
                                                         "[REG2]", "[REG3]"]),
                                          ("siglip", [])])
def test_tiny_vision_models_through_the_cli(kind: str, prefix: list[str],
                                            tmp_path: Path) -> None:
    from tiny_models import vision_folder

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo(48, 64)).save(photo)
    out = tmp_path / "map.csv"
    run = subprocess.run([sys.executable, "-m", "svgattn", "model", str(vision_folder(kind)),
                          "--image", str(photo), "--view", "image", "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 16  # 4 x 4 patches of 8 pixels
    assert [tuple(map(int, r.split(",")[:2])) for r in rows] == [(r, c) for r in range(4)
                                                                 for c in range(4)]
    svg = _words(subprocess.run([sys.executable, "-m", "svgattn", "model",
                                 str(vision_folder(kind)), "--image", str(photo), "--view",
                                 "image", "-o", "-"], capture_output=True, text=True,
                                check=True).stdout)
    if prefix:
        assert f"of {prefix[0]}'s attention goes to tokens outside the grid" in svg
    else:
        assert "mean of their rows" in svg  # SigLIP has no CLS
    if kind == "dinov2reg":  # a short-edge resize and a centre crop: the part drawn
        assert "keeps the centre 48 x 48 pixels of the 64 x 48 picture" in svg


def test_llava_image_tokens_mapped_back_to_the_grid(tmp_path: Path) -> None:
    from tiny_models import vision_folder

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo(40, 40)).save(photo)
    d = Diagram.from_model(vision_folder("llava"), "USER : <image> what is in the picture ?",
                           image=str(photo), view="image", focus="?")
    assert d.data.patches is not None
    assert d.data.patches.tokens.tolist() == [[3 + 4 * r + c for c in range(4)]
                                              for r in range(4)]
    rows = d.to_csv().decode().splitlines()[1:]
    assert len(rows) == 16
    weights = np.array([float(r.split(",")[2]) for r in rows])
    assert 0 < weights.sum() <= 1 + 1e-5


def test_llava_next_tiles_mapped_back_to_the_high_resolution_grid(tmp_path: Path) -> None:
    """A 40 x 56 picture in 32-pixel tiles of 4 x 4 patches: a 4 x 4 base grid, then the
    2 x 2 tiles stitched (8 x 8) with the padding removed (6 x 8), a newline after each
    row: 16 + 6 * 9 = 70 image tokens, the map the 6 x 8 grid over the whole picture."""
    from tiny_models import vision_folder

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo(40, 56)).save(photo)
    d = Diagram.from_model(vision_folder("llava_next"), "USER : <image> what is this ?",
                           image=str(photo), view="image")
    grid = d.data.patches.tokens
    assert grid.shape == (6, 8)
    assert grid[0].tolist() == list(range(3 + 16, 3 + 16 + 8))
    assert grid[1, 0] == 3 + 16 + 9  # after row 0's newline token
    tokens = d.data.query_tokens
    assert tokens[3] == "base 0,0" and tokens[3 + 16 + 8] == "<newline>"
    # the whole picture, centred on a grey band where the last patch row is padding
    drawn = d.data.patches.photo
    assert drawn.size == (56, 42)
    assert (drawn.pixels[0] == 128).all() and (drawn.pixels[1:41] == _photo(40, 56)).all()
    assert "drawn padded to 56 x 42 pixels" in _words(d.to_svg())
    rows = d.to_csv().decode().splitlines()[1:]
    assert len(rows) == 48


# --- untrusted pictures --------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "svgattn", *args], capture_output=True,
                          text=True)


def _npz(tmp_path: Path) -> Path:
    a, tokens = _held_out()
    np.savez(tmp_path / "vit.npz", attentions=a, tokens=np.array(tokens),
             grid=np.array([ROWS, COLS]), patch_start=np.array(PREFIX))
    return tmp_path / "vit.npz"


@pytest.mark.parametrize("name, data, expect", [
    ("truncated.jpg", None, "damaged or truncated"),
    ("junk.png", b"\x89PNG\r\n\x1a\nnot really", "damaged or truncated"),
    ("text.png", b"hello, not a picture", "not an image"),
    ("empty.jpg", b"", "not an image"),
])
def test_corrupt_images_are_one_line_errors(tmp_path: Path, name: str, data: bytes | None,
                                            expect: str) -> None:
    if data is None:
        buf = io.BytesIO()
        Image.fromarray(_photo()).save(buf, "JPEG")
        data = buf.getvalue()[:600]
    (tmp_path / name).write_bytes(data)
    out = tmp_path / "out.svg"
    run = _cli("render", str(_npz(tmp_path)), "--view", "image", "--image",
               str(tmp_path / name), "-o", str(out))
    assert run.returncode == 2
    assert expect in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr and not out.exists()


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)  # a few kB claiming 400 megapixels
    assert bomb.stat().st_size < 200_000
    with pytest.raises(SpecError, match=r"megapixels.*exceed the limit of 100"):
        read_image(bomb)
    with svgattn.limits.override(megapixels=0.01), pytest.raises(SpecError, match="megapixels"):
        read_image_bytes(_png(_photo()))


def _png(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, "PNG")
    return buf.getvalue()


def test_picture_modes_exif_16_bit_and_palette() -> None:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown 90 degrees clockwise
    Image.fromarray(_photo(40, 60)).save(buf, "JPEG", exif=exif)
    photo = read_image_bytes(buf.getvalue())
    assert photo.size == (40, 60) and photo.jpeg is None  # upright, so not the file's bytes
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    grey = read_image_bytes(_png(ramp))
    assert len(np.unique(grey.pixels[..., 0])) == 256  # scaled, not clipped
    palette = Image.new("P", (8, 8))
    palette.putpalette([255, 0, 0] * 256)
    buf = io.BytesIO()
    palette.save(buf, "PNG", transparency=0)
    assert read_image_bytes(buf.getvalue()).pixels[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize("args, expect", [
    (["--grid", "7x9"], "grid: 7 x 9 = 63 patches from patch_start 5 need 68 key tokens"),
    (["--grid", "seven"], "is not a grid"),
    (["--grid-axis", "pixels"], "invalid choice"),
])
def test_mismatched_grids_are_one_line_errors(tmp_path: Path, args: list[str],
                                              expect: str) -> None:
    run = _cli("render", str(_npz(tmp_path)), "--view", "image", *args, "-o",
               str(tmp_path / "o.svg"))
    assert run.returncode == 2 and expect in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_picture_that_does_not_fit_the_grid(tmp_path: Path) -> None:
    Image.fromarray(_photo(100, 100)).save(tmp_path / "square.png")
    run = _cli("render", str(_npz(tmp_path)), "--view", "image", "--image",
               str(tmp_path / "square.png"), "-o", str(tmp_path / "o.svg"))
    assert run.returncode == 2
    assert "100 x 100 pixels do not fit a 6 x 9 grid" in run.stderr


def test_views_without_a_grid_say_how_to_give_one() -> None:
    a, tokens = _held_out()
    for view in ("image", "words"):
        with pytest.raises(SpecError, match=r"grid: the .* view draws attention over a grid"):
            Diagram.from_attention(from_array(a, tokens), view=view)


def test_spec_pairs_an_array_file_with_a_picture(tmp_path: Path) -> None:
    _npz(tmp_path)
    Image.fromarray(_photo()).save(tmp_path / "photo.png")
    (tmp_path / "fig.toml").write_text('attention = "vit.npz"\nimage = "photo.png"\n'
                                       'view = "image"\nheads = [2]\n')
    svg = Diagram.from_spec(tmp_path / "fig.toml").to_svg()
    assert svg.count("<image") == 1
    (tmp_path / "bad.toml").write_text('attention = "vit.npz"\nimage = "../photo.png"\n'
                                       'view = "image"\n')
    with pytest.raises(SpecError, match=r"image: .* inside the spec.s folder"):
        Diagram.from_spec(tmp_path / "bad.toml")


# --- what a review found ---------------------------------------------------------------------

def test_differences_are_refused_and_thumbnail_tooltips_name_their_head() -> None:
    with pytest.raises(SpecError, match="cannot draw a difference"):
        Diagram.from_attention(_attention(), view="image", minus=_attention())
    svg = Diagram.from_attention(_attention(), view="image").to_svg()
    assert re.search(r"<title>L1 H2 patch \(0, 0\): [\d.e-]+</title>", svg)


def test_twelve_heads_labelled_without_overlap() -> None:
    """A ViT-B layer: twelve thumbnails, two rows, each named by its head (the layer is the
    main panel's), nothing overlapping, everything inside the canvas."""
    from invariants import violations

    rng = np.random.default_rng(5)
    n = PREFIX + ROWS * COLS
    a = rng.dirichlet(np.ones(n), size=(1, 12, n))
    _, tokens = _held_out()
    att = from_array(a, tokens, grid=[ROWS, COLS], patch_start=PREFIX, image=_photo())
    for width in (None, "3.25in", "6.5in"):
        scene = Diagram.from_attention(att, view="image", width=width).scene()
        assert violations(scene) == [], width
        names = [t.label.text for t in scene.walk() if getattr(t, "role", "") == "panel-title"]
        assert {"H0", "H11"} <= set(names)


def test_cross_attention_text_queries_over_image_keys() -> None:
    # 3 text queries attend to [CLS] + 2 x 3 patches (an mllama-style cross-attention)
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(7), size=(1, 2, 3))
    a[0, :, 1, 1 + 1 * 3 + 2] += 3  # "cat" looks at patch (1, 2)
    a /= a.sum(-1, keepdims=True)
    keys = ["[CLS]"] + [f"{r},{c}" for r in range(2) for c in range(3)]
    att = from_array(a, query_tokens=["a", "cat", "sat"], key_tokens=keys, grid=[2, 3],
                     patch_start=1)
    rows = list(csv.reader(io.StringIO(
        Diagram.from_attention(att, view="image", focus="cat").to_csv().decode())))
    assert max(rows[1:], key=lambda r: float(r[2]))[:2] == ["1", "2"]
    svg = _words(Diagram.from_attention(att, view="image", focus="cat").to_svg())
    assert "Attention of cat over the 2 x 3 patches" in svg
    words = Diagram.from_attention(att, view="words").to_csv().decode().splitlines()
    assert {r.split(",")[1] for r in words[1:]} == {"a", "cat", "sat"}
    assert "every query (their mean)" in _words(
        Diagram.from_attention(att, view="image").to_svg())


def test_a_vlm_figure_defaults_to_its_last_token() -> None:
    tokens = ["<s>", "look"] + [f"img{i}" for i in range(4)] + ["what", "?"]
    n = len(tokens)
    a = np.tril(np.ones((n, n)))
    a /= a.sum(-1, keepdims=True)
    att = from_array(a[None, None], tokens, grid=[2, 2], patch_start=2)
    svg = _words(Diagram.from_attention(att, view="image").to_svg())
    assert "Attention of ? over the 2 x 2 patches" in svg


def test_words_named_on_diffusion_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.dirichlet(np.ones(3), size=(2, 1, 2, 16))  # [steps, layers, heads, px, tokens]
    np.save(tmp_path / "d.npy", a.astype(np.float32))
    out = tmp_path / "w.csv"
    run = _cli("render", str(tmp_path / "d.npy"), "--view", "words", "--grid", "4x4",
               "--grid-axis", "query", "--tokens", ",".join(f"t{i}" for i in range(16)),
               "-o", str(out))
    assert run.returncode == 2 and "tokens" in run.stderr  # one list: queries 16, keys 3
    np.savez(tmp_path / "d.npz", attentions=a.astype(np.float32),
             query_tokens=np.array([f"p{i}" for i in range(16)]),
             key_tokens=np.array(["sun", "over", "sea"]))
    run = _cli("render", str(tmp_path / "d.npz"), "--view", "words", "--grid", "4x4",
               "--grid-axis", "query", "--words", "sea", "-o", str(out))
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader(io.StringIO(out.read_text())))[1:]
    assert {r[1] for r in rows} == {"sea"} and len(rows) == 16
    mean = a.mean(axis=(0, 1, 2))  # steps, layers, heads
    assert float(rows[5][4]) == pytest.approx(float(mean[5, 2]), rel=1e-5)


def test_jpeg_stays_jpeg_when_cropped_and_loses_its_metadata() -> None:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    Image.fromarray(_photo()).save(buf, "JPEG", exif=exif)
    photo = read_image_bytes(buf.getvalue() + b"trailing bytes")
    assert photo.jpeg is not None and b"SecretCamera" not in photo.jpeg
    assert b"trailing" not in photo.jpeg
    decoded = np.asarray(Image.open(io.BytesIO(photo.jpeg)).convert("RGB"))
    assert np.array_equal(decoded, photo.pixels)  # the same picture, losslessly
    mime, data = photo.cropped(10, 10, 100, 70).encoded(2000, 2000)
    assert mime == "image/jpeg" and data[:2] == b"\xff\xd8"
