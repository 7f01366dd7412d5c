"""Generate the README's tables from the schemas: theme keys, figure options, views.

``python -m svgattn.docs --write README.md`` replaces each table between its markers
(``theme-keys``, ``options``, ``views``); a test fails when the README is out of date.
A new view's options and theme keys appear here without editing anything else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .theme.schema import all_keys

MARKERS = ("theme-keys", "options", "views")
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


def option_table() -> str:
    from .diagram import option_schema, owners
    from .options import table as options_table

    schema = option_schema()
    return options_table(tuple(schema.values()), {n: owners(n) for n in schema if owners(n)})


def view_table() -> str:
    from .views import describe

    rows = ["| view | what it draws |", "|---|---|"]
    rows += [f"| `{v.name}` | {v.summary} |" for v in describe()]
    return "\n".join(rows)


def updated(readme: str) -> str:
    tables = {"theme-keys": table, "options": option_table, "views": view_table}
    for marker in MARKERS:
        start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
        head, rest = readme.split(start, 1)
        _, tail = rest.split(end, 1)
        readme = f"{head}{start}\n{tables[marker]()}\n{end}{tail}"
    return readme


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        path = Path(sys.argv[2])
        path.write_text(updated(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
