"""Layout invariants every scene of every view must satisfy (shared by the view tests).

Generic: everything lies inside the canvas; no two labels overlap; a label overlaps no box
but the one it belongs to (``Text.owner``), and lies inside that one; solid boxes do not
overlap each other or a matrix. View tests add their own (token nodes centred on matrix
rows, connectors ending on box edges ...).
"""

from __future__ import annotations

from svgattn.scene import Box, CellGrid, Rect, Scene, Text

TOL = 1e-6
# Rectangles that may overlap others by design: group outlines sit on the matrix, a
# thumbnail's frame surrounds its lines, a picture's frame its cells, a profile's dots
# are points of a scatter (two heads of one value share a place).
OVERLAYS = {"group", "thumbnail-frame", "frame", "head-dot"}


def _overlaps(named: list[tuple[str, Box]]) -> list[str]:
    """Pairs of overlapping boxes, by a sweep over x (fast for thousands of labels)."""
    out = []
    items = sorted(named, key=lambda item: item[1].x)
    active: list[tuple[str, Box]] = []
    for name, box in items:
        active = [(n, b) for n, b in active if b.right > box.x + TOL]
        for other, b in active:
            if box.overlaps(b):
                out.append(f"{other} overlaps {name}")
        active.append((name, box))
    return out


def violations(scene: Scene) -> list[str]:
    """Every broken invariant, as readable strings (empty when the scene is sound)."""
    problems: list[str] = []
    canvas = scene.canvas
    texts = [n for n in scene.walk() if isinstance(n, Text)]
    rects = [n for n in scene.walk() if isinstance(n, Rect)]
    grids = [n for n in scene.walk() if isinstance(n, CellGrid)]
    solid = [(r.id, r.box) for r in rects if r.role not in OVERLAYS]
    blocks = [(g.id, g.box) for g in grids]
    for name, box in [*solid, *blocks, *((t.id, t.bbox) for t in texts)]:
        if not box.inside(canvas):
            problems.append(f"{name} {box} lies outside the canvas {canvas}")
    problems += _overlaps([(t.id, t.bbox) for t in texts])
    problems += _overlaps(solid + blocks)
    by_id = {r.id: r.box for r in rects}
    for t in texts:
        if t.owner is not None:
            owner = by_id.get(t.owner)
            if owner is None:
                problems.append(f"{t.id} belongs to a missing box {t.owner}")
            elif not t.bbox.inside(owner):
                problems.append(f"{t.id} {t.bbox} overflows its box {t.owner} {owner}")
    owners = {t.id: t.owner for t in texts}
    for pair in _overlaps([(f"text:{t.id}", t.bbox) for t in texts] + [
            (f"box:{n}", b) for n, b in solid + blocks]):
        a, b = pair.split(" overlaps ")
        kinds = {a.split(":", 1)[0], b.split(":", 1)[0]}
        if kinds != {"text", "box"}:
            continue
        text_id = (a if a.startswith("text:") else b).split(":", 1)[1]
        box_id = (b if b.startswith("box:") else a).split(":", 1)[1]
        if owners.get(text_id) != box_id:
            problems.append(f"label {text_id} overlaps {box_id}")
    return problems
