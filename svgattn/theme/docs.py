"""Generate the README's theme-key table from the schema.

``python -m svgattn.theme.docs --write README.md`` replaces the table between the
``theme-keys`` markers; a test fails when the README is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .schema import all_keys

START, END = "<!-- theme-keys:start -->", "<!-- theme-keys:end -->"
KIND_TEXT = {
    "text": "string", "family": "font family (or list)", "length": "length (pt, in, cm, mm, em)",
    "width": "length, venue or `auto`", "choice": "one of", "color": "colour",
    "color_or_none": "colour or `none`", "color_or_auto": "colour or `auto`",
    "palette": "list of colours", "colormap": "colour-map name or list of >= 2 colours",
    "number": "number",
    "bool": "true/false",
}


def _default(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"{len(value)} colours" if len(value) > 3 else ", ".join(value)
    return str(value) if value != "" else '""'


def table() -> str:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in all_keys():
        kind = KIND_TEXT[key.kind]
        if key.choices:
            kind += " " + ", ".join(f"`{c}`" for c in key.choices)
        rows.append(f"| `{key.name}` | {kind} | `{_default(key.default)}` | {key.doc} |")
    return "\n".join(rows)


def updated(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        path = Path(sys.argv[2])
        path.write_text(updated(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
