"""Run a local Hugging Face vision model on a picture, offline: a ViT, DeiT, DINOv2 (with
or without registers), the CLIP or SigLIP vision tower, or a LLaVA-style vision-language
model. The model's own image processor prepares the picture; its attention comes back
with the grid of patch tokens (:mod:`svgattn.patches`) and the part of the picture the
grid covers (a processor's centre crop), so a map lies on what the model saw.

The folder is untrusted input, checked as a text model's is
(:mod:`svgattn.sources.model_files`); the picture is read by :mod:`svgattn.photo`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Attention, make_attention
from ..errors import SpecError, SvgattnError, printable
from ..patches import make_patches
from ..photo import Photo, read_image
from .model_load import locate, offline, require_models
from .quiet import hushed, stage

# model_type -> the names of the tokens before the patches (registers are added)
PREFIX = {"vit": ("[CLS]",), "deit": ("[CLS]", "[DIST]"), "dinov2": ("[CLS]",),
          "dinov2_with_registers": ("[CLS]",), "clip": ("[CLS]",),
          "clip_vision_model": ("[CLS]",), "siglip": (), "siglip_vision_model": ()}
VLM = ("llava", "llava_next")
KINDS = (*PREFIX, *VLM)


def run_vision(path: str, image: str | os.PathLike[str] | Photo, text: str | None = None, *,
               quiet: bool = True, generate: int = 0) -> Attention:
    """The attention of every layer of the vision model at ``path`` on ``image`` (a file or
    a :class:`~svgattn.photo.Photo`), with its grid of patches, the picture cropped to what
    the grid covers, and each token's output norm at the last layer. A vision-language
    model reads ``text`` too (``<image>`` marks where the picture goes; at the start when
    absent) and may answer it (``generate`` tokens, greedy)."""
    require_models()
    photo = image if isinstance(image, Photo) else read_image(image)
    return _run(path, photo, text, quiet, generate)


@lru_cache(maxsize=4)
def _run(path: str, photo: Photo, text: str | None, quiet: bool, generate: int) -> Attention:
    folder, processor, model, kind = _load(path, quiet)
    name = printable(folder.name, 60)
    from PIL import Image

    picture = Image.fromarray(np.asarray(photo.pixels), "RGB")
    with stage("running the model", quiet), hushed():
        try:
            if kind in VLM:
                return _vlm(model, processor, picture, photo, text, generate, folder.name)
            if text is not None:
                raise SpecError(f"model: {name}: --text: a vision encoder reads the picture "
                                "only; drop --text")
            if generate:
                raise SpecError(f"model: {name}: generate: a vision encoder does not write "
                                "text; drop it")
            return _encoder(model, processor, picture, photo, kind, folder.name)
        except SvgattnError:
            raise
        except Exception as exc:  # the model's files are input: their failure is not ours
            raise SpecError(f"model: {name}: the model fails on this picture "
                            f"({type(exc).__name__}: {printable(str(exc), 160)})") from None


@lru_cache(maxsize=2)
def _load(path: str, quiet: bool) -> tuple[Path, Any, Any, str]:
    offline()
    folder, gguf = locate(path)
    name = printable(folder.name, 60)
    from .model_files import check_loaded, inspect

    kind = "" if gguf is not None else _kind(folder)
    if kind not in KINDS:
        raise SpecError(f"model: {name}: --image: model_type {printable(repr(kind), 40)} is not "
                        f"a vision model svgattn runs ({', '.join(KINDS)}); drop --image for a "
                        "text model")
    inspect(folder, tokenizer=kind in VLM)
    with stage("loading torch and transformers", quiet), hushed():
        import transformers
    safe: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True,
                            "use_safetensors": True}
    with stage(f"loading {name}", quiet), hushed():
        try:
            if kind in VLM:
                processor = transformers.AutoProcessor.from_pretrained(folder, **safe)
                auto: Any = transformers.AutoModelForImageTextToText
            else:
                processor = transformers.AutoImageProcessor.from_pretrained(folder, **safe)
                auto = transformers.AutoModel
            # output_attentions needs eager attention: sdpa returns none
            model, info = auto.from_pretrained(folder, output_loading_info=True,
                                               attn_implementation="eager", **safe)
        except SvgattnError:
            raise
        except Exception as exc:
            raise SpecError(f"model: {name}: transformers cannot load it "
                            f"({type(exc).__name__}: {printable(str(exc), 160)})") from None
    check_loaded(info, name)
    model.eval()
    return folder, processor, model, kind


def _kind(folder: Path) -> str:
    """The model type its config.json names (read within the JSON limits)."""
    from .model_files import read_json

    path = folder / "config.json"
    config = read_json(path, printable(folder.name, 60)) if path.is_file() else {}
    return str(config.get("model_type")) if isinstance(config, dict) else ""


def _encoder(model: Any, processor: Any, picture: Any, photo: Photo, kind: str,
             source: str) -> Attention:
    """A vision encoder's attention over [prefix tokens, patches]."""
    import torch

    inputs = processor(images=picture, return_tensors="pt")
    pixels = inputs["pixel_values"]
    # a full CLIP or SigLIP checkpoint: its vision tower (the text tower needs input_ids)
    vision = model.vision_model if kind in ("clip", "siglip") else model
    config = getattr(vision, "config", model.config)
    kw: dict[str, Any] = {}
    if kind not in ("dinov2", "dinov2_with_registers"):  # those always interpolate
        kw["interpolate_pos_encoding"] = True
    with torch.no_grad():
        out = vision(pixel_values=pixels, output_attentions=True, output_hidden_states=True,
                     **kw)
    if not out.attentions:
        raise SpecError(f"model: {source}: returned no attention weights; its attention "
                        "implementation keeps none")
    weights = torch.stack(out.attentions)[:, 0].float().numpy()
    prefix = list(PREFIX[kind])
    if kind == "dinov2_with_registers":
        prefix += [f"[REG{i}]" for i in range(int(config.num_register_tokens))]
    rows, cols = _grid(config, pixels.shape[-2:])
    if len(prefix) + rows * cols != weights.shape[-1]:
        raise SpecError(f"model: {source}: {weights.shape[-1]} tokens are not {len(prefix)} "
                        f"prefix tokens and a {rows} x {cols} grid; svgattn does not know this "
                        "model's token layout")
    tokens = prefix + [f"{r},{c}" for r in range(rows) for c in range(cols)]
    att = make_attention(weights, tokens, tokens, source=source)
    last = out.hidden_states[-1][0].float()
    norms = torch.linalg.vector_norm(last, dim=-1).numpy()
    seen = photo.cropped(*_covered(photo.size, processor))
    patches = make_patches(len(tokens), grid=(rows, cols), patch_start=len(prefix),
                           photo=_fitted(seen, rows, cols), norms=norms, where=source,
                           note="")
    return replace(att, patches=patches, notes=_notes(photo, seen, rows, cols))


