"""Generate the README's tables from the schemas: theme keys, figure options, views.

``python -m svgattn.docs --write README.md`` replaces each table between its markers
(``theme-keys``, ``options``, ``views``, ``limits``); a test fails when the README is out of date.
A new view's options and theme keys appear here without editing anything else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .theme.schema import all_keys

MARKERS = ("theme-keys", "options", "views", "limits")


def _default(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"{len(value)} colours" if len(value) > 3 else ", ".join(value)
    return str(value) if value != "" else '""'


def table() -> str:
    """Every theme key: svgattn's own and every view's."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in all_keys():
        kind = key.kind.name
        if key.kind.choices:
            kind += " " + ", ".join(f"`{c}`" for c in key.kind.choices)
        rows.append(f"| `{key.name}` | {kind} | `{_default(key.default)}` | {key.help} |")
    return "\n".join(rows)


def option_table() -> str:
    """Every option: the common ones (with the views that read each) and every view's own."""
    from .options import COMMON, FRAME
    from .options import table as options_table
    from .views.registry import load_all

    views = load_all()
    fields = {o.name: o for o in COMMON}
    users: dict[str, list[str]] = {}
    for name in fields:
        readers = [v for v, view in views.items() if name in view.reads]
        users[name] = [] if name in FRAME or len(readers) == len(views) else readers
    for v, view in views.items():
        for own in view.options:
            fields.setdefault(own.name, own)
            users.setdefault(own.name, [])
            if v not in users[own.name]:
                users[own.name].append(v)
    return options_table(fields, {n: u for n, u in users.items() if u})


def view_table() -> str:
    from .views.registry import load_all

    rows = ["| view | what it draws |", "|---|---|"]
    rows += [f"| `{name}` | {view.summary} |" for name, view in load_all().items()]
    return "\n".join(rows)


def updated(readme: str) -> str:
    from .limits import table as limit_table

    tables = {"theme-keys": table, "options": option_table, "views": view_table,
              "limits": limit_table}
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
