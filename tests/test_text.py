"""Fonts, metrics, scripts and the two text modes."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pytest
from conftest import SVG_NS, by_id, parse
from scenes import rects, texts

from svgattn import Diagram, FontError, Head, load_theme
from svgattn.text.fonts import FontWarning, install_hint, resolve_family
from svgattn.text.metrics import _advance_sum, _shaped, measure
from svgattn.text.outlines import direction_segments, needs_outlines
from svgattn.text.safe import xml_safe

SCRIPTS = ["Ġthe", "注意力", "الانتباه", "שלום", "नमस्ते", "🤖", "👩\u200d💻", "e\u0301",
           "x" * 200, " ", "café"]


def test_missing_family_is_an_error_naming_it_and_the_package(tmp_path):
    theme = tmp_path / "t.toml"
    theme.write_text('[font]\nfamily = "Liberation Sans Nope"\n')
    with pytest.raises(FontError) as err:
        Diagram(["a"], [[1.0]], theme=theme).to_svg()
    assert "'Liberation Sans Nope'" in str(err.value) and "fc-list" in str(err.value)
    with pytest.raises(FontError, match="none of 'Nope Sans'"):
        resolve_family(("Nope Sans", "Nope Serif"), False)
    hint = install_hint(("DejaVu Sans",))
    assert hint == "install it (Debian: apt-get install fonts-dejavu-core)"
    assert resolve_family(("DejaVu Sans",)).path.endswith("DejaVuSans.ttf")
    assert resolve_family(("DejaVu Sans",), True).path.endswith("DejaVuSans-Bold.ttf")


def test_family_list_falls_back_with_a_warning_and_names_what_it_measured(tmp_path):
    theme = tmp_path / "t.toml"
    theme.write_text('[font]\nfamily = ["Nonexistent Grotesk", "DejaVu Serif"]\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = Diagram(["a"], [[1.0]], theme=theme).to_svg()
    assert any(issubclass(w.category, FontWarning) for w in caught)
    assert 'font-family="&#39;DejaVu Serif&#39;, ' in svg  # the measured font, named first


def test_width_is_the_larger_of_shaped_and_unkerned():
    face = resolve_family(("DejaVu Sans",))
    for text in ("AVAWAY", "Head 0", "office"):
        box = measure(text, ("DejaVu Sans",), 10.0)
        upem = 2048
        assert box.width == pytest.approx(max(_shaped(face, text), _advance_sum(face, text))
                                          * 10 / upem)
    kerned = measure("AVAWAY", ("DejaVu Sans",), 10.0)
    assert _shaped(face, "AVAWAY") < _advance_sum(face, "AVAWAY")  # browsers kern tighter
    assert kerned.width == pytest.approx(_advance_sum(face, "AVAWAY") * 10 / 2048)


def test_baselines_come_from_font_metrics_not_dominant_baseline(seed_path):
    d = Diagram.from_spec(seed_path)
    svg = d.to_svg()
    assert "dominant-baseline" not in svg and "alignment-baseline" not in svg
    scene = d.scene()
    for node, label in zip(rects(scene, "node"), texts(scene, "node-label"), strict=True):
        centre = node.box.y + node.box.h / 2
        assert label.y == pytest.approx(centre + label.label.cap_height / 2)


def test_fallback_runs_name_their_font():
    svg = Diagram(["a注意b"], [[1.0]]).to_svg()
    label = by_id(parse(svg))["matrix-row-0"]
    spans = label.findall(f"{SVG_NS}tspan")
    assert [s.get("font-family") for s in spans if s.get("font-family")] == ["Noto Sans CJK JP"]
    assert "".join(label.itertext()) == "a注意b"


@pytest.mark.parametrize("token, outlined", [
    ("cat", False), ("注意力", False), ("café", False), ("AVA", False), ("office", False),
    ("الانتباه", True), ("שלום", True), ("नमस्ते", True), ("🤖", True), ("e\u0301", True),
])
def test_native_mode_outlines_only_what_renderers_would_draw_wrong(token, outlined):
    assert needs_outlines(token, resolve_family(("DejaVu Sans",))) == outlined
    svg = Diagram([token], [[1.0]]).to_svg()
    el = by_id(parse(svg))["matrix-row-0"]
    assert (el.tag == f"{SVG_NS}g") == outlined
    if outlined:
        assert el.find(f"{SVG_NS}title").text == token
        assert el.findall(f"{SVG_NS}path")


def test_bidi_keeps_rtl_runs_together():
    assert direction_segments("Hi שלום, עולם!") == [("Hi ", False), ("שלום, עולם", True),
                                                   ("!", False)]
    assert direction_segments("שלום") == [("שלום", True)]


def test_paths_mode_has_no_text_elements_and_keeps_the_words():
    d = Diagram(SCRIPTS, np.eye(len(SCRIPTS)), [Head("H 注意", tokens=[0, 1])], title="T",
                text="paths")
    root = parse(d.to_svg())
    assert not [el for el in root.iter() if el.tag == f"{SVG_NS}text"]
    ids = by_id(root)
    titles = [ids[f"matrix-row-{i}"].find(f"{SVG_NS}title").text for i in range(len(SCRIPTS))]
    expected = [t if t.strip() else "␣" for t in SCRIPTS]
    expected[8] = "x" * 39 + "…"  # the 200-character token, shortened
    assert titles == expected


def test_text_mode_from_theme_api_and_cli(tmp_path, seed_path):
    theme = tmp_path / "t.toml"
    theme.write_text('extends = "paper"\n[text]\nmode = "paths"\n')
    assert "<text " not in Diagram.from_spec(seed_path, theme=theme).to_svg()
    assert "<text " in Diagram.from_spec(seed_path, theme=theme, text="native").to_svg()
    out = tmp_path / "f.svg"
    subprocess.run(["svgattn", "render", str(seed_path), "-o", str(out), "--text", "paths"],
                   check=True)
    assert "<text " not in out.read_text()


def test_png_is_drawn_from_outlines(seed_path):
    native = Diagram.from_spec(seed_path).to_bytes("png", dpi=100)
    paths = Diagram.from_spec(seed_path, text="paths").to_bytes("png", dpi=100)
    assert native == paths


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils not installed (.ci/run installs it)")


@needs_poppler
def test_pdf_native_text_is_searchable_and_every_font_embedded_and_subset(tmp_path):
    tokens = ["attention", "注意力", "café", "head"]
    path = Diagram(tokens, np.eye(4), [Head("Head 0", tokens=[0])], theme="paper",
                   width="3.25in").save(tmp_path / "f.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for token in [*tokens, "Head 0"]:
        assert token in text
    rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[2:]
    assert len(rows) >= 3  # DejaVu Sans, its bold, Noto Sans CJK
    for row in rows:
        emb, sub = row.split()[-5], row.split()[-4]
        assert (emb, sub) == ("yes", "yes"), row
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert "234 x" in info


def test_layout_holds_for_every_kind_of_token():
    from invariants import violations

    for theme in ("light", "paper"):
        d = Diagram(SCRIPTS, np.eye(len(SCRIPTS)), [Head("emoji 🤖", tokens=[5, 6]),
                                                    Head("RTL", tokens=[2, 3])],
                    theme=load_theme(theme), title="Mixed")
        assert violations(d.scene()) == []


@pytest.mark.parametrize("token, shown", [
    ("", "∅"), (" ", "␣"), ("\u00a0", "␣"), ("\u3000", "␣"), ("  ", "␣␣"),
    ("\u200b", "<U+200B>"), ("\u200f", "<U+200F>"), ("\ufeff", "<U+FEFF>"), ("a\u2028b", "a␤b"),
])
def test_invisible_tokens_are_shown(token, shown):
    d = Diagram([token, "x"], np.eye(2))
    # the label is cleaned by the analysis; characters XML forbids become stand-ins
    # where the text is measured and drawn
    assert xml_safe(d.data.query_labels[0]) == shown
    label = by_id(parse(d.to_svg()))["matrix-row-0"]
    assert "".join(label.itertext()) == shown or label.find(f"{SVG_NS}title").text == shown


def test_long_labels_end_in_an_ellipsis_and_the_limit_is_a_theme_key(tmp_path):
    scene = Diagram(["x" * 200, "e\u0301" * 30], np.eye(2)).scene()
    assert texts(scene, "node-label")[0].label.text == "x" * 39 + "…"
    kept = texts(scene, "node-label")[1].label.text[:-1]
    assert kept == "e\u0301" * (len(kept) // 2)  # never an accent cut from its letter
    theme = tmp_path / "t.toml"
    theme.write_text("[text]\nmax_label_chars = 0\n")
    scene = Diagram(["x" * 200, "b"], np.eye(2), theme=theme).scene()
    assert texts(scene, "node-label")[0].label.text == "x" * 200


def test_more_heads_than_palette_colours_stay_distinct():
    heads = [Head(f"H{i}", tokens=[i % 4]) for i in range(24)]
    scene = Diagram(list("abcd"), np.eye(4), heads).scene()
    fills = [r.style.fill for r in rects(scene, "head")]
    assert len(set(fills)) == 24


def test_numbers_inside_right_to_left_text_keep_their_order():
    from svgattn.text.outlines import bidi_levels, shape_label, visual_order

    assert bidi_levels("عام 2024") == [1, 1, 1, 1, 2, 2, 2, 2]
    spans = [(0, 4), (4, 8)]
    assert visual_order(bidi_levels("عام 2024"), spans) == [1, 0]  # digits left, LTR inside
    runs = shape_label(measure("abc 123", ("DejaVu Sans",), 10.0))
    face = runs[0].face
    from svgattn.text.fonts import hb_font

    names = [hb_font(face).glyph_to_string(g) for r in runs for g, _, _ in r.glyphs]
    assert names[-3:] == ["one", "two", "three"]


def test_outlines_use_the_faces_the_label_was_measured_with(tmp_path):
    from svgattn.text.outlines import shape_label

    box = measure("🙂 Wallpaper", ("DejaVu Sans",), 10.0)
    runs = shape_label(box)
    assert [r.face for r in runs] == [r.face for r in box.runs]
    drawn = sum(r.advance * box.size / r.upem for r in runs)
    assert drawn <= box.width + 1e-6


def test_non_utf8_spec_and_theme_are_one_line_errors(tmp_path):
    spec = tmp_path / "latin1.json"
    spec.write_bytes(b"\xe9")
    result = subprocess.run(["svgattn", "render", str(spec), "-o", str(tmp_path / "x.svg")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "not UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1


def test_noncharacters_are_drawn_as_replacement_characters():
    """U+FDD0 and U+1FFFE are valid in Python and XML but cairo refuses them as UTF-8
    (found by the property test): they show as U+FFFD, the token itself unchanged."""
    import cairosvg

    from svgattn import Diagram
    from svgattn.text.safe import xml_safe

    assert xml_safe("a\ufdd0b\U0001fffe") == "a\ufffdb\ufffd"
    d = Diagram(["\ufdd0", "x\U0001fffe"], [[1, 0], [0, 1]], heads=[{"name": "h",
                                                                    "tokens": ["\ufdd0"]}])
    svg = d.to_svg()
    assert "\ufdd0" not in svg and "\ufffd" in svg
    assert cairosvg.svg2png(bytestring=svg.encode("utf-8"), dpi=24)
    assert d.to_bytes("pdf").startswith(b"%PDF")
