"""Property-based tests over random diagrams: tokens from the whole Unicode range (lone
surrogates, controls and unassigned code points included), 1-300 tokens, 1-16 heads,
random weights and random valid themes.

For every example: the layout invariants hold, the SVG parses, nothing in it can run or
fetch, and cairosvg converts it. For a few examples, two renders in separate processes
are byte-identical in every format.

Fast by default; ``SVGATTN_PROPERTY_EXAMPLES=500 python -m pytest tests/test_properties.py``
runs a longer search.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import cairosvg
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import violations
from test_no_fetch import assert_inert

from svgattn import Diagram, Head

EXAMPLES = int(os.environ.get("SVGATTN_PROPERTY_EXAMPLES", "30"))
PROCESS_EXAMPLES = max(2, EXAMPLES // 10)

ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
TOKEN = st.one_of(st.text(ANY_CHAR, max_size=12), st.sampled_from(
    ["the", "Ġcat", "▁sat", "##ing", "[CLS]", " ", "", "注意力", "שלום", "🤖", "e\u0301"]))
COLOUR = st.from_regex(r"\A#[0-9a-f]{6}\Z")


@st.composite
def themes(draw: st.DrawFn) -> str:
    """A random valid theme, as TOML text."""
    lines = [f'extends = "{draw(st.sampled_from(["light", "dark", "paper", "seed"]))}"']
    lines.append("[font]")
    lines.append(f"size = {draw(st.integers(6, 18))}")
    lines.append("[colors]")
    for key in ("background", "text", "cell_high", "cell_low", "node_fill", "grid"):
        if draw(st.booleans()):
            lines.append(f'{key} = "{draw(COLOUR)}"')
    if draw(st.booleans()):
        heads = draw(st.lists(COLOUR, min_size=1, max_size=10))
        lines.append(f"heads = {json.dumps(heads)}")
    if draw(st.booleans()):
        lines.append(f"colormap = {json.dumps(draw(st.lists(COLOUR, min_size=2, max_size=9)))}")
    lines.append("[figure]")
    width = draw(st.sampled_from(["auto", "3.25in", "6.75in", "12cm"]))
    lines.append(f'width = "{width}"')
    lines.append("[matrix]")
    lines.append(f"row_labels = {draw(st.sampled_from(['true', 'false']))}")
    lines.append(f"column_labels = {draw(st.sampled_from(['true', 'false']))}")
    lines.append("[flow]")
    lines.append(f"token_nodes = {draw(st.sampled_from(['true', 'false']))}")
    lines.append("[legend]")
    lines.append(f"show = {draw(st.sampled_from(['true', 'false']))}")
    lines.append("[text]")
    lines.append(f"max_label_chars = {draw(st.integers(0, 40))}")
    return "\n".join(lines) + "\n"


@st.composite
def specs(draw: st.DrawFn, most: int = 300) -> dict:
    n = draw(st.integers(1, most))
    cross = draw(st.booleans()) and n > 1
    m = draw(st.integers(1, min(most, 40))) if cross else n
    tokens = draw(st.lists(TOKEN, min_size=n, max_size=n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["binary", "soft", "spiky", "tiny", "huge"]))
    w = rng.random((n, m))
    w = {"binary": (w > 0.7).astype(float), "soft": w, "spiky": w**12,
         "tiny": w * 1e-6, "huge": w * 1e300}[kind]
    heads = []
    for h in range(draw(st.integers(1, 16))):
        name = draw(st.text(ANY_CHAR, min_size=1, max_size=10)).strip() or f"h{h}"
        if draw(st.booleans()):
            links = sorted(set(rng.integers(0, n, size=rng.integers(0, min(n, 6) + 1)).tolist()))
            heads.append({"name": f"{name} {h}", "tokens": links})
        else:
            heads.append({"name": f"{name} {h}", "weights": rng.random((n, m)).tolist()})
    out = {"weights": w.tolist(), "heads": heads,
           "title": draw(st.one_of(st.none(), st.text(ANY_CHAR, min_size=1, max_size=30)))}
    if cross:
        out["query_tokens"] = tokens
        out["key_tokens"] = draw(st.lists(TOKEN, min_size=m, max_size=m))
    else:
        out["tokens"] = tokens
    return {k: v for k, v in out.items() if v is not None}


def _diagram(spec: dict, theme: Path) -> Diagram:
    heads = [Head(**h) for h in spec["heads"]]
    args = {k: v for k, v in spec.items() if k != "heads"}
    return Diagram(heads=heads, theme=theme, **args)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(spec=specs(), theme=themes())
def test_random_diagrams_lay_out_render_and_convert(spec, theme, tmp_path):
    path = tmp_path / "theme.toml"
    path.write_text(theme, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # narrow widths shrink type, with a warning
        diagram = _diagram(spec, path)
        scene = diagram.scene()
        assert violations(scene) == []
        svg = diagram.to_svg()
    assert_inert(svg)
    assert "<script" not in svg
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), dpi=24)
    assert png.startswith(b"\x89PNG")


RENDER = """
import json, sys, warnings
warnings.simplefilter("ignore")
from svgattn import Diagram, Head
spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
heads = [Head(**h) for h in spec.pop("heads")]
d = Diagram(heads=heads, theme=sys.argv[2], **spec)
for fmt in ("svg", "pdf", "png", "eps"):
    open(f"{sys.argv[3]}.{fmt}", "wb").write(d.to_bytes(fmt, dpi=50))
"""


@settings(max_examples=PROCESS_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(spec=specs(most=40), theme=themes())
def test_two_processes_write_identical_bytes(spec, theme, tmp_path):
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(spec), encoding="utf-8")  # \ud800 survives as an escape
    path = tmp_path / "theme.toml"
    path.write_text(theme, encoding="utf-8")
    outputs = []
    for run in ("a", "b"):
        subprocess.run([sys.executable, "-c", RENDER, str(source), str(path),
                        str(tmp_path / run)], check=True, capture_output=True, timeout=300)
        outputs.append({fmt: (tmp_path / f"{run}.{fmt}").read_bytes()
                        for fmt in ("svg", "pdf", "png", "eps")})
    for fmt in ("svg", "pdf", "png", "eps"):
        assert outputs[0][fmt] == outputs[1][fmt], f"{fmt} differs between processes"
