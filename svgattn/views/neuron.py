"""The neuron view: why one head attends where it does, for one query token.

Left to right, one row per key the query may see: the key vectors k (the query vector q
above them, on the same scale), their elementwise products q * k, the scores q.k x
scaling as bars from zero, and the softmax of the scores as bars, with a tick at the
attention the source gave (:mod:`svgattn.analysis.neuron` checks the two agree for the
whole head before anything is drawn). Dimensions are columns; ``--dims K`` keeps the K
whose products vary most over the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from ..analysis.figure import FigureData
from ..analysis.neuron import TOLERANCE, Explained, default_query, explain, focused_head
from ..analysis.scale import ColourScale, Settings, scale_for
from ..captions import Essential, counted
from ..colours import colour_name
from ..errors import SpecError, quote
from ..fields import Field, number, text
from ..layout.context import Context
from ..layout.fit import fit
from ..layout.frame import PAGE, Body
from ..layout.legend import horizontal_bar
from ..layout.matrix_panel import TINY_CELL, PanelSpec, label_need, matrix_panel, raster
from ..layout.table import Table
from ..options import FOCUS
from ..scene import Box, Node, Path, Rect, Style, Text, moved
from .base import View
from .registry import register

BAR_EM = (3.5, 6.0)  # the score and softmax bars' length: from, to (em)
COLUMN_EM = 4.0  # a heatmap's column (and its colour bar) at least this wide (em)
ROWS_HIGH = 0.8 * PAGE  # the key rows never take more height than this
MIN_BAR = 1.0  # points: thinner rows are drawn as bars of blocks of rows


@register
class Neuron(View):
    name = "neuron"
    summary = ("why a head attends where it does: for one query, q, each k, q * k, the scores "
               "and their softmax (needs query and key vectors)")
    default_heads = "all"
    signed = False
    vectors = True
    reads = ("layer", "heads", "leading_space", "colormap")
    hints: ClassVar[Mapping[str, str]] = {
        "combine": "the neuron view explains one head; choose it with --heads",
        "window": "every key the query sees is a row; drop it",
        "pool": "vectors of pooled tokens do not exist; drop it",
        "layers": "use --layer (one layer)",
        "hide_special": "q and k are those of the model's own tokens; drop it",
        "merge_words": "q and k are those of the model's own tokens; drop it",
        "scale": "each panel has its own scale; drop it",
    }
    options = (
        FOCUS,
        Field("dims", text(20), "all", "Neuron view: show the K dimensions whose products q * k "
              "vary most over the keys (a product equal for every key changes no weight), or "
              "all; the scores always use every dimension.", group="neuron view",
              metavar="K"),
        Field("tolerance", number(1e-12, 1.0), TOLERANCE, "Neuron view: the largest difference "
              "between softmax(q.k x scaling + mask) and the given attention that is accepted "
              "(raise it for float16/bfloat16 data).", group="neuron view", metavar="X"),
    )

    def layout(self, data: FigureData, ctx: Context, opts: Mapping[str, Any],
               width: float | None) -> Body:
        notes: list[str] = []
        head, query, found = _explained(data, opts, notes)
        chosen = data.heads[head]
        settings = Settings(diverging=opts["colormap"] or  # type: ignore[arg-type]
                            ctx.value("colors.diverging"))
        vectors = scale_for(np.concatenate([found.q, found.k.reshape(-1)]), settings,
                            signed=True, binary=False)
        products = scale_for(found.products.reshape(-1), settings, signed=True, binary=False)
        scores = scale_for(found.scores, settings, signed=True, binary=False)
        keys = found.keys.tolist()
        labels = [data.key_labels[j] for j in keys]
        placed = data.positioned(query=False)
        at = [placed[j] for j in keys]
        q_label = f"q: {data.query_labels[query]}"
        # the first key row that is a generated token (marked as every view marks them)
        marked = next((i for i, j in enumerate(keys) if data.is_generated(j, query=False)),
                      None)
        image = raster(ctx, found.k.size, "auto")
        thinned: list[str] = []
        ticked = [False]  # whether rows are tall enough for the given attention's ticks

        def arrange(c: Context, cell: float) -> Body:
            body = _arrange(c, cell, found, (labels, at, q_label, marked),
                            (vectors, products, scores), image, thinned)
            ticked[0] = any(isinstance(x, Path) and x.role == "tick" for x in body.nodes)
            return body

        dims = len(found.dims)
        natural = max(0.5, min(1.3 * ctx.em, 300.0 / dims))  # a heatmap about 4 in wide
        body = fit(arrange, ctx, width, natural, smallest=min(natural, 0.5),
                   largest=1.6 * ctx.em, span=2 * dims,
                   what=f"{dims} dimensions (--dims K shows fewer)")
        position = data.query_spans[query][0] if data.query_spans else query
        caption: list[str] = [Essential(
            f"Why {chosen.name} attends where it does, for the query "
            f"{quote(data.query_labels[query], 40)} (token {position}): its query vector q, "
            f"the key vectors k of the {counted(len(keys), 'key')} it may see, their elementwise "
            f"products q \u00d7 k, the scores q\u00b7k \u00d7 {_num(found.scaling)}"
            " (the sum of a row of q \u00d7 k over every dimension, scaled) and their softmax")]
        caption.append(Essential(
            "Checked: softmax(q\u00b7k \u00d7 s + mask) reproduces the attention given for "
            f"every query of {chosen.name} to within {found.error:.1e} (tolerance "
            f"{float(opts['tolerance']):g})"
            + ("" if found.rows - found.checked <= int(data.causal) else
               f", telling on the {found.checked} of {found.rows} queries that see two keys or "
               "more (a query with one key gets 1 whatever q and k)")
            + ("; ticks mark the attention as given" if ticked[0] else "")))
        if found.masked:
            caption.append(f"{counted(found.masked, 'key')} masked (zero attention: "
                           f"{'later tokens' if data.causal else 'padding or masked'}), "
                           "not drawn")
        if dims < found.dim_total:
            caption.append(Essential(
                f"The {dims} of {found.dim_total} dimensions whose products vary most over "
                f"the keys ({found.spread_kept:.0%} of their spread); scores use all "
                f"{found.dim_total}"))
        caption.append(Essential(f"q, k and q \u00d7 k: {colour_name(vectors.colours[0])} "
                                 f"negative, {colour_name(vectors.colours[-1])} positive, each "
                                 "panel on its own scale centred on zero"))
        caption += [*notes, *data.notes, *[t if isinstance(t, Essential) else
                                            t[:1].upper() + t[1:] for t in thinned]]
        if data.headline:
            caption.insert(0, Essential(data.headline))
        body.caption, body.name = caption, "Why a head attends where it does"
        return body

    def numbers(self, data: FigureData, opts: Mapping[str, Any]) -> Table:
        """A row per key the query sees: the scores and softmax drawn, the attention given
        (every dimension counts in the scores, whatever --dims keeps)."""
        head, query, found = _explained(data, opts, [])
        name, token = data.heads[head].name, data.query_labels[query]
        rows = [[name, query, token, j, data.key_labels[j], float(found.scores[row]),
                 float(found.softmax[row]), float(found.given[row])]
                for row, j in enumerate(found.keys.tolist())]
        return Table(["head", "query", "query_token", "key", "key_token", "score", "softmax",
                      "attention"], rows)


def _explained(data: FigureData, opts: Mapping[str, Any],
               notes: list[str]) -> tuple[int, int, Explained]:
    """(head, query, its explanation): the check run, refused if it fails."""
    if data.vectors is None:
        raise SpecError("view: the neuron view needs the query and key vectors the "
                        "attention came from: run a model (svgattn model), save queries "
                        "and keys in the .npz, or pass a TransformerLens cache with "
                        "hook_q/hook_k")
    head = _head(data, opts, notes)
    query = _focus(data, opts, notes)
    chosen = data.heads[head]
    assert chosen.weights is not None
    return head, query, explain(data.vectors[head], chosen.weights, query, _dims(opts["dims"]),
                                float(opts["tolerance"]), chosen.name)


def _head(data: FigureData, opts: Mapping[str, Any], notes: list[str]) -> int:
    """The one head explained: the one ``--heads`` names, else the layer's most focused."""
    if opts["heads"] is not None:
        if len(data.heads) != 1:
            raise SpecError(f"heads: the neuron view explains one head, not {len(data.heads)}; "
                            "give one, e.g. --heads 3")
        return 0
    best = focused_head([h.weights for h in data.heads], data.sinks)
    notes.append(f"Head {data.heads[best].name}: the most focused of its layer (lowest "
                 "attention entropy); choose another with --heads")
    return best