def _vlm(model: Any, processor: Any, picture: Any, photo: Photo, text: str | None,
         generate: int, source: str) -> Attention:
    """A LLaVA-style model: the language model's attention over text and image tokens, the
    image tokens mapped back to the vision tower's grid."""
    import torch

    token = getattr(processor, "image_token", None) or "<image>"
    prompt = text if text is not None else ""
    if token not in prompt:
        prompt = f"{token}\n{prompt}"
    inputs = processor(images=picture, text=prompt, return_tensors="pt")
    ids = inputs["input_ids"]
    generated = None
    if generate:
        with torch.no_grad():
            out_ids = model.generate(**inputs, max_new_tokens=generate, do_sample=False)
        generated = ids.shape[1]
        inputs = dict(inputs)
        inputs["input_ids"] = out_ids
        inputs["attention_mask"] = torch.ones_like(out_ids)
        ids = out_ids
    with torch.no_grad():
        out = model(**inputs, output_attentions=True)
    if not out.attentions:
        raise SpecError(f"model: {source}: returned no attention weights")
    weights = torch.stack(out.attentions)[:, 0].float().numpy()
    image_id = int(model.config.image_token_id if hasattr(model.config, "image_token_id")
                   else model.config.image_token_index)
    span = np.flatnonzero(ids[0].numpy() == image_id)
    strategy = getattr(model.config, "vision_feature_select_strategy", "default")
    tokenizer = processor.tokenizer
    strings = [tokenizer.convert_ids_to_tokens(int(i)) for i in ids[0]]
    if model.config.model_type == "llava_next":
        grid, names, drawn = _tiled(model.config, inputs, span, photo, strategy, source)
        notes: tuple[str, ...] = () if drawn is photo else (
            f"The picture is drawn padded to {drawn.size[0]} x {drawn.size[1]} pixels, as the "
            "model's processor padded it to its tiles (the grey band is not the picture)",)
    else:
        grid, names, seen = _single(model.config, inputs, span, photo, strategy, processor,
                                    source)
        drawn = _fitted(seen, *grid.shape)
        notes = _notes(photo, seen, *grid.shape)
    for at, name in zip(span, names, strict=True):
        strings[at] = name
    rows, cols = grid.shape
    att = make_attention(weights, strings, strings, source=source)
    patches = make_patches(len(strings), grid=(rows, cols), tokens=grid, photo=drawn,
                           where=source)
    return replace(att, patches=patches, generated=generated, notes=notes)


