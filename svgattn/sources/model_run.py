"""What one model run feeds the model, and which of its attention it keeps: a prompt (and
the tokens generated after it), or an encoder-decoder's source and target, the tokens of
the rows and columns, and what the caption says of the run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..captions import Essential, counted
from ..errors import SpecError, printable
from ..limits import check_tokens
from .capture import run_recorded
from .quiet import hushed, stage
from .recorder import Recording
from .run_options import ModelRun

GENERATED_SHOWN = 400  # characters of generated text a caption quotes


@dataclass(frozen=True, eq=False)
class Job:
    """A prepared run: the attention kept (``role``), the model inputs, the query and key
    tokens, where generated tokens start (``None``: none were generated) and the notes."""

    role: str
    inputs: dict[str, Any]
    queries: list[str]
    keys: list[str]
    generated: int | None
    notes: tuple[str, ...]
    runner: Any  # the module called: a causal LM's base model (no logits to compute)


def role_of(model: Any, run: ModelRun) -> str:
    """The attention a run keeps: self-attention, or an encoder-decoder's ``encoder`` (a
    source alone), ``cross`` (with a target) or what ``--attention`` says."""
    pair = bool(getattr(model.config, "is_encoder_decoder", False))
    if not pair:
        if run.target is not None:
            raise SpecError(f"target: a target is an encoder-decoder's decoder text; this model "
                            f"({printable(model.config.model_type, 40)}) reads one text: drop "
                            "--target (put it in --text, or continue the text with "
                            "--generate N)")
        if run.attention not in (None, "self"):
            raise SpecError(f"attention: {run.attention} attention is an encoder-decoder's; "
                            f"this model ({printable(model.config.model_type, 40)}) has "
                            "self-attention only: drop --attention")
        return "self"
    if run.attention == "self":
        raise SpecError("attention: an encoder-decoder has encoder, decoder and cross "
                        "attention; choose one")
    return run.attention or ("cross" if run.target or run.generate else "encoder")


def prepared(model: Any, tokenizer: Any, text: str, run: ModelRun, name: str, field: str,
             quiet: bool, check: Callable[[int], None]) -> Job:
    """The run of ``text`` (module docstring), generation done; ``check(tokens)`` is
    called with the tokens to run, before anything runs."""
    role = role_of(model, run)
    with hushed():
        encoded = tokenizer(text, return_tensors="pt")
    prompt = int(encoded["input_ids"].shape[-1])
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit is not None and prompt + run.generate > limit:
        more = f" + {run.generate} to generate" if run.generate else ""
        raise SpecError(f"model: {field} is {prompt} tokens{more} but {name} takes at most "
                        f"{limit}; shorten the text" + (" or generate fewer tokens"
                                                        if run.generate else ""))
    check_tokens(prompt + run.generate, f"model: {field}")
    check(prompt + run.generate)
    device = next(model.parameters()).device
    inputs = {k: v.to(device) for k, v in encoded.items()
              if k in ("input_ids", "attention_mask", "token_type_ids")}
    if getattr(model.config, "is_encoder_decoder", False):
        return _pair(model, tokenizer, inputs, run, role, quiet)
    notes: tuple[str, ...] = ()
    generated = None
    if run.generate:
        ids = _generated(model, inputs, run, quiet)
        made = int(ids.shape[-1]) - prompt
        notes = (_said(tokenizer, ids[0, prompt:], made, run, f"the {prompt}-token prompt"),)
        inputs = {"input_ids": ids, "attention_mask": ids.new_ones(ids.shape)}
        generated = prompt
    tokens = _tokens(tokenizer, inputs["input_ids"][0])
    return Job(role, inputs, tokens, tokens, generated, notes, _runner(model))


def _runner(model: Any) -> Any:
    """The module to run for attention: a language model's base (its head's logits, 1.6 GB
    for SmolLM2 at 8,192 tokens, are not needed)."""
    return getattr(model, "base_model", model)


def _pair(model: Any, tokenizer: Any, inputs: dict[str, Any], run: ModelRun, role: str,
          quiet: bool) -> Job:
    """An encoder-decoder's run: the source, and the target given or generated."""
    source = _tokens(tokenizer, inputs["input_ids"][0])
    notes: tuple[str, ...] = ()
    generated = None
    if run.target is not None:
        with hushed():
            labels = tokenizer(text_target=run.target, return_tensors="pt")["input_ids"]
        decoder = model.prepare_decoder_input_ids_from_labels(
            labels=labels.to(inputs["input_ids"].device))
    elif run.generate:
        decoder = _generated(model, inputs, run, quiet)
        made = int(decoder.shape[-1]) - 1
        notes = (_said(tokenizer, decoder[0, 1:], made, run, "the decoder's start token"),)
        generated = 1
    elif role != "encoder":
        raise SpecError(f"attention: {role} attention reads a target; give --target TEXT (the "
                        "decoder's text) or --generate N")
    else:  # the encoder alone (T5's whole model asks for decoder inputs)
        return Job(role, inputs, source, source, None, notes, model.get_encoder())
    target = _tokens(tokenizer, decoder[0])
    check_tokens(len(target), "model: --target")
    both = {**inputs, "decoder_input_ids": decoder}
    queries, keys = {"encoder": (source, source), "decoder": (target, target),
                     "cross": (target, source)}[role]
    return Job(role, both, queries, keys, generated if role != "encoder" else None, notes,
               _runner(model))


def _generated(model: Any, inputs: dict[str, Any], run: ModelRun, quiet: bool) -> Any:
    """The prompt and ``run.generate`` tokens after it (fewer if the model ends its
    text): greedy, or sampled with ``run.seed`` (the caller's random state untouched)."""
    import torch

    if not hasattr(model, "generate"):
        raise SpecError("generate: this model cannot generate text (no language-model head)")
    with stage(f"generating {run.generate} tokens", quiet), hushed(), \
            torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(run.seed)
        options: dict[str, Any] = {"do_sample": run.sample, "num_beams": 1}
        if not run.sample:  # greedy: the config's sampling settings would only warn
            options.update(temperature=None, top_p=None, top_k=None)
        pad = getattr(model.generation_config, "pad_token_id", None)
        if pad is None:
            options["pad_token_id"] = getattr(model.generation_config, "eos_token_id", None)
        out = model.generate(**inputs, max_new_tokens=run.generate, **options)
    return out if not hasattr(out, "sequences") else out.sequences


def _said(tokenizer: Any, ids: Any, made: int, run: ModelRun, after: str) -> str:
    """The caption line quoting the generated text."""
    how = f"sampled, seed {run.seed}" if run.sample else "greedy"
    with hushed():
        text = tokenizer.decode(ids.tolist(), skip_special_tokens=False)
    shown = printable(text.replace("\n", " "), GENERATED_SHOWN)
    stopped = "" if made == run.generate else f" (of {run.generate} asked: the model ended it)"
    return Essential(f"Generated {counted(made, 'token')} ({how}) after {after}{stopped}: "
                     f"\u201c{shown}\u201d", f"Generated {counted(made, 'token')} ({how})")


def _tokens(tokenizer: Any, ids: Any) -> list[str]:
    return [str(t) for t in tokenizer.convert_ids_to_tokens(ids.tolist())]


def recorded(model: Any, job: Job, layers: Sequence[int]) -> Recording:
    """The run, recording ``layers`` of ``job.role`` (the job names the part of the model
    to call: a language model's base, an encoder-decoder's encoder)."""
    return run_recorded(model, job.inputs, layers, job.role, job.runner)
