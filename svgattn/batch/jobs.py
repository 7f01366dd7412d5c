"""What a batch is made of: where a figure's attention comes from, one figure to draw, and
the report of a batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..captions import counted
from ..data import Attention

ARRAYS = (".npz", ".npy")
SPECS = (".toml", ".json")
FIELDS = ("stem", "input", "layer", "head", "layer_name", "head_name", "view")


@dataclass(frozen=True)
class Source:
    """Where a job's attention comes from: a file (each worker reads it, once) or an
    :class:`Attention` in memory (sent with the job)."""

    name: str
    path: str | None = None
    attention: Attention | None = None
    batch_index: int | None = None


@dataclass(frozen=True)
class Job:
    """One figure to draw: its name (for messages), output file, source and options."""

    name: str
    output: str
    source: Source
    settings: Mapping[str, Any]  # view, theme, width, text mode
    options: Mapping[str, Any]  # figure options, with this job's layer and head
    fmt: str
    dpi: float = 300.0
    limits: Mapping[str, float] = field(default_factory=dict)


@dataclass
class Report:
    """What a batch did: outputs written and skipped, and failures as (name, message)."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        total = len(self.written) + len(self.skipped) + len(self.failed)
        parts = [f"{len(self.written)} written"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (exist; --force redraws them)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return f"batch: {counted(total, 'figure')}: " + ", ".join(parts)