def _single(config: Any, inputs: Any, span: np.ndarray, photo: Photo, strategy: str,
            processor: Any, source: str) -> tuple[np.ndarray, list[str], Photo]:
    """LLaVA: one picture, one grid of image tokens in a row (the token of each patch, the
    image tokens' names, the part of the picture the processor kept)."""
    rows, cols = _grid(config.vision_config, inputs["pixel_values"].shape[-2:])
    names = [f"{k // cols},{k % cols}" for k in range(len(span))]
    if strategy == "full":  # the CLS feature first, then the patches
        span, names = span[1:], ["[CLS]", *names[:-1]]
    if len(span) != rows * cols or np.any(np.diff(span) != 1):
        raise SpecError(f"model: {source}: {len(span)} image tokens do not form a {rows} x "
                        f"{cols} grid; svgattn does not know this model's image-token layout")
    seen = photo.cropped(*_covered(photo.size, processor.image_processor))
    return span.reshape(rows, cols), names, seen


def _tiled(config: Any, inputs: Any, span: np.ndarray, photo: Photo, strategy: str,
           source: str) -> tuple[np.ndarray, list[str], Photo]:
    """LLaVA-NeXT ("anyres"): the image tokens are a base grid of the whole picture squashed
    to one tile, then the high-resolution grid of the tiles stitched together (padding
    removed), each row followed by a newline token. The map is the high-resolution grid,
    over the whole picture; the base grid's and newline tokens are tokens outside it."""
    from transformers.models.llava_next.modeling_llava_next import (
        get_anyres_image_grid_shape,
        unpad_image,
    )

    if strategy != "default":
        raise SpecError(f"model: {source}: vision_feature_select_strategy {strategy!r}: svgattn "
                        "maps LLaVA-NeXT's default layout only")
    vision = config.vision_config
    tile = int(vision.image_size)
    side = tile // int(vision.patch_size)
    size = [int(v) for v in inputs["image_sizes"][0]]
    tiles = get_anyres_image_grid_shape(size, config.image_grid_pinpoints, tile)
    import torch

    canvas = torch.zeros(1, tiles[0] * side, tiles[1] * side)
    rows, cols = unpad_image(canvas, size).shape[1:]
    if len(span) != side * side + rows * (cols + 1) or np.any(np.diff(span) != 1):
        raise SpecError(f"model: {source}: {len(span)} image tokens are not a {side} x {side} "
                        f"base grid and a {rows} x {cols} grid with newlines; svgattn does not "
                        "know this model's image-token layout")
    names = [f"base {k // side},{k % side}" for k in range(side * side)]
    grid = np.zeros((rows, cols), dtype=np.int64)
    for r in range(rows):
        start = side * side + r * (cols + 1)
        grid[r] = span[start:start + cols]
        names += [f"{r},{c}" for c in range(cols)] + ["<newline>"]
    return grid, names, _padded(photo, rows, cols)


