"""Layout invariants every scene must satisfy; shared by the layout and text tests."""

from __future__ import annotations

import itertools

from svgattn.scene import Box, Scene

TOL = 1e-6


def _disjoint(named: list[tuple[str, Box]]) -> list[str]:
    return [f"{a} overlaps {b}" for (a, ba), (b, bb) in itertools.combinations(named, 2)
            if ba.overlaps(bb)]


def violations(scene: Scene) -> list[str]:
    """Every broken invariant, as readable strings (empty when the scene is sound)."""
    problems: list[str] = []
    canvas = scene.canvas
    boxes = [(r.id, r.box) for r in (*scene.heads, *scene.nodes, *scene.legend_rects)]
    boxes.append(("matrix", scene.matrix.box))
    if scene.colorbar:
        boxes.append(("colorbar", scene.colorbar.box))
    texts = scene.texts()
    labels = [(t.id, t.bbox) for t in texts]

    for name, box in boxes + labels:
        if not box.inside(canvas):
            problems.append(f"{name} {box} lies outside the canvas {canvas}")
    problems += _disjoint(boxes)
    problems += _disjoint(labels)

    # A label may only overlap the box it belongs to.
    owner = {t.id: t.id.replace("-label", "") for t in (*scene.head_labels, *scene.node_labels)}
    for t in texts:
        for name, box in boxes:
            if owner.get(t.id) == name:
                if not t.bbox.inside(box):
                    problems.append(f"{t.id} {t.bbox} overflows its box {name} {box}")
            elif t.bbox.overlaps(box):
                problems.append(f"{t.id} overlaps {name}")

    grid = scene.matrix
    for o in scene.outlines:
        if not o.box.inside(grid.box):
            problems.append(f"{o.id} {o.box} is not inside the matrix {grid.box}")
    rows = grid.index.shape[0]
    for i, node in enumerate(scene.nodes):
        centre = node.box.y + node.box.h / 2
        row_centre = grid.y + (i + 0.5) * grid.cell
        if abs(centre - row_centre) > TOL:
            problems.append(f"token-{i} centre {centre} != matrix row centre {row_centre}")
    if scene.nodes and len(scene.nodes) != rows:
        problems.append(f"{len(scene.nodes)} token nodes for {rows} matrix rows")

    heads = {int(r.id.split("-")[1]): r.box for r in scene.heads}
    nodes = {int(r.id.split("-")[1]): r.box for r in scene.nodes}
    for c in scene.connectors:
        (x0, y0), *_, (x3, y3) = c.points
        head = heads[c.head]
        if abs(x0 - head.right) > TOL or not head.y - TOL <= y0 <= head.bottom + TOL:
            problems.append(f"{c.id} starts at {(x0, y0)}, not on the edge of head {head}")
        if c.token in nodes:
            node = nodes[c.token]
            if abs(x3 - node.x) > TOL or not node.y - TOL <= y3 <= node.bottom + TOL:
                problems.append(f"{c.id} ends at {(x3, y3)}, not on the edge of token {node}")
        else:  # no token nodes: the connector ends on its matrix row, left of the matrix
            row_centre = grid.y + (c.token + 0.5) * grid.cell
            if abs(y3 - row_centre) > TOL or x3 > grid.x + TOL:
                problems.append(f"{c.id} ends at {(x3, y3)}, not on row {c.token}")
    return problems