def _focus(data: FigureData, opts: Mapping[str, Any], notes: list[str]) -> int:
    """The query row: ``--focus``, else the last token that is not a special token."""
    if opts["focus"] is not None:
        return data.index(opts["focus"], "focus", "neuron view")
    notes.append("Query: the last token that is not a special token; choose another with "
                 "--focus")
    return default_query(data.query_tokens, data.heads[0].weights)


def _dims(value: object) -> int | None:
    text_ = "all" if value is None else str(value).strip()
    if text_ == "all":
        return None
    if not (text_.isascii() and text_.isdecimal()) or int(text_) < 1:
        raise SpecError(f"dims: {quote(value)} is not a number of dimensions; give a whole "
                        "number such as 16, or all")
    return int(text_)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _arrange(c: Context, cell: float, found: Explained,
             names: tuple[list[str], list[str], str, int | None],
             scales: tuple[ColourScale, ColourScale, ColourScale], image: bool,
             thinned: list[str]) -> Body:
    labels, at, q_label, marked = names
    vectors, products, scores = scales
    em = c.em
    ink = str(c.value("colors.text"))
    n, dims = found.k.shape
    pitch = label_need(c, [*labels[:2000], q_label])
    row_h = pitch if n * pitch <= ROWS_HIGH else max(ROWS_HIGH / n, TINY_CELL)
    dim_names = [str(d) for d in found.dims.tolist()]
    gap = 1.6 * em
    nodes: list[Node] = []
    top = pitch + 0.5 * em  # the key rows start below the q row
    q_panel = matrix_panel(c, found.q[None, :], vectors, cell, PanelSpec(
        id="neuron-q", cell_h=pitch, rows=[q_label], columns=dim_names,
        names=([q_label], dim_names), where="{row}, dimension {column}"))
    nodes += q_panel.nodes
    panels = []
    for id_, values, scale in (("neuron-k", found.k, vectors),
                               ("neuron-qk", found.products, products)):
        panel = matrix_panel(c, values, scale, cell, PanelSpec(
            id=id_, cell_h=row_h, rows=labels if id_ == "neuron-k" else None, rows_at=at,
            names=(labels, dim_names), image=image, marked=(marked, None),
            where=("k of {row}" if id_ == "neuron-k" else "q \u00d7 k of {row}")
            + ", dimension {column}"))
        panels.append(panel)
    thinned[:] = [p.thinned for p in panels if p.thinned]  # rows (dimension labels: a stride)
    pooled = _blocks(n, row_h)
    if len(pooled) < n:
        thinned.append(Essential(f"Bars of {pooled[0][1]} keys each: their largest softmax, "
                                 "and their scores' extent from zero to the lowest and the "
                                 "highest"))
    width = dims * cell
    titles = [c.box(t, bold=True) for t in ("q and k", "q \u00d7 k",
                                             f"q\u00b7k \u00d7 {_num(found.scaling)}",
                                             "softmax")]
    nodes += [moved(x, 0.0, top) for x in panels[0].nodes]
    column = max(COLUMN_EM * em, width)  # a heatmap's colour bar is never narrower
    products_x = max(column, titles[0].width) + gap  # a column is as wide as its title
    nodes += [moved(x, products_x, top) for x in panels[1].nodes]
    # the products' dimension labels too: the two heatmaps are read column by column
    nodes += [replace(x, id=x.id.replace("neuron-q-", "neuron-qk-", 1)) for x in
              (moved(y, products_x, 0.0) for y in q_panel.nodes) if isinstance(x, Text)
              and x.role == "col-label"]
    bars_x = products_x + max(column, titles[1].width) + gap
    bar_w = min(max(0.5 * width, BAR_EM[0] * em), BAR_EM[1] * em)  # grows with the heatmaps
    score_nodes = _score_bars(c, found.scores, scores, bars_x, top, row_h, bar_w)
    nodes += score_nodes
    right = max(n_.bbox.x + n_.bbox.w for n_ in score_nodes if isinstance(n_, Text))
    soft_x = max(bars_x + bar_w, right, bars_x + titles[2].width) + gap
    nodes += _softmax_bars(c, found, soft_x, top, row_h, bar_w)
    label_top = min((x.bbox.y for x in q_panel.nodes if isinstance(x, Text)
                     and x.role == "col-label"), default=-0.2 * em)
    title_base = label_top - 0.5 * em
    for id_, x, box in zip(("k", "qk", "scores", "softmax"),
                           (0.0, products_x, bars_x, soft_x), titles, strict=True):
        nodes.append(c.baseline_text(f"neuron-title-{id_}", box, x, title_base - box.descent,
                                     "start", "panel-title", ink, bold=True))
    bottom = top + n * row_h + 0.9 * em
    gradients = []
    for id_, x, scale in (("colorbar-k", 0.0, vectors), ("colorbar-qk", products_x, products)):
        bar = horizontal_bar(c, scale, x, bottom, column, "", id_=id_, least=COLUMN_EM)
        nodes += bar.nodes
        gradients += bar.gradients
    return Body(nodes, gradients, f"Neuron view of one query over {n} keys and {dims} "
                "dimensions.")