def _padded(photo: Photo, rows: int, cols: int) -> Photo:
    """The picture centred on a grey band to the grid's aspect (a tiled model's processor
    pads the picture to its tiles, and unpadding keeps whole patches)."""
    w, h = photo.size
    if abs((w / cols) / (h / rows) - 1) <= 0.02:
        return photo
    side = max(w / cols, h / rows)
    width, height = max(w, round(side * cols)), max(h, round(side * rows))
    canvas = np.full((height, width, 3), 128, dtype=np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    canvas[top:top + h, left:left + w] = photo.pixels
    canvas.setflags(write=False)
    return Photo(canvas, photo.name, lossy=photo.lossy or photo.jpeg is not None)


def _grid(config: Any, pixels_hw: Any) -> tuple[int, int]:
    """Patch rows and columns of the picture fed in (not of the config's image size)."""
    size = config.patch_size
    ph, pw = (size, size) if isinstance(size, int) else tuple(size)
    return int(pixels_hw[0]) // ph, int(pixels_hw[1]) // pw


def _covered(size: tuple[int, int], processor: Any) -> tuple[float, float, float, float]:
    """The box of the original picture the processor keeps (left, top, right, bottom):
    the whole picture when it is resized to a fixed size, the centre after a short-edge
    resize and a centre crop (CLIP, DINOv2)."""
    w, h = size
    if not getattr(processor, "do_center_crop", False):
        return 0.0, 0.0, float(w), float(h)
    given = processor.size if isinstance(processor.size, dict) else vars(processor.size)
    given = {k: v for k, v in given.items() if v is not None}
    crop = processor.crop_size if isinstance(processor.crop_size, dict) else \
        vars(processor.crop_size)
    if "shortest_edge" in given:
        s = given["shortest_edge"]
        short, long = min(w, h), max(w, h)
        nw, nh = (s, int(s * long / short)) if w <= h else (int(s * long / short), s)
    else:
        nw, nh = given["width"], given["height"]
    top, left = (nh - crop["height"]) // 2, (nw - crop["width"]) // 2
    sx, sy = w / nw, h / nh
    return left * sx, top * sy, (left + crop["width"]) * sx, (top + crop["height"]) * sy


def _fitted(photo: Photo, rows: int, cols: int) -> Photo:
    """The picture as the model saw it: resized (squashed, as processors do) to the grid's
    aspect when its own differs."""
    w, h = photo.size
    if abs((w / cols) / (h / rows) - 1) <= 0.02:
        return photo
    from PIL import Image

    side = max(w / cols, h / rows)
    size = (max(1, round(side * cols)), max(1, round(side * rows)))
    resized = Image.fromarray(np.asarray(photo.pixels), "RGB").resize(
        size, Image.Resampling.LANCZOS)
    pixels = np.asarray(resized, dtype=np.uint8)
    pixels.setflags(write=False)
    return Photo(pixels, photo.name)


def _notes(photo: Photo, seen: Photo, rows: int, cols: int) -> tuple[str, ...]:
    """What the caption says of the picture drawn, when it is not the file as it is."""
    out = []
    if seen.size != photo.size:
        out.append(f"The model's processor keeps the centre {seen.size[0]} x {seen.size[1]} "
                   f"pixels of the {photo.size[0]} x {photo.size[1]} picture: the part drawn")
    if _fitted(seen, rows, cols) is not seen:
        out.append(f"The picture is drawn resized to {cols}:{rows}, as the model's processor "
                   "resized it")
    return tuple(out)
