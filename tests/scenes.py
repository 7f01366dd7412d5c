"""Read a scene (or an SVG) back by role: what the view tests assert on."""

from __future__ import annotations

from svgattn.scene import CellGrid, Path, Rect, Scene, Text


def rects(scene: Scene, role: str) -> list[Rect]:
    return scene.find(Rect, role)


def texts(scene: Scene, role: str) -> list[Text]:
    return scene.find(Text, role)


def grids(scene: Scene) -> list[CellGrid]:
    return scene.find(CellGrid)


def grid(scene: Scene) -> CellGrid:
    found = grids(scene)
    assert found, "no cell grid in the scene"
    return found[0]


def paths(scene: Scene, role: str) -> list[Path]:
    return scene.find(Path, role)


def flow_parts(scene: Scene) -> dict:
    """Heads, token nodes, connectors and the matrix of a flow scene, by index."""
    heads = sorted(rects(scene, "head"), key=lambda r: int(r.id.split("-")[1]))
    nodes = sorted(rects(scene, "node"), key=lambda r: int(r.id.split("-")[1]))
    return {"heads": heads, "nodes": nodes, "connectors": paths(scene, "target"),
            "grid": grid(scene), "head_labels": texts(scene, "head-label"),
            "node_labels": texts(scene, "node-label"), "columns": texts(scene, "col-label"),
            "rows": texts(scene, "row-label")}


def flow_violations(scene: Scene) -> list[str]:
    """The flow view's own invariants: token nodes centred on matrix rows (a long
    sequence: one node per linked token, joined to its row by a leader line from the
    node's right edge to the matrix's left edge), connectors from a head's right edge to
    a token node's left edge (or its row, without nodes)."""
    tol = 1e-6
    parts = flow_parts(scene)
    g = parts["grid"]
    problems = []
    leaders = {int(p.id.split("-")[1]): p for p in paths(scene, "leader")}
    linked = {int(c.id.split("-")[2]) for c in parts["connectors"]}
    for node in parts["nodes"]:
        i = int(node.id.split("-")[1])
        centre = node.box.y + node.box.h / 2
        if not leaders:
            if abs(centre - g.row_centre(i)) > tol:
                problems.append(f"token-{i} centre {centre} != matrix row {g.row_centre(i)}")
            continue
        if i not in leaders:
            problems.append(f"token-{i} has no leader line to its row")
            continue
        (x0, y0), (x1, y1) = leaders[i].points[0], leaders[i].points[-1]
        if abs(x0 - node.box.right) > tol or abs(y0 - centre) > tol:
            problems.append(f"leader-{i} starts at {(x0, y0)}, not at its node {node.box}")
        if abs(y1 - g.row_centre(i)) > tol or not g.x - 0.5 * node.box.h <= x1 <= g.x + tol:
            problems.append(f"leader-{i} ends at {(x1, y1)}, not at matrix row {i}")
    if parts["nodes"] and not leaders and len(parts["nodes"]) != g.index.shape[0]:
        problems.append(f"{len(parts['nodes'])} token nodes for {g.index.shape[0]} rows")
    if leaders and {int(n.id.split("-")[1]) for n in parts["nodes"]} != linked:
        problems.append("a long sequence's token nodes are not exactly the linked tokens")
    heads = {int(r.id.split("-")[1]): r.box for r in parts["heads"]}
    nodes = {int(r.id.split("-")[1]): r.box for r in parts["nodes"]}
    for c in parts["connectors"]:
        _, head, token = c.id.split("-")
        (x0, y0), (x3, y3) = c.points[0], c.points[-1]
        box = heads[int(head)]
        if abs(x0 - box.right) > tol or not box.y - tol <= y0 <= box.bottom + tol:
            problems.append(f"{c.id} starts at {(x0, y0)}, not on the edge of head {box}")
        if int(token) in nodes:
            node = nodes[int(token)]
            if abs(x3 - node.x) > tol or not node.y - tol <= y3 <= node.bottom + tol:
                problems.append(f"{c.id} ends at {(x3, y3)}, not on token {node}")
        elif abs(y3 - g.row_centre(int(token))) > tol or x3 > g.x + tol:
            problems.append(f"{c.id} ends at {(x3, y3)}, not on row {token}")
    return problems