def _blocks(n: int, row_h: float) -> list[tuple[int, int]]:
    """Rows drawn as one bar each, or, where rows are thinner than :data:`MIN_BAR`, blocks
    of rows drawn as one bar of their extremes (a viewer would drop most of a thousand
    hairline bars; the strongest key of a block must stay visible)."""
    step = max(1, int(np.ceil(MIN_BAR / row_h - 1e-9)))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def _score_bars(c: Context, values: np.ndarray, scale: ColourScale, x: float, top: float,
                row_h: float, width: float) -> list[Node]:
    """Scores as bars from a zero line, coloured like the heatmaps' scale (a block of rows:
    from its lowest to its highest score); their values beside them while rows are tall
    enough to read."""
    lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    span = (hi - lo) or 1.0

    def at(v: float) -> float:
        return x + width * ((v - lo) / span)

    out: list[Node] = []
    height = 0.8 * row_h if row_h > 3 else row_h
    for a, b in _blocks(len(values), row_h):
        y = top + a * row_h + (row_h - height) / 2
        h = height + (b - a - 1) * row_h
        block = values[a:b]
        parts = [float(block[0])] if b - a == 1 else \
            [v for v in (min(float(block.min()), 0.0), max(float(block.max()), 0.0)) if v]
        for v in parts:  # a block: its lowest below zero and its highest above
            left, right = sorted((at(0.0), at(v)))
            suffix = "" if b - a == 1 else ("-high" if v > 0 else "-low")
            out.append(Rect(f"neuron-score-{a}{suffix}", Box(left, y, max(right - left, 0.01),
                                                            h),
                            Style(fill=scale.colour(v)), "bar", title=f"{v:.4g}"))
    written = _values(c, "neuron-score", values, x + width + 0.3 * c.em, top, row_h)
    out += _axis(c, "neuron-score", at(0.0), top, len(values) * row_h, x, width,
                 None if written else (lo, hi))
    return out + written


