"""Plug-in views: the docs' example (Writing a view), installed with pip from outside the
repository, works from the command line, the API, specs and themes, like svgattn's own
views."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, parse

from svgattn.views.registry import load_all

README = (ROOT / "docs" / "writing-a-view.md").read_text(encoding="utf-8")


def _example() -> tuple[str, str]:
    """The docs' plug-in (Writing a view): its Python code and its pyproject table."""
    block = README.split("<!-- plugin-example:start -->", 1)[1].split(
        "<!-- plugin-example:end -->", 1)[0]
    code = re.search(r"```python\n(.*?)```", block, re.S)
    table = re.search(r"```toml\n(.*?)```", block, re.S)
    assert code and table
    return code.group(1), table.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example as a package outside the repository, installed by pip into a folder;
    the environment that puts it on the path."""
    code, table = _example()
    work = tmp_path_factory.mktemp("plugin")
    package = work / "svgattn-bars"
    (package / "svgattn_bars").mkdir(parents=True)
    (package / "svgattn_bars" / "__init__.py").write_text(code)
    (package / "pyproject.toml").write_text(textwrap.dedent("""\
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "svgattn-bars"
        version = "0.1"
        """) + "\n" + "\n".join(line for line in table.splitlines()
                                 if not line.startswith("#")) + "\n")
    site = work / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--no-index", "--target", str(site),
                          str(package)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    assert list(site.glob("svgattn_bars-0.1.dist-info/entry_points.txt"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return env


def _run(env: dict[str, str], *args: object, cwd: Path | None = None) -> \
        subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def _npz(folder: Path) -> Path:
    w = np.zeros((1, 2, 4, 4))
    w[..., 2] = 0.7  # every query gives 'sat' the most
    w[..., 0] = 0.3
    path = folder / "a.npz"
    np.savez(path, attentions=w, tokens=np.array(["The", "cat", "sat", "down"]))
    return path


def test_the_plugin_is_listed_and_drawn_from_the_command_line(installed, tmp_path):
    views = _run(installed, "-m", "svgattn", "views")
    assert views.returncode == 0, views.stderr
    assert "bars     one bar per key token" in views.stdout
    helped = _run(installed, "-m", "svgattn", "render", "--help")
    listed = ", ".join(sorted([*load_all(), "bars"]))  # the plug-in among the built-ins
    assert "--bar-colour" in helped.stdout and listed in " ".join(helped.stdout.split())
    out = tmp_path / "bars.svg"
    drawn = _run(installed, "-m", "svgattn", "render", _npz(tmp_path), "--view", "bars",
                 "--bar-colour", "text", "-o", out)
    assert drawn.returncode == 0, drawn.stderr
    root = parse(out.read_text())
    bars = [el for el in root.iter() if (el.get("id") or "").rsplit("-", 2)[-2:-1] == ["bar"]]
    heights = [float(el.get("height")) for el in bars]
    assert len(heights) == 4 and max(heights) == heights[2] and heights[1] == 0
    for fmt in ("pdf", "png"):
        made = _run(installed, "-m", "svgattn", "render", _npz(tmp_path), "--view", "bars",
                    "-o", tmp_path / f"bars.{fmt}")
        assert made.returncode == 0, made.stderr
    wrong = _run(installed, "-m", "svgattn", "render", _npz(tmp_path), "--view", "bars",
                 "--bar-colour", "pink", "-o", out)
    assert wrong.returncode == 2 and "invalid choice: 'pink'" in wrong.stderr
    unknown = _run(installed, "-m", "svgattn", "render", _npz(tmp_path), "--view", "barz",
                   "-o", out)
    assert unknown.returncode == 2 and "did you mean 'bars'?" in unknown.stderr


API = """
import json, sys
import numpy as np
from svgattn import Diagram, load_theme
from svgattn.sources import from_array
w = np.zeros((1, 1, 3, 3)); w[..., 1] = 1
att = from_array(w, ["a", "b", "c"])
scene = Diagram.from_attention(att, view="bars", theme=sys.argv[1]).scene()
bars = [n for n in scene.walk() if getattr(n, "role", "") == "bar"]
theme = load_theme(sys.argv[1])
print(json.dumps({"heights": [b.box.h for b in bars], "height": theme["bars.height"]}))
"""


def test_the_api_a_spec_and_a_theme_use_the_plugin(installed, tmp_path):
    theme = tmp_path / "tall.toml"
    theme.write_text('extends = "paper"\n[bars]\nheight = "20em"\n')
    result = _run(installed, "-c", API, theme)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["heights"][1] == pytest.approx(got["height"]) and got["heights"][0] == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[bars]\nheight = "1km"\n')
    refused = _run(installed, "-c", API, bad)
    assert refused.returncode != 0 and "bars.height" in refused.stderr
    spec = tmp_path / "s.toml"
    spec.write_text('view = "bars"\nbar_colour = "text"\ntokens = ["a", "b"]\n'
                    'weights = [[0.2, 0.8], [0.5, 0.5]]\n')
    out = tmp_path / "s.svg"
    made = _run(installed, "-m", "svgattn", "render", spec, "-o", out)
    assert made.returncode == 0, made.stderr
    assert "Attention received by each of 2 tokens" in out.read_text()


def test_a_broken_plugin_is_a_one_line_error(tmp_path):
    site = tmp_path / "site"
    (site / "broken_view").mkdir(parents=True)
    (site / "broken_view" / "__init__.py").write_text("raise RuntimeError('oops')\n")
    info = site / "broken_view-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-view\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[svgattn.views]\nbroken = broken_view:View\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    other = _run(env, "-m", "svgattn", "render", _npz(tmp_path), "--view", "matrix", "-o",
                 tmp_path / "m.svg")  # a figure of a built-in view never loads plug-ins
    assert other.returncode == 0 and other.stderr == "", other.stderr
    listed = _run(env, "-m", "svgattn", "views")  # listing them does, and says which failed
    assert listed.returncode == 0 and "matrix" in listed.stdout
    assert "the plug-in 'broken'" in listed.stderr and "it is left out" in listed.stderr
    asked = _run(env, "-m", "svgattn", "render", _npz(tmp_path), "--view", "broken", "-o",
                 tmp_path / "b.svg")
    assert asked.returncode == 2, asked.stderr
    last = asked.stderr.strip().splitlines()[-1]
    assert last.startswith("svgattn: error: view: the plug-in 'broken'") and \
        "RuntimeError: oops" in last
    assert not (tmp_path / "b.svg").exists()


def _tokens_npz(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    w = rng.random((1, 2, n, n))
    w /= w.sum(axis=-1, keepdims=True)
    path = folder / f"t{n}.npz"
    np.savez(path, attentions=w, tokens=np.array([f"tok{i}" for i in range(n)]))
    return path


def _inside_canvas(svg: str) -> None:
    """Every rectangle and text anchor lies inside the figure's viewBox (nothing clipped)."""
    root = parse(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    for el in root.iter():
        if el.tag.endswith("rect") and el.get("width"):
            x, w = float(el.get("x")), float(el.get("width"))
            y, h = float(el.get("y")), float(el.get("height"))
            assert x >= -0.01 and x + w <= width + 0.01, (el.get("id"), x, w, width)
            assert y >= -0.01 and y + h <= height + 0.01, (el.get("id"), y, h, height)


def test_the_plugin_is_framed_like_a_built_in_view(installed, tmp_path):
    """Written from the README alone, the plug-in gets what svgattn's own views get: a
    width it cannot fill at full size is met by scaling (never clipped) or refused in one
    line; --caption none drops its caption; options it does not read are refused, naming
    it; a misspelt key of its theme table gets a close match; its numbers go to CSV."""
    attn = _tokens_npz(tmp_path, 24)
    wide = tmp_path / "wide.svg"
    natural = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "--width",
                   "auto", "-o", wide)
    assert natural.returncode == 0, natural.stderr
    natural_w = float(parse(wide.read_text()).get("viewBox").split()[2])
    narrow = tmp_path / "narrow.svg"
    fitted = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "--width",
                  f"{natural_w * 0.8:.1f}bp", "-o", narrow)
    assert fitted.returncode == 0, fitted.stderr
    assert "scaled to" in fitted.stderr  # said, not hidden
    svg = narrow.read_text()
    assert float(parse(svg).get("viewBox").split()[2]) == pytest.approx(natural_w * 0.8, abs=0.1)
    _inside_canvas(svg)
    too = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "--width", "0.6in",
               "-o", tmp_path / "too.svg")
    assert too.returncode == 2 and "Traceback" not in too.stderr
    assert too.stderr.count("\n") == 1 and "too narrow for this bars figure" in too.stderr
    assert not (tmp_path / "too.svg").exists()

    bare = tmp_path / "bare.svg"
    none = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "--caption",
                "none", "-o", bare)
    assert none.returncode == 0, none.stderr
    full = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "-o", wide)
    assert full.returncode == 0
    assert "-caption" in wide.read_text() and "-caption" not in bare.read_text()

    for flag, value in (("--colormap", "viridis"), ("--vmax", "0.5"), ("--links", "top:2"),
                        ("--scale", "row")):
        refused = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", flag,
                       value, "-o", tmp_path / "x.svg")
        assert refused.returncode == 2, (flag, refused.stderr)
        line = refused.stderr.strip()
        assert "\n" not in line and "the bars view does not read it" in line, line
        assert not (tmp_path / "x.svg").exists()
    api = _run(installed, "-c", "import numpy as np, sys\nfrom svgattn import Diagram\n"
               "from svgattn.sources import from_array\n"
               "att = from_array(np.ones((1, 1, 2, 2)) / 2, ['a', 'b'])\n"
               "Diagram.from_attention(att, view='bars', norm='log')\n")
    assert api.returncode != 0 and "norm: the bars view does not read it" in api.stderr

    theme = tmp_path / "typo.toml"
    theme.write_text('[bars]\nheigth = "20em"\n')
    typo = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "--theme", theme,
                "-o", tmp_path / "x.svg")
    assert typo.returncode == 2 and "did you mean 'bars.height'?" in typo.stderr

    table = tmp_path / "bars.csv"
    made = _run(installed, "-m", "svgattn", "render", attn, "--view", "bars", "-o", table)
    assert made.returncode == 0, made.stderr
    rows = table.read_text().splitlines()
    assert rows[0] == "token,received" and len(rows) == 25
    weights = np.load(attn)["attentions"][0].mean(axis=0)
    assert float(rows[3].split(",")[1]) == pytest.approx(weights[:, 2].mean(), rel=1e-12)
