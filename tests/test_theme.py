from __future__ import annotations

import subprocess
import sys

import pytest

from svgattn import Diagram, ThemeError, builtin_themes, load_theme
from svgattn.theme.schema import all_keys


def write(tmp_path, text, name="t.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_themes_are_the_six_promised_and_their_files_are_read():
    """Each built-in theme's own values (read from its file with a TOML parser here, not
    through svgattn) are what the loaded theme holds, and inherited keys come from its
    parent: a loader that returned defaults, or dropped a key, fails this."""
    import tomllib

    from svgattn.resources import data_dir

    assert set(builtin_themes()) == {"light", "dark", "paper", "paper-sans", "seed", "slides"}
    for name in builtin_themes():
        raw = tomllib.loads((data_dir("themes") / f"{name}.toml").read_text())
        theme = load_theme(name)
        parent = load_theme(raw["extends"]) if "extends" in raw else None
        for table, keys in raw.items():
            if not isinstance(keys, dict):
                continue
            for key, value in keys.items():
                got = theme[f"{table}.{key}"]
                if isinstance(value, list):
                    assert list(got) == [v.lower() for v in value], (name, key)
                elif isinstance(value, str) and value.startswith("#"):
                    assert got == value.lower(), (name, key)
                elif isinstance(value, str) and value.endswith("pt"):  # TeX points
                    assert got == pytest.approx(float(value[:-2]) * 72 / 72.27), (name, key)
                elif isinstance(value, str) and value.endswith("bp"):
                    assert got == pytest.approx(float(value[:-2])), (name, key)
                elif isinstance(value, str) and value.endswith("in"):
                    assert got == pytest.approx(72 * float(value[:-2])), (name, key)
        if parent is not None:  # a key the file does not set is the parent's
            assert theme["colors.node_stroke"] == parent["colors.node_stroke"] or \
                "node_stroke" in raw.get("colors", {})


def test_paper_is_8pt_and_one_column_wide():
    paper = load_theme("paper")
    assert paper["font.size"] == pytest.approx(8 * 72 / 72.27)  # LaTeX's 8pt
    # one column of a two-column LaTeX article: \the\columnwidth = 229.5pt (TeX points)
    assert paper["figure.width"] == pytest.approx(229.5 * 72 / 72.27)


def test_seed_theme_has_the_seed_colours():
    seed = load_theme("seed")
    assert seed["colors.heads"][:3] == ("#f2c500", "#d62728", "#ff7f0e")  # yellow, red, orange
    assert seed["colors.cell_high"] == "#1f77b4"  # blue
    assert seed["colors.cell_low"] == "#4d4d4d"  # dark gray


def test_every_key_is_documented_and_its_default_is_valid():
    theme = load_theme("light")  # the defaults of svgattn's keys pass validation
    for key in all_keys():  # every view's keys included
        assert key.help and key.help[0].isupper(), key.name
        assert theme[key.name] is not None  # a view key's default, resolved on demand


def test_a_bad_colour_map_is_a_load_error_naming_file_and_line(tmp_path):
    path = write(tmp_path, '[font]\nsize = 9\n[colors]\ncolormap = "notamap"\n')
    with pytest.raises(ThemeError, match=r"t\.toml:4: colors\.colormap: the name is not a "
                       "known colour map"):
        load_theme(path)
    stops = write(tmp_path, '[colors]\ndiverging = ["#000000"]\n')
    with pytest.raises(ThemeError, match=r"t\.toml:2: colors\.diverging: expected a list of at "
                       "least 2 colours"):
        load_theme(stops)


def test_loading_a_theme_imports_no_view_source_adapter_or_harfbuzz():
    code = ("import sys; from svgattn import load_theme; load_theme('paper'); "
            "bad = [m for m in sys.modules if m.startswith(('svgattn.sources', 'uharfbuzz', "
            "'svgattn.text.fonts', 'svgattn.layout', 'svgattn.analysis')) or "
            "m.startswith('svgattn.views.') and m not in ('svgattn.views.base', "
            "'svgattn.views.registry')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_view_table_loads_only_that_view(tmp_path):
    path = write(tmp_path, '[lines]\ngap = "12em"\n')
    code = (f"import sys; from svgattn import load_theme; t = load_theme({str(path)!r}); "
            "print(round(t['lines.gap'], 3), sorted(m for m in sys.modules "
            "if m.startswith('svgattn.views.') and m not in ('svgattn.views.base', "
            "'svgattn.views.registry')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "120.0 ['svgattn.views.lines']"


def test_extends_inherits_and_overrides(tmp_path):
    path = write(tmp_path, 'extends = "dark"\n[font]\nsize = "9pt"\n')
    theme = load_theme(path)
    assert theme.name == "t" and load_theme("dark").name == "dark"
    assert theme["font.size"] == pytest.approx(9 * 72 / 72.27)
    assert theme["colors.background"] == load_theme("dark")["colors.background"]
    assert theme["matrix.cell_size"] == pytest.approx(18 * 72 / 72.27)  # 2em of the new size


def test_extends_a_relative_path(tmp_path):
    write(tmp_path, 'extends = "paper"\n[colors]\ntext = "#123456"\n', "base.toml")
    theme = load_theme(write(tmp_path, 'extends = "base.toml"\n', "child.toml"))
    assert theme["colors.text"] == "#123456"
    assert theme["font.size"] == pytest.approx(8 * 72 / 72.27)


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ThemeError, match="cycle"):
        load_theme(tmp_path / "a.toml")


def test_unknown_key_names_file_line_and_close_match(tmp_path):
    path = write(tmp_path, '[colors]\nbackground = "#ffffff"\npalete = ["#000000"]\n')
    with pytest.raises(ThemeError) as err:
        load_theme(path)
    message = str(err.value)
    assert f"{path}:3" in message and "colors.palete" in message
    assert "did you mean" in message


@pytest.mark.parametrize("text, fragment", [
    ('[colors]\ntext = "red;}</style><script>alert(1)</script>"\n', "is not a colour"),
    ('[colors]\ntext = "url(http://evil.example/x)"\n', "is not a colour"),
    ('[colors]\nheads = ["#fff", "expression(alert(1))"]\n', "colors.heads[1]"),
    ('[font]\nfamily = "x; } text { fill: red"\n', "is not a font family"),
    ('[font]\nfamily = "</style><script>"\n', "is not a font family"),
    ('[font]\nsize = "big"\n', "is not a length"),
    ('[font]\nsize = 500\n', "above the maximum"),
    ('[flow]\nconnector_opacity = 3\n', "must lie in"),
    ('[flow]\nconnector_opacity = nan\n', "expected a finite number"),
    ('[font]\nsize = nan\n', "finite"),
    ('[legend]\nshow = "yes"\n', "expected true or false"),
    ('[figure]\ntitle_align = "justify"\n', "is not one of"),
])
def test_bad_values_are_rejected_with_file_and_key(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ThemeError) as err:
        load_theme(path).check()  # a view's table ([flow]) is checked when the view draws
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_unknown_builtin_name_suggests(tmp_path):
    with pytest.raises(ThemeError, match="did you mean 'paper'"):
        load_theme("papr")


def test_legend_text_cannot_inject_markup(tmp_path):
    path = write(tmp_path, '[legend]\nhigh_label = "</text><script>alert(1)</script>"\n')
    svg = Diagram(["a", "b"], [[1, 0], [0, 1]], theme=path).to_svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_theme_colours_reach_the_presentation_attributes():
    svg = Diagram(["a", "b"], [[1, 0], [0, 1]], theme="dark").to_svg()
    assert f'fill="{load_theme("dark")["colors.background"]}"' in svg
    assert "var(" not in svg


def test_the_docs_tables_are_generated_from_the_schemas():
    """Every generated table of the docs pages (options, theme keys, views, limits, each
    view's own) is the schema's, as committed (the site's build fills them again)."""
    from conftest import ROOT

    from svgattn.docs import MARKED, fill

    pages = sorted((ROOT / "docs").rglob("*.md"))
    marked = [p for p in pages if MARKED.search(p.read_text(encoding="utf-8"))]
    assert len(marked) >= 12  # options, themes, views, limits, and each view's page
    for page in marked:
        text = page.read_text(encoding="utf-8")
        assert fill(text) == text, \
            "run: python -m svgattn.docs --write docs"