def _softmax_bars(c: Context, found: Explained, x: float, top: float, row_h: float,
                  width: float) -> list[Node]:
    """The softmax as bars from zero (to the row's largest weight; a block of rows: its
    largest), a tick at the weight the source gave (they agree to the tolerance checked)."""
    hi = max(float(found.softmax.max()), float(found.given.max()), 1e-12)
    fill, ink = str(c.value("colors.cell_high")), str(c.value("colors.text"))
    out: list[Node] = []
    height = 0.8 * row_h if row_h > 3 else row_h
    for a, b in _blocks(len(found.softmax), row_h):
        y = top + a * row_h + (row_h - height) / 2
        p = float(found.softmax[a:b].max())
        out.append(Rect(f"neuron-softmax-{a}", Box(x, y, max(width * p / hi, 0.01),
                                                   height + (b - a - 1) * row_h),
                        Style(fill=fill), "bar", title=f"{p:.4g}"))
        if row_h > 3:  # a line across the bar's end: drawn over it, not a box beside it
            tick = x + width * float(found.given[a]) / hi
            out.append(Path(f"neuron-given-{a}", (("M", (tick, y - 0.1 * row_h)),
                                                  ("L", (tick, y + 1.1 * height))),
                            Style(stroke=ink, stroke_width=0.9 * c.scale), "tick",
                            title=f"given {float(found.given[a]):.4g}"))
    written = _values(c, "neuron-softmax", found.softmax, x + width + 0.3 * c.em, top, row_h)
    out += _axis(c, "neuron-softmax", x, top, len(found.softmax) * row_h, x, width,
                 None if written else (0.0, hi))
    return out + written


def _axis(c: Context, id_: str, zero: float, top: float, height: float, x: float,
          width: float, ends: tuple[float, float] | None) -> list[Node]:
    """A zero line down the rows and, unless every bar has its value beside it, the
    range's ends written below them."""
    muted = str(c.value("colors.muted"))
    out: list[Node] = [Path(f"{id_}-zero", (("M", (zero, top)), ("L", (zero, top + height))),
                            Style(stroke=muted, stroke_width=0.6 * c.scale), "axis")]
    if ends is None:
        return out
    lo, hi = ends
    base = top + height + 0.45 * c.em
    boxes = [c.box(f"{value:.3g}", factor=0.9, shorten_to=0) for value in (lo, hi)]
    below = boxes[0].height * 1.15 if boxes[0].width + boxes[1].width + 0.5 * c.em > width \
        else 0
    for k, (box, at, anchor) in enumerate(((boxes[0], x, "start"),
                                           (boxes[1], x + width, "end"))):
        out.append(c.baseline_text(f"{id_}-end-{k}", box, at, base + box.ascent + k * below,
                                   anchor, "tick-label", muted))
    return out


def _values(c: Context, id_: str, values: np.ndarray, x: float, top: float,
            row_h: float) -> list[Node]:
    """Each value beside its bar, while a row is tall enough for the text."""
    boxes = [c.box(f"{v:.2f}", factor=0.85, shorten_to=0) for v in values.tolist()]
    if not boxes or max(b.height for b in boxes) > row_h * 1.05:
        return []
    muted = str(c.value("colors.muted"))
    return [c.text(f"{id_}-value-{i}", b, x, top + (i + 0.5) * row_h, "start", "value", muted)
            for i, b in enumerate(boxes)]
