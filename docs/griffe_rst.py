"""Griffe extension: Sphinx roles in docstrings (:class:`~svgattn.scene.Scene`) as Markdown.

A role naming an svgattn object becomes an optional autorefs cross-reference (a link where
the docs render that object, plain code without a warning where they do not); any other
(stdlib, relative names) becomes inline code. mkdocs.yml: extensions: [docs/griffe_rst.py].
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")


def _markdown(match: re.Match[str]) -> str:
    short, target = match[1], match[2].strip()
    shown = target.rsplit(".", 1)[-1] if short else target
    if target.startswith("svgattn."):
        return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'
    return f"`{shown}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring:
            obj.docstring.value = ROLE.sub(_markdown, obj.docstring.value)
