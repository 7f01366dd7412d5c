"""The wheel carries templates/ and themes/ and works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile

from conftest import ROOT


def test_wheel_installs_into_a_fresh_venv_and_renders_the_demo(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(dist), str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("svgattn-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("svgattn/_data/templates/diagram.svg.j2", "svgattn/_data/themes/paper.toml",
                   "svgattn/_data/specs/seed.toml", "svgattn/py.typed"):
        assert needed in names

    env_dir = tmp_path / "venv"
    # System site-packages supply numpy/cairosvg/...; svgattn itself comes from the wheel.
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import svgattn; print(svgattn.__file__)"],
                           cwd=work, check=True, capture_output=True, text=True).stdout
    assert str(env_dir) in where
    result = subprocess.run([str(env_dir / "bin" / "svgattn"), "demo"], cwd=work,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    demo = work / "svgattn-demo"
    assert (demo / "seed.svg").read_text() == (ROOT / "gallery" / "seed-seed.svg").read_text()
    assert (demo / "seed.pdf").read_bytes().startswith(b"%PDF")
