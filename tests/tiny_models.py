"""Tiny models with random weights, built offline into folders as a user would have them
(config.json, model.safetensors, a tokenizer): the architectures no weights ship for on
PyPI (encoder-decoders, GPT-2, a grouped-query Llama). Never a trained model's figure."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

WORDS = [
    "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "le", "chat", "est", "assis", "sur",
    "tapis", "un", "chien", "it", "was", "tired", "because", "and", "then",
]  # fmt: skip
SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]  # ids 0..3


def _tokenizer(folder: Path, bos: bool) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIAL + WORDS)}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.decoder = decoders.WordPiece()
    single = "<s> $A </s>" if bos else "$A </s>"
    tk.post_processor = processors.TemplateProcessing(
        single=single, pair=single + " $B </s>",
        special_tokens=[("<s>", vocab["<s>"]), ("</s>", vocab["</s>"])])
    PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", bos_token="<s>",
                            eos_token="</s>", unk_token="<unk>").save_pretrained(folder)


def _config(kind: str):
    import transformers as t

    ids = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2,
               vocab_size=len(SPECIAL) + len(WORDS))
    small = dict(encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                 decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                 max_position_embeddings=64, d_model=32)
    if kind == "bart":
        return t.BartForConditionalGeneration, t.BartConfig(
            **small, decoder_start_token_id=2, forced_bos_token_id=None, **ids), True
    if kind == "marian":
        return t.MarianMTModel, t.MarianConfig(
            **small, decoder_start_token_id=0, decoder_vocab_size=ids["vocab_size"], **ids), False
    if kind == "t5":
        return t.T5ForConditionalGeneration, t.T5Config(
            d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
            decoder_start_token_id=0, pad_token_id=0, eos_token_id=2,
            vocab_size=ids["vocab_size"]), False
    if kind == "gpt2":
        return t.GPT2LMHeadModel, t.GPT2Config(
            n_layer=3, n_head=4, n_embd=32, n_positions=128, **ids), True
    if kind == "llama":  # grouped-query attention: 4 heads read 2 kv heads
        return t.LlamaForCausalLM, t.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, **ids), True
    raise ValueError(kind)


@cache
def folder(kind: str) -> Path:
    """A folder holding a tiny random ``kind`` model (bart, marian, t5, gpt2, llama),
    built once per test session under the session's temporary directory."""
    import torch

    root = Path(os.environ.get("SVGATTN_TEST_TMP") or _temp()) / "tiny-models" / kind
    if (root / "config.json").exists():
        return root
    cls, config, bos = _config(kind)
    torch.manual_seed(0)
    cls(config).save_pretrained(root)
    _tokenizer(root, bos)
    return root


@cache
def _temp() -> str:
    """This process's folder for the tiny models, removed when it ends (each test worker
    makes its own: 58 were left in /tmp after a day's runs)."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="svgattn-tiny-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@cache
def vision_folder(kind: str) -> Path:
    """A folder holding a tiny random vision model with its image processor: ``vit`` (a
    32 x 32 picture in 8 x 8 patches, CLS first), ``dinov2reg`` (DINOv2 with 4
    registers, a centre crop), ``siglip`` (no CLS), ``llava`` (a CLIP tower and a Llama
    reading 16 image tokens in its text) or ``llava_next`` (tiles: a base grid, then the
    stitched high-resolution grid with a newline token after each row). Random weights:
    never a trained model's figure."""
    import torch
    import transformers as t

    root = Path(os.environ.get("SVGATTN_TEST_TMP") or _temp()) / "tiny-vision" / kind
    if (root / "config.json").exists():
        return root
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=64)
    torch.manual_seed(0)
    if kind == "vit":
        t.ViTModel(t.ViTConfig(image_size=32, patch_size=8, **small)).save_pretrained(root)
        t.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(root)
    elif kind == "dinov2reg":
        t.Dinov2WithRegistersModel(t.Dinov2WithRegistersConfig(
            image_size=32, patch_size=8, num_register_tokens=4, **small)).save_pretrained(root)
        t.BitImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                            image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                            ).save_pretrained(root)
    elif kind == "siglip":
        t.SiglipVisionModel(t.SiglipVisionConfig(image_size=32, patch_size=8, **small)
                            ).save_pretrained(root)
        t.SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(root)
    elif kind in ("llava", "llava_next"):
        _llava(root, tiled=kind == "llava_next")
    else:
        raise ValueError(kind)
    return root


LLAVA_WORDS = "<unk> <pad> <s> </s> <image> USER ASSISTANT : what is in the picture ? a cat dog"


PINPOINTS = [[32, 64], [64, 32], [64, 64]]  # LLaVA-NeXT's tile layouts (32-pixel tiles)


def _llava(root: Path, tiled: bool = False) -> None:
    import transformers as t
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    words = LLAVA_WORDS.split()
    vocab = {w: i for i, w in enumerate(words)}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                pre_tokenizers.Punctuation()])
    tk.post_processor = processors.TemplateProcessing(single="<s> $A",
                                                      special_tokens=[("<s>", 2)])
    tok = t.PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", pad_token="<pad>",
                                    bos_token="<s>", eos_token="</s>",
                                    extra_special_tokens={"image_token": "<image>"})
    pictures: dict = dict(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    if tiled:
        images = t.LlavaNextImageProcessor(**pictures, image_grid_pinpoints=PINPOINTS)
        processor = t.LlavaNextProcessor(image_processor=images, tokenizer=tok, patch_size=8,
                                         vision_feature_select_strategy="default",
                                         num_additional_image_tokens=1)
    else:
        images = t.CLIPImageProcessor(**pictures)
        processor = t.LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=8,
                                     vision_feature_select_strategy="default",
                                     num_additional_image_tokens=1)
    vision = t.CLIPVisionConfig(image_size=32, patch_size=8, hidden_size=32,
                                intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=2, projection_dim=16)
    text = t.LlamaConfig(vocab_size=len(words), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=128, bos_token_id=2, eos_token_id=3,
                         pad_token_id=1)
    if tiled:
        t.LlavaNextForConditionalGeneration(t.LlavaNextConfig(
            vision_config=vision, text_config=text, image_token_index=vocab["<image>"],
            image_grid_pinpoints=PINPOINTS, vision_feature_select_strategy="default",
            vision_feature_layer=-2)).save_pretrained(root)
    else:
        config = t.LlavaConfig(vision_config=vision, text_config=text,
                               image_token_index=vocab["<image>"],
                               vision_feature_select_strategy="default",
                               vision_feature_layer=-2, image_seq_length=16)
        t.LlavaForConditionalGeneration(config).save_pretrained(root)
    processor.save_pretrained(root)
