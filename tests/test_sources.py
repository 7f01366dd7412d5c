"""Every source yields the same validated Attention; real models where the extra is installed."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import violations
from models import minilm, require, run, smollm2
from scenes import grid, texts

from svgattn import Diagram, SpecError, load_theme
from svgattn.data import make_attention
from svgattn.sources import from_array, from_huggingface, from_transformerlens, load_file

TOKENS = ["[CLS]", "the", "cat", "sat", "[SEP]"]


def stochastic(*shape, seed=0):
    w = np.random.default_rng(seed).random(shape)
    return w / w.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("shape, layers, heads", [((5, 5), 1, 1), ((3, 5, 5), 1, 3),
                                                  ((2, 3, 5, 5), 2, 3)])
def test_arrays_of_2_to_4_axes(shape, layers, heads):
    att = from_array(stochastic(*shape), TOKENS)
    assert att.shape == (layers, heads, 5, 5)
    assert att.query_tokens == tuple(TOKENS)
    assert att.layer_names[0] == "L0" and att.head_names[-1] == f"H{heads - 1}"


def test_five_axes_need_a_batch_index():
    w = stochastic(2, 3, 4, 5, 5)  # [layers, batch, heads, q, k]
    with pytest.raises(SpecError, match=r"batch of 3 .* choose one with batch_index"):
        from_array(w, TOKENS)
    att = from_array(w, TOKENS, batch_index=1)
    np.testing.assert_array_equal(att.weights, w[:, 1])


def test_torch_tensors_by_duck_typing():
    require("torch")
    import torch

    t = torch.tensor(stochastic(2, 5, 5), dtype=torch.float16)
    att = from_array(t, TOKENS)
    np.testing.assert_allclose(att.weights[0], t.float().numpy(), rtol=1e-6)


def test_npz_round_trip(tmp_path):
    w = stochastic(2, 3, 5, 5)
    path = tmp_path / "attn.npz"
    np.savez(path, attentions=w, tokens=np.array(TOKENS), head_names=np.array(["a", "b", "c"]))
    att = load_file(path)
    np.testing.assert_array_equal(att.weights, w)
    assert att.head_names == ("a", "b", "c") and att.head_indices(["b"]) == [1]


def test_npy_without_tokens_numbers_positions(tmp_path):
    path = tmp_path / "attn.npy"
    np.save(path, stochastic(3, 3))
    assert load_file(path).query_tokens == ("0", "1", "2")


@pytest.mark.parametrize("make, fragment", [
    (lambda: from_array(stochastic(2, 5, 3, 5), TOKENS),  # [layers, q, heads, k]
     "np.transpose(weights, (0, 2, 1, 3))"),
    (lambda: from_array(stochastic(3, 5, 5), TOKENS[:4]), "does not end in (query=4, key=4)"),
    (lambda: from_array(np.full((5, 5), np.nan), TOKENS), "must be finite"),
    (lambda: from_array(-stochastic(5, 5), TOKENS), "not scores"),
    (lambda: from_huggingface({"attentions": ()}, TOKENS), 'attn_implementation="eager"'),
    (lambda: from_huggingface({"attentions": None}, TOKENS), 'attn_implementation="eager"'),
    (lambda: from_array(stochastic(2, 3, 5, 5), TOKENS).head_indices([7]), "out of range"),
    (lambda: from_array(stochastic(2, 3, 5, 5), TOKENS).layer_index("L9"), "neither an index"),
])
def test_malformed_inputs_are_one_clear_line(make, fragment):
    with pytest.raises(SpecError) as err:
        make()
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_huggingface_shaped_output_with_padding_dropped():
    w = stochastic(1, 2, 2, 6, 6)[0]  # [layers=1 as tuple below][batch=2, heads=2, 6, 6]
    outputs = {"attentions": (w,)}
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    att = from_huggingface(outputs, ["a", "b", "c", "d", "<pad>", "<pad>"],
                           attention_mask=mask, batch_index=1)
    assert att.query_tokens == ("a", "b", "c", "d")
    np.testing.assert_array_equal(att.weights[0], w[1][:, :4, :4])


def test_transformerlens_cache_by_hook_name():
    patterns = {f"blocks.{i}.attn.hook_pattern": stochastic(1, 4, 5, 5, seed=i) for i in range(3)}

    class Model:  # the two things svgattn uses of a HookedTransformer
        class cfg:
            n_layers = 3

        @staticmethod
        def to_str_tokens(text):
            return TOKENS

    att = from_transformerlens(patterns, model=Model(), input="the cat sat")
    assert att.shape == (3, 4, 5, 5) and att.query_tokens == tuple(TOKENS)
    np.testing.assert_array_equal(att.weights[2], patterns["blocks.2.attn.hook_pattern"][0])


def test_figure_matrix_equals_the_combined_input():
    w = stochastic(2, 4, 5, 5)
    att = make_attention(w, TOKENS, TOKENS)
    for how, expect in (("mean", w[1, [0, 2]].mean(0)), ("max", w[1, [0, 2]].max(0)),
                        ("sum", w[1, [0, 2]].sum(0))):
        d = Diagram.from_attention(att, layer=1, heads=[0, 2], combine=how)
        np.testing.assert_allclose(d.data.matrix, expect)
        assert f"{how} of heads H0, H2 (2) of layer L1" in " ".join(d.data.caption)
    assert [h.name for h in d.data.heads] == ["L1 H0", "L1 H2"]
    assert d.data.query_labels == ("[CLS]", "the", "cat", "sat", "[SEP]")


def test_sinks_are_never_linked():
    w = np.zeros((1, 1, 5, 5))
    w[..., 0] = 0.9  # everything attends to [CLS]
    w[..., 2] = 0.1
    d = Diagram.from_attention(make_attention(w, TOKENS, TOKENS), links="top:2")
    assert 0 not in d.data.heads[0].links and 2 in d.data.heads[0].links
    d = Diagram.from_attention(make_attention(w, TOKENS, TOKENS), links="top:1",
                               keep_sinks=True)
    assert d.data.heads[0].links == (0,)


def test_minilm_real_attention():
    pair = minilm()
    encoded, out = run(pair, ["The cat sat on the mat.", "A dog."], padding=True)
    assert len(out.attentions) == 6 and out.attentions[0].shape[1] == 12
    with pytest.raises(SpecError, match="batch of 2 inputs; choose one with batch_index"):
        from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"])
    att = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"],
                           attention_mask=encoded["attention_mask"], batch_index=1)
    assert att.query_tokens == ("[CLS]", "a", "dog", ".", "[SEP]")  # padding dropped
    full = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"],
                            attention_mask=encoded["attention_mask"], batch_index=0)
    assert full.shape == (6, 12, 9, 9)
    np.testing.assert_allclose(full.weights.sum(axis=-1), 1.0, atol=1e-5)
    d = Diagram.from_attention(full, layer=2, heads=[0, 1, 2], hide_special=True)
    assert d.data.query_labels == ("the", "cat", "sat", "on", "the", "mat", ".")
    np.testing.assert_allclose(d.data.matrix.sum(axis=1), 1.0, atol=1e-6)
    assert violations(d.scene()) == []


def test_minilm_word_pieces_merge_and_rows_stay_stochastic():
    pair = minilm()
    encoded, out = run(pair, "Tokenization is unbelievable.")
    att = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"])
    assert any(t.startswith("##") for t in att.query_tokens)
    d = Diagram.from_attention(att, layer=0, merge_words=True)
    assert "tokenization" in d.data.query_labels and "unbelievable" in d.data.query_labels
    assert not any("##" in t for t in d.data.query_labels)
    np.testing.assert_allclose(d.data.matrix.sum(axis=1), 1.0, atol=1e-6)


def test_smollm2_is_causal_and_the_figure_shows_it():
    pair = smollm2()
    encoded, out = run(pair, "The cat sat on the mat.")
    att = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"])
    assert att.shape[:2] == (30, 9)
    assert att.query_tokens[:3] == ("The", "Ġcat", "Ġsat")
    upper = np.triu(np.ones(att.shape[2:], dtype=bool), 1)
    assert (att.weights[..., upper] == 0).all()
    np.testing.assert_allclose(att.weights.sum(axis=-1), 1.0, atol=1e-4)
    d = Diagram.from_attention(att, layer=3, heads=[0, 1, 2])
    assert d.data.query_labels[:3] == ("The", "cat", "sat")  # Ġ stripped
    assert "causal" in " ".join(d.data.caption)
    scene = d.scene()
    cells = grid(scene)
    assert cells.masked and cells.colours[-1] == load_theme("light")["colors.masked"]
    assert (cells.index[upper] == len(cells.colours) - 1).all()  # masked, not zero
    assert (cells.index[~upper] != len(cells.colours) - 1).all()
    assert "masked (a query cannot see later keys)" in " ".join(
        t.label.text for t in texts(scene, "caption"))
    assert violations(scene) == []


def test_encoder_decoder_cross_attention_with_masks():
    # [batch=1, heads=2, decoder q=4, encoder k=5] per layer; the last encoder token is padding
    cross = tuple(stochastic(1, 2, 4, 5, seed=i) for i in range(3))
    outputs = {"cross_attentions": cross, "encoder_attentions": (stochastic(1, 2, 5, 5),),
               "decoder_attentions": (np.tril(stochastic(1, 2, 4, 4)),)}
    att = from_huggingface(outputs, ["<s>", "Le", "chat", "dort"], kind="cross",
                           key_tokens=["The", "cat", "sleeps", "</s>", "<pad>"],
                           attention_mask=np.array([[1, 1, 1, 1, 0]]))
    assert att.shape == (3, 2, 4, 4)
    assert att.key_tokens == ("The", "cat", "sleeps", "</s>")
    np.testing.assert_array_equal(att.weights[1], cross[1][0][:, :, :4])
    d = Diagram.from_attention(att, layer=0, hide_special=True)
    assert d.data.query_labels == ("Le", "chat", "dort")
    assert d.data.key_labels == ("The", "cat", "sleeps")
    assert d.data.matrix.shape == (3, 3) and violations(d.scene()) == []
    enc = from_huggingface(outputs, ["a", "b", "c", "d", "e"], kind="encoder")
    assert enc.shape == (1, 2, 5, 5)
    with pytest.raises(SpecError, match=r"outputs\.attentions is empty"):
        from_huggingface(outputs, ["a"])  # kind="self" but only encoder-decoder fields


def test_huggingface_accepts_the_attentions_tuple_and_names_a_none_layer():
    layers = (stochastic(1, 2, 5, 5), stochastic(1, 2, 5, 5, seed=1))
    att = from_huggingface(layers, TOKENS)
    assert att.shape == (2, 2, 5, 5)
    with pytest.raises(SpecError, match=r"attentions\[1\] is None; load the model"):
        from_huggingface((layers[0], None), TOKENS)
    with pytest.raises(SpecError, match=r"attentions\[1\]: has shape \(2, 5, 5\)"):
        from_huggingface((layers[0], layers[1][0]), TOKENS)


def test_vmax_saturates_sinks_and_says_so():
    w = np.zeros((1, 1, 5, 5))
    w[..., 0] = 0.9
    w[..., 1:] = 0.025
    d = Diagram.from_attention(make_attention(w, TOKENS, TOKENS), vmax=0.05)
    # the colours saturate; the data the analysis sees keeps the real weights
    assert d.data.matrix.max() == pytest.approx(0.9)
    scene = d.scene()
    captions = " ".join(t.label.text for t in texts(scene, "caption"))
    assert "Colours saturate at 0.05" in captions
    assert (grid(scene).index[:, 0] == 255).all() and (grid(scene).index[:, 1] == 128).all()


def test_smollm2_byte_level_tokens_read_as_text():
    pair = smollm2()
    encoded, out = run(pair, "注意力 Привет 🙂 שלום")
    att = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"])
    merged = Diagram.from_attention(att, layer=0, merge_words=True)
    assert merged.data.query_labels == ("注意力", "Привет", "🙂", "שלום")
    np.testing.assert_allclose(merged.data.matrix.sum(axis=1), 1.0, atol=1e-4)
    pieces = Diagram.from_attention(att, layer=0).data.query_labels
    assert not any("Ð" in t or "æ" in t for t in pieces)  # no mojibake, at worst U+FFFD


def test_bf16_and_float16_tensors_read_the_same_in_every_path():
    from conftest import need

    need(__import__("importlib").util.find_spec("torch") is not None, "torch")
    import torch

    w = torch.tensor(np.eye(3) * 0.5 + 0.5 / 3)
    for dtype in (torch.bfloat16, torch.float16, torch.float32, torch.float64):
        tensor = w.to(dtype)
        api = Diagram(["a", "b", "c"], tensor)
        arrays = from_array(tensor, ["a", "b", "c"])
        hf = from_huggingface((tensor[None, None],), ["a", "b", "c"])
        expected = w.to(dtype).float().numpy()
        np.testing.assert_allclose(api.data.matrix, expected, rtol=1e-6)
        np.testing.assert_allclose(arrays.weights[0, 0], expected, rtol=1e-6)
        np.testing.assert_allclose(hf.weights[0, 0], expected, rtol=1e-6)


def test_vmax_changes_colours_never_the_groups():
    """Groups come from the data; --vmax only saturates the colour scale."""
    pair = minilm()
    encoded, out = run(pair, "The cat sat on the mat because it was tired.")
    att = from_huggingface(out, tokenizer=pair[0], input_ids=encoded["input_ids"])
    plain = Diagram.from_attention(att, layer=2, heads=[0, 3])
    clipped = Diagram.from_attention(att, layer=2, heads=[0, 3], vmax=0.1)
    assert [(g.start, g.stop) for g in clipped.data.groups] == \
        [(g.start, g.stop) for g in plain.data.groups]
    np.testing.assert_array_equal(clipped.data.matrix, plain.data.matrix)


def test_npz_with_extra_arrays_is_read_with_a_note(tmp_path):
    path = tmp_path / "a.npz"
    w = np.full((1, 1, 2, 2), 0.5)
    np.savez(path, attentions=w, tokens=np.array(["a", "b"]), input_ids=np.arange(2),
             text=np.array("a b"), model=np.array("gpt2"))
    with pytest.warns(UserWarning, match="ignored array.*input_ids.*model.*text"):
        att = load_file(path)
    assert att.query_tokens == ("a", "b")


def test_bytes_tokens_are_text():
    att = from_array(np.eye(2), np.array([b"It", "é".encode()]))
    assert att.query_tokens == ("It", "é")
