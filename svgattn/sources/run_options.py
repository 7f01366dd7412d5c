"""How a model is run for a figure: which attention of an encoder-decoder, a target text,
tokens generated after the prompt, the device and the precision. The same options come
from the command line (``svgattn model --generate 20``), the API
(``Diagram.from_model(..., generate=20)``) and specs (``generate = 20``), checked here
before anything loads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import SpecError, quote

ATTENTIONS = ("self", "encoder", "decoder", "cross")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("float32", "bfloat16", "float16")
MOST_GENERATED = 4096


class ModelRun(NamedTuple):
    """``generate``: new tokens after the prompt (greedy, or sampled with ``seed``);
    ``target``: an encoder-decoder's target text (what the decoder reads);
    ``attention``: which attention of an encoder-decoder (``encoder``, ``decoder``,
    ``cross``; ``None``: the encoder's for a source alone, else cross-attention);
    ``device``; ``dtype``: what the model computes in (the weights svgattn keeps are
    float32)."""

    generate: int = 0
    sample: bool = False
    seed: int = 0
    target: str | None = None
    attention: str | None = None
    device: str = "auto"
    dtype: str = "float32"

    @classmethod
    def of(cls, given: Mapping[str, Any], where: str = "model") -> ModelRun:
        """Checked options (absent or ``None`` ones take their defaults)."""
        unknown = sorted(set(given) - set(cls._fields))
        if unknown:
            raise SpecError(f"{where}: {quote(unknown[0])} is not a model option; the options "
                            f"are {', '.join(cls._fields)}")
        out = cls(**{k: v for k, v in given.items() if v is not None})
        if isinstance(out.generate, bool) or not isinstance(out.generate, int) or \
                not 0 <= out.generate <= MOST_GENERATED:
            raise SpecError(f"{where}: generate: {quote(out.generate)} is not a number of "
                            f"tokens from 0 to {MOST_GENERATED}")
        if not isinstance(out.sample, bool):
            raise SpecError(f"{where}: sample: {quote(out.sample)}: give true or false")
        if isinstance(out.seed, bool) or not isinstance(out.seed, int) or \
                not 0 <= out.seed < 2**63:
            raise SpecError(f"{where}: seed: {quote(out.seed)} is not a whole number from 0 to "
                            f"{2**63 - 1}")
        if out.seed and not out.sample:
            raise SpecError(f"{where}: seed: seeds the sampling of generated tokens; add "
                            "--sample (greedy generation needs no seed)")
        if out.sample and not out.generate:
            raise SpecError(f"{where}: sample: samples the generated tokens; add --generate N")
        if out.target is not None and (not isinstance(out.target, str) or
                                       not out.target.strip()):
            raise SpecError(f"{where}: target: give the target text (what the decoder reads)")
        if out.target is not None and out.generate:
            raise SpecError(f"{where}: target: give a target text or --generate N, not both")
        for name, allowed in (("attention", ATTENTIONS), ("device", DEVICES),
                              ("dtype", DTYPES)):
            value = getattr(out, name)
            if value is not None and value not in allowed:
                raise SpecError(f"{where}: {name}: {quote(value)} is not one of "
                                f"{', '.join(allowed)}")
        return out

    def describe(self, device: str) -> str:
        """The run, for the caption's provenance (``cpu, float32``; the weights drawn are
        float32 whatever the model computed in)."""
        return f"{device}, {self.dtype}"


def device_of(name: str) -> str:
    """The torch device ``name`` means here: ``auto`` is CUDA, else Apple's MPS, else the
    CPU; one that is not here is a one-line error."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        seen = [d for d, here in (("CUDA", cuda), ("MPS", mps)) if here]
        raise SpecError(f"device: {name} is not available on this machine (torch "
                        f"{torch.__version__} sees {' and '.join(seen) or 'no GPU'}); use "
                        "--device cpu or auto")
    return name
