"""Plug-in views: the README's example, installed with pip from outside the repository,
works from the command line, the API, specs and themes, like svgattn's own views."""

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

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _example() -> tuple[str, str]:
    """The README's plug-in: its Python code and its pyproject entry-point table."""
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
                 tmp_path / "m.svg")  # a broken plug-in does not break the other views
    assert other.returncode == 0, other.stderr
    assert "the plug-in 'broken'" in other.stderr and "it is left out" in other.stderr
    asked = _run(env, "-m", "svgattn", "render", _npz(tmp_path), "--view", "broken", "-o",
                 tmp_path / "b.svg")
    assert asked.returncode == 2, asked.stderr
    last = asked.stderr.strip().splitlines()[-1]
    assert last.startswith("svgattn: error: view: the plug-in 'broken'") and \
        "RuntimeError: oops" in last
    assert not (tmp_path / "b.svg").exists()
