"""The wheel carries templates/ and themes/ and works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_installs_into_a_fresh_venv_and_renders_the_demo(tmp_path):
    dist = tmp_path / "dist"
    # --no-isolation: the build backend (hatchling) comes from the test extra, not the network.
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                            "--outdir", str(dist), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, f"wheel build failed:\n{built.stdout}\n{built.stderr}"
    wheel = next(dist.glob("svgattn-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("svgattn/_data/templates/figure.svg.j2", "svgattn/_data/themes/paper.toml",
                   "svgattn/_data/specs/seed.toml", "svgattn/py.typed"):
        assert needed in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # The test's own environment supplies numpy/cairosvg/... (a path in a .pth file is put on
    # sys.path after the venv's site-packages, and its own .pth files, such as an editable
    # svgattn, are not run); svgattn itself comes from the wheel.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True).stdout
    parent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.strip()) / "_test_parent_env.pth").write_text("\n".join(sorted(parent)) + "\n")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                                "-q", str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import svgattn, importlib.metadata as m; "
                            "print(svgattn.__file__, svgattn.__version__, m.version('svgattn'))"],
                           cwd=work, check=True, capture_output=True, text=True).stdout.split()
    assert str(env_dir) in where[0]
    assert where[1] == where[2], "the wheel's version differs from svgattn.__version__"
    assert "LICENSE" in " ".join(names), "the wheel carries no LICENSE"
    result = subprocess.run([str(env_dir / "bin" / "svgattn"), "demo"], cwd=work,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    demo = work / "svgattn-demo"
    assert (demo / "seed.svg").read_text() == (ROOT / "gallery" / "seed-seed.svg").read_text()
    assert (demo / "seed.pdf").read_bytes().startswith(b"%PDF")
