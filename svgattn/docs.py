"""Generate the documentation's tables from the schemas: theme keys, figure options, views,
limits, and each view's own options and theme keys.

A page marks a table with ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; NAME is
``theme-keys``, ``options``, ``views``, ``limits``, ``view-options-VIEW`` or
``view-theme-VIEW``. ``python -m svgattn.docs --write docs`` fills the tables of each page
(a test fails when a committed page is out of date), and the docs site's build hook fills them
again as it builds. A new view's options and theme keys appear without editing anything else.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .theme.schema import all_keys

MARKERS = ("theme-keys", "options", "views", "limits")
MARKED = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.S)


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
            first = fields.setdefault(own.name, own)
            users.setdefault(own.name, [])
            if v not in users[own.name]:
                users[own.name].append(v)
            if first is not own and (first.help, first.default) != (own.help, own.default):
                # two views' options of one name (heads' and profile's score): both said
                fields[own.name] = first._replace(help=f"{first.help} {own.help}",
                                                  default=None)
    return options_table(fields, {n: u for n, u in users.items() if u})


def view_table() -> str:
    from .views.registry import load_all

    rows = ["| view | what it draws |", "|---|---|"]
    rows += [f"| `{name}` | {view.summary} |" for name, view in load_all().items()]
    return "\n".join(rows)


def view_options(name: str) -> str:
    """The options one view takes: the common ones it reads, then its own."""
    from .options import BY_NAME, FRAME
    from .views.registry import get

    view = get(name)
    rows = ["| option | spec key | default | meaning |", "|---|---|---|---|"]
    fields = [BY_NAME[n] for n in (*FRAME, *view.reads)] + list(view.options)
    for o in fields:
        default = "" if o.default is None else _default(o.default)
        rows.append(f"| `{o.flag}` | `{o.name}` | {f'`{default}`' if default else ''} | "
                    f"{o.help} |")
    return "\n".join(rows)


def view_theme(name: str) -> str:
    """The theme keys only one view reads (its own table: ``[lines]``)."""
    from .views.registry import get

    keys = get(name).theme_keys
    if not keys:
        return f"The {name} view reads only the common theme keys."
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in keys:
        rows.append(f"| `{key.name}` | {key.kind.name} | `{_default(key.default)}` | "
                    f"{key.help} |")
    return "\n".join(rows)


def generated(name: str) -> str | None:
    """The table a marker names (``None``: a marker of something else, left as it is)."""
    from .limits import table as limit_table

    tables = {"theme-keys": table, "options": option_table, "views": view_table,
              "limits": limit_table}
    if name in tables:
        return tables[name]()
    for prefix, make in (("view-options-", view_options), ("view-theme-", view_theme)):
        if name.startswith(prefix):
            return make(name[len(prefix):])
    return None


def fill(text: str) -> str:
    """``text`` with every marked table filled (other markers kept as they are)."""
    def table_of(m: re.Match[str]) -> str:
        found = generated(m[1])
        return m[0] if found is None else f"<!-- {m[1]}:start -->\n{found}\n<!-- {m[1]}:end -->"
    return MARKED.sub(table_of, text)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--write":  # files, or folders of pages
        for name in sys.argv[2:]:
            for path in sorted(Path(name).rglob("*.md")) if Path(name).is_dir() else [Path(name)]:
                text = path.read_text(encoding="utf-8")
                if fill(text) != text:
                    path.write_text(fill(text), encoding="utf-8")
    else:
        print(table())
