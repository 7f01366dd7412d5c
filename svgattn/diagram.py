"""The public object: a flow diagram that renders itself to SVG, PDF, PNG or EPS."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import limits
from .attention import Attention
from .errors import FontError, SpecError, SvgattnError, quote
from .export import convert, format_of, write_atomic
from .layout import layout_flow
from .model import FlowData, Head, LinkRule, build, check_vmax
from .render import render_svg
from .scene import Scene
from .sources.spec import read_spec
from .theme import Theme, load_theme
from .units import parse_length


class Diagram:
    """Heads on the left joined to the tokens they attend to, beside the attention matrix.

    >>> import numpy as np
    >>> d = Diagram(["It", "is"], np.eye(2), heads=[Head("Head 0", tokens=["It"])])
    >>> d.save("fig.pdf", width="3.25in")  # doctest: +SKIP
    """

    def __init__(self, tokens: Sequence[str] | None = None, weights: Any = None,
                 heads: Sequence[Head | Mapping[str, Any]] = (), *,
                 query_tokens: Sequence[str] | None = None,
                 key_tokens: Sequence[str] | None = None, title: str | None = None,
                 vmax: float | None = None, theme: str | os.PathLike[str] | Theme | None = None,
                 width: str | float | None = None, where: str = "Diagram",
                 caption: str | None = None, links: LinkRule | None = None,
                 groups: bool = False, text: str | None = None) -> None:
        self.theme: Theme = load_theme(theme)
        self.data: FlowData = build(tokens=tokens, weights=weights, heads=heads,
                                    query_tokens=query_tokens, key_tokens=key_tokens,
                                    title=title, vmax=vmax, where=where, caption=caption,
                                    links=links, groups=groups,
                                    palette=self.theme["colors.heads"])
        self.width: float | None = None if width is None else _width(width, where)
        if text not in (None, "native", "paths"):
            raise SpecError(f"{where}: text: {text!r} is not a text mode; use native or paths")
        self.text: str | None = text  # None: the theme's text.mode

    @classmethod
    def from_spec(cls, path: str | os.PathLike[str], *,
                  theme: str | os.PathLike[str] | Theme | None = None,
                  width: str | float | None = None, text: str | None = None) -> Diagram:
        """Load a TOML/JSON spec; ``theme``/``width`` override the spec's own."""
        if width is not None:  # an option, not the file: report it as such
            _width(width, "width")
        spec = read_spec(path)
        where = Path(path).name
        spec_width = spec.pop("width", None)
        spec_theme = spec.pop("theme", None)
        if not isinstance(spec.get("groups", False), bool):
            raise SpecError(f"{where}: groups: expected true or false")
        if theme is None and spec_theme is not None:
            try:
                theme = load_theme(spec_theme)
            except SvgattnError as exc:
                raise type(exc)(f"{where}: {exc}") from None
        return cls(**spec, theme=theme, width=width if width is not None else spec_width,
                   where=where, text=text)

    @classmethod
    def from_attention(cls, attention: Attention, *, layer: int | str | None = None,
                       heads: Sequence[int | str] | int | str | None = None,
                       combine: str = "mean", links: str | LinkRule = "top:3",
                       ignore_sinks: bool = True, hide_special: bool = False,
                       merge_words: bool = False, leading_space: str = "hide",
                       groups: bool = True, title: str | None = None,
                       vmax: float | None = None,
                       theme: str | os.PathLike[str] | Theme | None = None,
                       width: str | float | None = None, text: str | None = None) -> Diagram:
        """A flow figure of real attention (see README "Real attention").

        The selected ``heads`` of one ``layer`` (default: the last) become head boxes,
        each linked to tokens by ``links`` (``top:K`` or ``threshold:X`` over its own
        weights, attention sinks ignored); the matrix is their ``combine`` (mean, max,
        sum), and a caption says which heads it came from.
        """
        from .analysis import tokens as tok
        from .analysis.combine import combine as combine_heads
        from .analysis.combine import describe

        if leading_space not in ("hide", "mark"):
            raise SpecError(f"{attention.source}: leading_space: {quote(leading_space)} is not "
                            "hide or mark")
        li = attention.layer_index(layer)
        hi = attention.head_indices(heads)
        w = np.array(attention.weights[li][hi], dtype=np.float64)  # [h, q, k]
        q_raw, k_raw = list(attention.query_tokens), list(attention.key_tokens)
        square = q_raw == k_raw
        if hide_special:  # drop [CLS]/<s>/... rows and columns, renormalise rows
            keep_q = [i for i, t in enumerate(q_raw) if not tok.is_special(t)]
            keep_k = [i for i, t in enumerate(k_raw) if not tok.is_special(t)]
            if not keep_q or not keep_k:
                raise SpecError(f"{attention.source}: hide_special: every token is special")
            w = w[:, keep_q][:, :, keep_k]
            sums = w.sum(axis=-1, keepdims=True)
            w = np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)
            q_raw = [q_raw[i] for i in keep_q]
            k_raw = [k_raw[i] for i in keep_k]
        q_bytes, k_bytes = tok.byte_level(q_raw), tok.byte_level(k_raw)
        if merge_words:
            q_spans, k_spans = tok.word_spans(q_raw), tok.word_spans(k_raw)
            w = tok.merge_spans(w, q_spans, k_spans)
            q_labels = [tok.merged_label(q_raw, s, leading_space, q_bytes) for s in q_spans]
            k_labels = [tok.merged_label(k_raw, s, leading_space, k_bytes) for s in k_spans]
            k_special = [all(tok.is_special(k_raw[i]) for i in s) for s in k_spans]
        else:
            q_labels = [tok.clean(t, leading_space, q_bytes) for t in q_raw]
            k_labels = [tok.clean(t, leading_space, k_bytes) for t in k_raw]
            k_special = [tok.is_special(t) for t in k_raw]
        sinks = tuple(i for i, s in enumerate(k_special) if s) if ignore_sinks else ()
        rule = links if isinstance(links, LinkRule) else LinkRule.parse(links)
        rule = LinkRule(rule.threshold, rule.top_k, sinks, ignore_self=False)
        layer_name = attention.layer_names[li]
        names = [attention.head_names[h] for h in hi]
        matrix = combine_heads(w, combine)
        caption = describe(combine, layer_name, names, attention.shape[1])
        if square and w.shape[1] > 1 and not np.triu(matrix, 1).any():
            caption += "; causal: cells above the diagonal are 0"
        if hide_special:
            caption += "; special tokens hidden, rows renormalised"
        if merge_words:
            caption += "; word pieces merged"
        head_specs = [Head(f"{layer_name} {n}", weights=w[i]) for i, n in enumerate(names)]
        kwargs: dict[str, Any] = ({"tokens": q_labels} if square and q_labels == k_labels
                                  else {"query_tokens": q_labels, "key_tokens": k_labels})
        if vmax is not None:
            vmax = check_vmax(vmax, f"{attention.source}: vmax")
            if matrix.max() > vmax:  # the colours saturate; the data (and analysis) are kept
                caption += f"; colours saturate at {vmax:g}"
        return cls(weights=matrix, heads=head_specs, title=title, theme=theme, width=width,
                   vmax=vmax, where=attention.source, caption=caption, links=rule,
                   groups=groups, text=text, **kwargs)

    def scene(self) -> Scene:
        """Lay the figure out (pure apart from reading font files)."""
        try:
            return layout_flow(self.data, self.theme, width=self.width)
        except FontError as exc:  # say which theme named the font
            raise FontError(f"{self.theme.source}: {exc}") from None

    def to_svg(self) -> str:
        """The figure as an SVG document."""
        return render_svg(self.scene(), self.theme, self.text)

    def to_bytes(self, fmt: str = "svg", *, dpi: float = 300.0) -> bytes:
        """The figure encoded as ``svg``, ``pdf``, ``png`` or ``eps``."""
        fmt = format_of("figure", fmt)
        dpi = check_dpi(dpi)
        scene = self.scene()
        if fmt == "png":
            scene = pixel_canvas(scene, dpi)
        # PNGs are drawn from outlines: cairo's image surface rounds glyph advances to
        # whole pixels, so native text would drift from the measured label widths.
        text = "paths" if fmt == "png" else self.text
        return convert(render_svg(scene, self.theme, text), fmt, dpi=dpi)

    def save(self, path: str | os.PathLike[str], *, fmt: str | None = None,
             dpi: float = 300.0) -> Path:
        """Write the figure; the format follows the suffix (``fmt`` is needed for a name
        without one, such as ``/dev/stdout``, and must agree with a suffix). The write is
        atomic: on any error the destination is left as it was (see :func:`write_atomic`)."""
        return write_atomic(path, self.to_bytes(format_of(path, fmt), dpi=dpi))

    def _repr_svg_(self) -> str:
        return self.to_svg()


