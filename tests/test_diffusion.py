"""record_diffusion on real tiny diffusers models with random weights, built offline: a Stable
Diffusion pipeline (UNet cross-attention, CLIP-like 77-token tokenizer), a PixArt transformer
(attn2 on a patch grid) and an SD3 transformer (joint attention)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import svgattn.sources.diffusion as diffusion_module
from svgattn import Diagram
from svgattn.sources.diffusion import (
    DiffusionRecording,
    attention_of,
    record_diffusion,
    recording_arrays,
)

PROMPT = "a photo of cat on the mat"
WORDS = ["<pad>", "<|startoftext|>", "<|endoftext|>", "<unk>", "a", "photo", "of", "cat", "dog",
         "on", "the", "mat"]
HEIGHT, WIDTH = 32, 48  # latent 16x24 (vae scale 2): grids 16x24 (3 layers) and 8x12 (4 layers)
FINE = ["down_blocks.0.attentions.0.transformer_blocks.0.attn2",
        "up_blocks.1.attentions.0.transformer_blocks.0.attn2",
        "up_blocks.1.attentions.1.transformer_blocks.0.attn2"]
COARSE = ["down_blocks.1.attentions.0.transformer_blocks.0.attn2",
          "mid_block.attentions.0.transformer_blocks.0.attn2",
          "up_blocks.0.attentions.0.transformer_blocks.0.attn2",
          "up_blocks.0.attentions.1.transformer_blocks.0.attn2"]


@pytest.fixture(scope="module")
def pipe():
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2, cross_attention_dim=32,
        attention_head_dim=8, norm_num_groups=32)  # attention_head_dim=8 means 8 heads
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3,
                        latent_channels=4, down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32)
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", 1), ("<|endoftext|>", 2)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|startoftext|>",
                                  eos_token="<|endoftext|>", pad_token="<pad>",
                                  unk_token="<unk>", model_max_length=77)
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=77, projection_dim=32, bos_token_id=1,
        eos_token_id=2, pad_token_id=0))
    sd = StableDiffusionPipeline(
        vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
        scheduler=DDIMScheduler(steps_offset=1, clip_sample=False), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    sd.set_progress_bar_config(disable=True)
    return sd


def run(pipe, steps=2, guidance=7.5):
    return pipe(PROMPT, num_inference_steps=steps, guidance_scale=guidance, height=HEIGHT,
                width=WIDTH, output_type="np", generator=torch.Generator().manual_seed(0)).images


def test_steps_shapes_softmax_tokens_and_unchanged_output(pipe):
    plain = run(pipe)
    with record_diffusion(pipe, average_steps=False, prompt=PROMPT) as rec:
        images = run(pipe)
    assert np.array_equal(images, plain)  # the observers leave the output bit for bit
    out = recording_arrays(rec)
    a = out["attentions"]
    assert a.dtype == np.float32 and a.shape == (2, 4, 8, 8 * 12, 77)
    assert out["steps"] == 2 and out["grid"] == [8, 12] and out["layer_names"] == COARSE
    assert rec.layer_grids == {**dict.fromkeys(FINE, (16, 24)), **dict.fromkeys(COARSE, (8, 12))}
    assert list(rec.layer_grids) == [FINE[0], *COARSE, *FINE[1:]]  # call order
    assert (a >= 0).all() and np.allclose(a.sum(-1), 1, atol=1e-6, rtol=0)
    assert not np.allclose(a[0], a[1])  # two steps, two different records
    words = ["<|startoftext|>", *PROMPT.split(), "<|endoftext|>"]
    assert out["tokens"][:len(words)] == words
    assert len(out["tokens"]) == 77 and out["tokens"][-1] == "<pad>"
    assert rec.nbytes == 2 * (3 * 384 + 4 * 96) * 8 * 77 * 4  # every layer, every step


def test_average_steps_is_the_mean_and_resolution_keeps_one_grid(pipe):
    with record_diffusion(pipe, average_steps=False, resolution=16) as each:
        run(pipe, steps=3)
    with record_diffusion(pipe, resolution=16) as mean:
        run(pipe, steps=3)
    assert each.steps == mean.steps == 3
    assert each.grid == mean.grid == (16, 24) and mean.layer_names == FINE
    assert mean.attentions.shape == (1, 3, 8, 384, 77) and each.attentions.shape[0] == 3
    assert np.allclose(mean.attentions[0], each.attentions.mean(0), atol=1e-6)
    assert mean.nbytes == 3 * 8 * 384 * 77 * 4  # only the 16x24 layers were kept
    assert set(mean.layer_grids) == {*FINE, *COARSE}  # ...though every layer was seen
    with record_diffusion(pipe, resolution=5) as none:
        run(pipe)
    with pytest.raises(ValueError, match=r"resolution 5; grids seen: \[\(8, 12\), \(16, 24\)\]"):
        _ = none.grid


def test_processors_and_hooks_restored_also_after_an_error(pipe):
    before = pipe.unet.attn_processors
    hooks = dict(pipe.unet._forward_pre_hooks)
    with record_diffusion(pipe) as rec:
        inside = pipe.unet.attn_processors
        assert sum(p is not before[n] for n, p in inside.items()) == 7  # attn2 only
        assert all((p is before[n]) == ("attn1" in n) for n, p in inside.items())
    assert all(p is before[n] for n, p in pipe.unet.attn_processors.items())
    with pytest.raises(RuntimeError, match="boom"), record_diffusion(pipe.unet):
        run(pipe, steps=1)
        raise RuntimeError("boom")
    assert all(p is before[n] for n, p in pipe.unet.attn_processors.items())
    assert dict(pipe.unet._forward_pre_hooks) == hooks
    assert isinstance(rec, DiffusionRecording) and rec.steps == 0


def test_records_the_conditional_row_the_layer_uses(pipe):
    """The recorded probabilities, applied to the layer's values, give the layer's output for
    the conditional row (index 1 of the [uncond; cond] batch)."""
    name = COARSE[1]
    attn = pipe.unet.get_submodule(name)
    seen = {}

    def keep(module, args, kwargs, output):
        seen["in"], seen["out"] = kwargs, output

    handle = attn.register_forward_hook(keep, with_kwargs=True)
    try:
        with record_diffusion(pipe, average_steps=False) as rec:
            run(pipe, steps=1)
    finally:
        handle.remove()
    p = torch.from_numpy(rec.attentions[0, rec.layer_names.index(name)])  # [heads, pixels, T]
    context = seen["in"]["encoder_hidden_states"]
    assert context.shape[0] == 2
    v = attn.to_v(context[1]).view(77, 8, -1).transpose(0, 1)  # [heads, T, d]
    mixed = (p @ v).transpose(0, 1).reshape(p.shape[1], -1)
    assert torch.allclose(attn.to_out[0](mixed), seen["out"][1], atol=1e-5)


def test_no_guidance_batch_of_one_and_signature(pipe):
    with record_diffusion(pipe) as rec:
        run(pipe, steps=1, guidance=1.0)
    assert rec.steps == 1 and rec.attentions.shape == (1, 4, 8, 96, 77)
    inner = pipe.unet.attn_processors[COARSE[0] + ".processor"]
    with record_diffusion(pipe):
        wrapped = pipe.unet.attn_processors[COARSE[0] + ".processor"]
        # Attention.forward drops keywords its processor's signature lacks: keep the inner's
        assert inspect.signature(wrapped.__call__) == inspect.signature(inner.__call__)


def test_rejects_what_it_cannot_record(pipe):
    with pytest.raises(TypeError):
        record_diffusion(object()).__enter__()
    with pytest.raises(ValueError, match="no cross-attention"):
        record_diffusion(pipe.vae).__enter__()


def test_pixart_attn2_on_the_patch_grid():
    from diffusers import PixArtTransformer2DModel

    torch.manual_seed(0)
    model = PixArtTransformer2DModel(
        sample_size=16, patch_size=2, in_channels=4, out_channels=8, num_layers=2,
        num_attention_heads=2, attention_head_dim=16, cross_attention_dim=32,
        caption_channels=24, norm_num_groups=32, use_additional_conditions=False).eval()
    x, text = torch.randn(2, 4, 16, 24), torch.randn(2, 5, 24)

    def call():
        with torch.no_grad():
            return model(x, encoder_hidden_states=text, timestep=torch.tensor([3, 3]),
                         added_cond_kwargs={"resolution": None, "aspect_ratio": None}).sample

    plain = call()
    with record_diffusion(model, batch_index=0) as rec:
        assert torch.equal(call(), plain)
    assert rec.grid == (8, 12) and rec.attentions.shape == (1, 2, 2, 96, 5)
    assert np.allclose(rec.attentions.sum(-1), 1, atol=1e-6) and rec.tokens is None


@pytest.mark.parametrize("chunk", [None, 100])  # 100: one query row per chunk of scores
def test_sd3_joint_attention_text_block(chunk, monkeypatch):
    from diffusers import SD3Transformer2DModel

    if chunk is not None:
        monkeypatch.setattr(diffusion_module, "_JOINT_CHUNK", chunk)

    torch.manual_seed(0)
    model = SD3Transformer2DModel(
        sample_size=16, patch_size=2, in_channels=4, out_channels=4, num_layers=2,
        attention_head_dim=8, num_attention_heads=2, joint_attention_dim=32,
        caption_projection_dim=16, pooled_projection_dim=16, pos_embed_max_size=32).eval()
    x, text, pooled = torch.randn(2, 4, 16, 24), torch.randn(2, 6, 32), torch.randn(2, 16)
    attn = model.transformer_blocks[1].attn
    seen = {}
    attn.register_forward_pre_hook(lambda m, a, kw: seen.update(kw), with_kwargs=True)

    def call():
        with torch.no_grad():
            return model(x, encoder_hidden_states=text, pooled_projections=pooled,
                         timestep=torch.tensor([5, 5])).sample

    plain = call()
    with record_diffusion(model, average_steps=False) as rec:
        assert torch.equal(call(), plain)
    a = rec.attentions
    assert rec.joint and rec.grid == (8, 12) and a.shape == (1, 2, 2, 96, 6)
    assert rec.layer_names == ["transformer_blocks.0.attn", "transformer_blocks.1.attn"]
    assert (a.sum(-1) < 1).all()  # one softmax over image and text keys
    # reference: the full softmax over [image; text] keys of the conditional row (1)
    h = lambda t: t.view(1, -1, 2, 8).transpose(1, 2)[0]  # noqa: E731
    hs, ehs = seen["hidden_states"][1:], seen["encoder_hidden_states"][1:]
    q = attn.norm_q(h(attn.to_q(hs))) if attn.norm_q is not None else h(attn.to_q(hs))
    k = torch.cat([h(attn.to_k(hs)), h(attn.add_k_proj(ehs))], 1)
    with torch.no_grad():
        full = (q @ k.transpose(1, 2) * attn.scale).softmax(-1)[..., 96:]
    assert np.allclose(a[0, 1], full.numpy(), atol=1e-6)


def test_a_recording_drawn_as_word_maps(pipe):
    """The words view of a recording: one map per word of the prompt (specials dropped),
    each the mean over the steps, layers and heads recorded."""
    import csv
    import io

    with record_diffusion(pipe, prompt=PROMPT) as rec:
        image = run(pipe)[0]
    att = attention_of(rec, image=(image * 255).round().astype(np.uint8))
    d = Diagram.from_attention(att, view="words")
    rows = list(csv.reader(io.StringIO(d.to_csv().decode())))
    words = [w for w in PROMPT.split()]
    assert sorted({r[1] for r in rows[1:]}) == sorted(set(words))
    mean = rec.attentions.mean(axis=(0, 1, 2))  # steps, layers, heads: [pixels, tokens]
    cat = rec.tokens.index("cat")
    cells = {(int(r[2]), int(r[3])): float(r[4]) for r in rows[1:] if r[1] == "cat"}
    cols = rec.grid[1]
    for (r, c), value in cells.items():
        assert value == pytest.approx(float(mean[r * cols + c, cat]), rel=1e-5)
    assert "Mean over 2 denoising steps" in d.to_svg()
