"""The text view: running text, each token shaded by the attention it receives."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import violations
from models import attention
from scenes import rects, texts

from svgattn import Diagram
from svgattn.colours import contrast_text, luminance
from svgattn.sources import from_array


@pytest.mark.parametrize("theme", ["light", "dark", "paper"])
def test_real_attention_from_one_token(theme):
    d = Diagram.from_attention(attention(), view="text", theme=theme, layer=4, focus="it",
                               hide_special=True)
    scene = d.scene()
    assert violations(scene) == []
    labels = [t.label.text for t in texts(scene, "token-label")]
    assert labels == ["the", "cat", "sat", "on", "the", "mat", "because", "it", "was",
                      "tired", "."]
    boxes = rects(scene, "token-box")
    # the focus token is outlined; every label is readable on its background
    assert [b.style.stroke is not None for b in boxes].count(True) == 1
    for box, label in zip(boxes, texts(scene, "token-label"), strict=True):
        assert label.style.fill == contrast_text(box.style.fill)


def test_shading_follows_the_weights_and_wraps_at_the_width():
    n = 30
    rng = np.random.default_rng(2)
    w = rng.random((n, n))
    w /= w.sum(axis=1, keepdims=True)
    tokens = [f"word{i}" for i in range(n)]
    d = Diagram.from_attention(from_array(w, tokens), view="text", width="3.25in")
    scene = d.scene()
    boxes = rects(scene, "token-box")
    total = w.mean(axis=0)  # the default: attention received, averaged over queries
    darkness = [1 - luminance(b.style.fill) for b in boxes]
    order = np.argsort(total)
    assert all(darkness[order[k]] <= darkness[order[k + 1]] + 1e-9 for k in range(n - 1))
    assert len({round(b.box.y, 3) for b in boxes}) > 3  # wrapped onto several lines
    assert max(b.box.right for b in boxes) <= scene.width
    assert scene.width == pytest.approx(234)
    assert violations(scene) == []


def test_focus_by_index_and_an_unknown_token_is_an_error():
    w = np.eye(3)
    d = Diagram.from_attention(from_array(w, ["a", "b", "c"]), view="text", focus=1)
    boxes = rects(d.scene(), "token-box")
    fills = [b.style.fill for b in boxes]
    assert fills[1] != fills[0] == fills[2]
    from svgattn import SpecError

    with pytest.raises(SpecError, match="focus"):
        Diagram.from_attention(from_array(w, ["a", "b", "c"]), view="text",
                               focus="z").scene()