def _width(value: str | float, where: str) -> float:
    points = parse_length(value, f"{where}: width")
    if not 36 <= points <= 7200:
        raise SpecError(f"{where}: width: {value!r} is {points:g}pt; give a width between "
                        "0.5in and 100in")
    return points


def check_dpi(dpi: object, field: str = "dpi") -> float:
    """A resolution in dots per inch, checked whatever the format (a bad ``--dpi`` is a
    mistake even when writing SVG)."""
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 4800:
        raise SpecError(f"{field}: {quote(dpi)} must be a number between 10 and 4800 (300 for "
                        "print)")
    return float(dpi)


def pixel_canvas(scene: Scene, dpi: float) -> Scene:
    """The scene with its canvas grown to whole pixels at ``dpi`` (less than a pixel of
    background more), so no PNG edge row or column is partly transparent; refused when
    the PNG would be larger than the ``megapixels`` limit."""
    px = dpi / 72
    width, height = math.ceil(scene.width * px - 1e-6), math.ceil(scene.height * px - 1e-6)
    limit = limits.current().megapixels
    if width * height > limit * 1e6:
        raise SpecError(f"dpi: {dpi:g} dpi makes a {width * height / 1e6:.0f}-megapixel PNG, over"
                        f" the limit of {limit:g}; lower --dpi, export PDF/SVG, or "
                        f"{limits.current().describe('megapixels')}")
    return replace(scene, width=width / px, height=height / px)
