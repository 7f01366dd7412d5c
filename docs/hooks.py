"""MkDocs hooks: each page's generated tables (``<!-- NAME:start -->`` ...
``<!-- NAME:end -->``) filled from the schemas as the site builds (svgattn.docs), so the
site never shows a stale table; and the Views section of the navigation made of every page
in ``docs/views/`` (a new view adds its page, and nothing else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from svgattn.docs import fill

ORDER = ["flow", "matrix", "lines", "grid", "text", "heads", "profile", "neuron", "image",
         "words"]  # svgattn's own views, in the order a reader meets them; others after


def on_config(config: Any) -> Any:
    pages = sorted(Path(config["docs_dir"], "views").glob("*.md"))
    names = [p.stem for p in pages if p.stem != "index"]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Views" in entry:
            entry["Views"] = ["views/index.md", *(f"views/{n}.md" for n in names)]
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return fill(markdown)
