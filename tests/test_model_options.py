"""How a model runs: the device and precision (in the provenance line, the weights kept in
float32), Hugging Face ids found offline in the local cache, and stderr holding svgattn's
one line per stage, transformers' own reports kept out unless SVGATTN_DEBUG is set."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from models import require

from svgattn import Diagram
from svgattn.errors import SpecError

TEXT = "the cat sat on the mat because it was tired"


@pytest.fixture(scope="module")
def gpt2():
    require("torch", "transformers")
    import tiny_models

    return tiny_models.folder("gpt2")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "svgattn", *args], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def _caption(svg: str) -> str:
    return " ".join(re.findall(r"caption[^>]*>([^<]*)<", svg))


def test_a_device_that_is_not_here_is_a_one_line_error(gpt2, tmp_path):
    import torch

    out = tmp_path / "f.svg"
    for device in ("cuda", "mps"):
        if device == "cuda" and torch.cuda.is_available():
            continue
        result = _cli("model", str(gpt2), "--text", TEXT, "--device", device, "-o", str(out))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert f"device: {device} is not available on this machine" in last
        assert "use --device cpu or auto" in last and "sees no GPU" in last
        assert not out.exists()
    with pytest.raises(SpecError, match="seed: seeds the sampling of generated tokens; add "
                                        "--sample"):
        Diagram.from_model(str(gpt2), TEXT, generate=3, seed=5)
    result = _cli("model", str(gpt2), "--text", TEXT, "--device", "tpu", "-o", str(out))
    assert result.returncode == 2 and "invalid choice: 'tpu'" in result.stderr


def test_the_dtype_computed_in_is_in_the_provenance_and_the_weights_are_float32(gpt2):
    """bfloat16: the model computes in it (its weights differ from float32's by bfloat16's
    rounding, not more), the attention kept is float32, and the caption says so."""
    from svgattn.sources.local_model import run_model
    from svgattn.sources.run_options import ModelRun

    full = run_model(str(gpt2), TEXT, quiet=True)
    half = run_model(str(gpt2), TEXT, quiet=True, run=ModelRun(dtype="bfloat16"))
    assert "Run: cpu, float32, sdpa attention" in full.notes
    assert "Run: cpu, bfloat16, sdpa attention" in half.notes
    low, high = np.asarray(half.weights), np.asarray(full.weights)
    assert low.dtype == np.float32
    np.testing.assert_allclose(low.sum(-1), 1.0, rtol=1e-5)  # rows of a float32 softmax
    assert not np.array_equal(low, high)
    np.testing.assert_allclose(low, high, atol=0.05)  # bfloat16 keeps 8 bits of mantissa
    d = Diagram.from_model(str(gpt2), TEXT, view="matrix", dtype="bfloat16", device="cpu")
    assert "Run: cpu, bfloat16, sdpa attention" in _caption(d.to_svg())


def _hub_cache(root, gpt2, repo="tiny-org/tiny-gpt2"):
    """``repo`` laid out as huggingface_hub caches it: models--org--name/snapshots/<commit>
    with refs/main naming the commit."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = root / f"models--{repo.replace('/', '--')}"
    shutil.copytree(gpt2, folder / "snapshots" / commit)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    return folder / "snapshots" / commit


def test_a_model_id_is_found_in_the_local_cache_and_never_fetched(gpt2, tmp_path):
    """From the command line: the figure of the id is the folder's, byte for byte; an id
    not in the cache is one line naming the cache searched (downloads allowed or not)."""
    cache = tmp_path / "hub"
    _hub_cache(cache, gpt2)
    out, folder = tmp_path / "id.csv", tmp_path / "folder.csv"
    env = {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "0"}
    result = _cli("model", "tiny-org/tiny-gpt2", "--text", TEXT, "--view", "matrix", "-o",
                  str(out), env=env)
    assert result.returncode == 0, result.stderr
    Diagram.from_model(str(gpt2), TEXT, view="matrix").save(folder)
    assert out.read_bytes() == folder.read_bytes()
    result = _cli("model", "tiny-org/not-here", "--text", TEXT, "-o", str(out), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "tiny-org/not-here is not in the local Hugging Face cache" in last
    assert str(cache) in last and "svgattn never downloads" in last


@pytest.mark.parametrize("variable", ["HF_HUB_CACHE", "HF_HOME"])
def test_an_id_from_the_api_resolves_the_same_way(gpt2, tmp_path, monkeypatch, variable):
    cache = tmp_path / "hub"
    _hub_cache(cache, gpt2, "tiny-org/api")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv(variable, str(cache if variable == "HF_HUB_CACHE" else tmp_path))
    d = Diagram.from_model("tiny-org/api", TEXT, view="matrix")
    assert len(d.data.query_tokens) == len(TEXT.split()) + 2  # <s> ... </s>
    with pytest.raises(SpecError, match=re.escape(
            f"tiny-org/gone is not in the local Hugging Face cache ({cache})")):
        Diagram.from_model("tiny-org/gone", TEXT)


def test_stderr_holds_one_line_per_stage_and_transformers_reports_only_when_debugging(
        gpt2, tmp_path):
    """A folder with a weight the model does not use: transformers prints a load report
    (bold escapes and a table). svgattn's stderr is its own stages; with SVGATTN_DEBUG the
    report follows, each line prefixed and made printable."""
    folder = tmp_path / "stray"
    shutil.copytree(gpt2, folder)
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    weights["stray.weight"] = torch.zeros(3)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "f.svg"
    env = {"SVGATTN_DEBUG": ""}
    result = _cli("model", str(folder), "--text", TEXT, "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(re.fullmatch(r"svgattn: [a-z][^\x1b]* \.\.\. \d+\.\d s", line)
                         for line in lines), lines
    assert [line.split(" ...")[0] for line in lines] == [
        "svgattn: loading torch and transformers", "svgattn: loading stray",
        "svgattn: running the model", "svgattn: computing the weights drawn",
        "svgattn: drawing"]
    assert "LOAD REPORT" not in result.stderr and "stray.weight" not in result.stderr
    loud = _cli("model", str(folder), "--text", TEXT, "-o", str(out), env={"SVGATTN_DEBUG": "1"})
    assert loud.returncode == 0
    report = [line for line in loud.stderr.splitlines() if "svgattn: debug:" in line]
    assert any("LOAD REPORT" in line for line in report)
    assert any("stray.weight" in line for line in report)
    assert "\x1b" not in loud.stderr
