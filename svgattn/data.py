"""The validated attention a source produces: weights ``[layers, heads, query, key]``.

Every source (arrays, files, Hugging Face outputs, TransformerLens caches) builds an
:class:`Attention` through :func:`make_attention`, so nothing downstream knows where the
data came from and every source reports the same one-line errors.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SpecError, quote
from .limits import check_cells, check_tokens, current
from .numeric import to_numpy
from .units import integer_text

if TYPE_CHECKING:  # pragma: no cover
    from .patches import Patches


@dataclass(frozen=True, eq=False)
class Attention:
    """Attention weights of one input, ``weights[layer, head, query, key]`` (read-only)."""

    weights: np.ndarray
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    layer_names: tuple[str, ...]
    head_names: tuple[str, ...]
    source: str = "attention"
    # the query and key vectors the weights were computed from (the neuron view), when
    # known: ``queries[layer, head, query, dim]``; ``keys[layer, kv_head, key, dim]`` with
    # as many heads or fewer (grouped-query attention: head h reads kv head
    # ``h // (heads // kv_heads)``); ``scaling``: what q.k is multiplied by, per layer
    queries: np.ndarray | None = None
    keys: np.ndarray | None = None
    scaling: tuple[float, ...] | None = None
    # where generated tokens start (a model run with --generate): on both axes of
    # self-attention, on the query axis of cross-attention (the decoder's tokens)
    generated: int | None = None
    notes: tuple[str, ...] = ()  # what a caption says of where it came from (a model run)
    # a grid of image patches among the tokens (svgattn.patches: ViTs, VLMs, diffusion)
    patches: Patches | None = None

    @property
    def shape(self) -> tuple[int, int, int, int]:
        layers, heads, queries, keys = self.weights.shape
        return layers, heads, queries, keys

    def vectors(self, layer: int, head: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(queries ``[query, dim]``, keys ``[key, dim]``) of one head (``None`` when the
        source gave no vectors); grouped-query keys are those of the head's kv group."""
        if self.queries is None or self.keys is None:
            return None
        group = self.shape[1] // self.keys.shape[1]
        return self.queries[layer, head], self.keys[layer, head // group]

    def layer_index(self, layer: object) -> int:
        """Resolve a layer given by index (negative counts from the end) or by name;
        ``None`` means the last layer."""
        n = self.shape[0]
        if layer is None:
            return n - 1
        return _index(layer, self.layer_names, n, f"{self.source}: layer", "layers")

    def head_indices(self, heads: Sequence[int | str] | int | str | None) -> list[int]:
        """Resolve heads given by index or name; ``None`` means all heads."""
        n = self.shape[1]
        if heads is None:
            return list(range(n))
        if isinstance(heads, (int, str, np.integer)):
            heads = [heads]
        if len(heads) == 0:
            raise SpecError(f"{self.source}: heads: the list is empty; give head indices or "
                            f"names such as 0,1,2 (or leave it out for all {n} heads)")
        out = [_index(h, self.head_names, n, f"{self.source}: heads", "heads") for h in heads]
        if len(set(out)) != len(out):
            raise SpecError(f"{self.source}: heads: a head is listed twice; list each once")
        return out


@dataclass(frozen=True, eq=False)
class ExplicitHead:
    """A head given by hand: the rows it links to (``links``), or its own weights from
    which links are derived (``links`` is then ``None``), and its own colour."""

    name: str
    links: tuple[int, ...] | None
    weights: np.ndarray | None
    color: str | None


@dataclass(frozen=True, eq=False)
class Explicit:
    """A figure given by hand (a spec file, ``Diagram(tokens, weights, heads)``),
    validated: its tokens, its query x key matrix (read-only) and its heads."""

    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    matrix: np.ndarray
    heads: tuple[ExplicitHead, ...]


def _index(ref: Any, names: tuple[str, ...], n: int, field: str, what: str) -> int:
    if isinstance(ref, str) and integer_text(ref):
        ref = int(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -n <= ref < n:
            return int(ref) % n
        raise SpecError(f"{field}: {ref} is out of range; there are {n} {what} (0..{n - 1})")
    if isinstance(ref, str) and ref in names:
        return names.index(ref)
    raise SpecError(f"{field}: {ref!r} is neither an index (0..{n - 1}) nor one of the names "
                    f"{', '.join(names[:6])}{' ...' if n > 6 else ''}")


def check_text(value: Any, where: str) -> str:
    """One name or title: a string within the ``token_chars`` limit."""
    if not isinstance(value, str):
        raise SpecError(f"{where}: expected a string, not {type(value).__name__}")
    most = current().token_chars
    if len(value) > most:
        raise SpecError(f"{where}: {len(value)} characters exceed the limit of {most}; shorten "
                        f"it or {current().describe('token_chars')}")
    return value


def token_strings(values: Any, where: str, *, what: str = "tokens",
                  allow_empty: bool = False) -> tuple[str, ...]:
    """Validate a list of token strings (or names): a sequence or a 1-D array of ``str``
    (``bytes`` are decoded as UTF-8), within the ``tokens`` and ``token_chars`` limits.
    The strings are returned exactly as given: matching uses them, display cleans them."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise SpecError(f"{where}: is an array of shape {values.shape}; save {what} as a 1-D "
                            f"list of strings, e.g. np.array([\"It\", \"is\"])")
        if values.dtype.kind not in "US":
            raise SpecError(f"{where}: holds {values.dtype} values; {what} must be strings")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise SpecError(f"{where}: expected a list of strings, e.g. [\"It\", \"is\"], not "
                        f"{type(values).__name__}")
    if not values and not allow_empty:
        raise SpecError(f"{where}: is empty; give at least one {what.rstrip('s')}")
    if what == "tokens":
        check_tokens(len(values), where)
    most = current().token_chars
    out = []
    for i, value in enumerate(values):
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise SpecError(f"{where}[{i}]: is not UTF-8 text; save {what} as text") from None
        if not isinstance(value, str):
            raise SpecError(f"{where}[{i}]: {type(value).__name__} {quote(value)} is not a "
                            "string; quote it")
        if len(value) > most:
            raise SpecError(f"{where}[{i}]: {len(value)} characters exceed the limit of {most}; "
                            f"shorten it or {current().describe('token_chars')}")
        out.append(value)
    return tuple(out)


def check_magnitude(array: np.ndarray, where: str, terms: int) -> None:
    """Refuse weights so large that adding ``terms`` of them (a row, a column, the heads)
    overflows: every derivation normalises rows, and an infinite sum would silently
    zero them (a matrix of 1e308 would link no token)."""
    if not array.size:
        return
    top = float(np.max(array))
    limit = np.finfo(np.float64).max / max(1, terms) / 4
    if top > limit:
        raise SpecError(f"{where}: weights up to {top:.3g} overflow when {terms} of them are "
                        f"added; scale them below {limit:.3g} (attention rows sum to 1)")


def _axis_hint(shape: tuple[int, ...], q: int, k: int) -> str:
    """Suggest the transpose that puts (query, key) last, when one exists."""
    for perm in itertools.permutations(range(len(shape))):
        if perm[-2:] != (len(shape) - 2, len(shape) - 1) and \
                (shape[perm[-2]], shape[perm[-1]]) == (q, k) and list(perm) != sorted(perm):
            return (f"; the axes look out of order, try np.transpose(weights, {perm}) "
                    f"(or .permute{perm} for a tensor)")
    return ""


def _all(array: np.ndarray, test: Any) -> bool:
    """``test`` holds for every value, checked a block at a time (a 4096-token array of
    three heads is 200 MB: a full boolean copy of it would be another 50)."""
    flat = array.reshape(-1)
    step = 1 << 22
    return all(bool(test(flat[i:i + step]).all()) for i in range(0, flat.size, step))


def make_attention(weights: Any, query_tokens: Sequence[str], key_tokens: Sequence[str], *,
                   layer_names: Sequence[str] | None = None,
                   head_names: Sequence[str] | None = None, source: str = "attention",
                   first_layer: int = 0) -> Attention:
    """Validate a 4-D ``[layers, heads, query, key]`` array and its tokens. A lazy array
    (:mod:`svgattn.blocks`: computed from a model's vectors, or read from a file a block at
    a time) is checked a block at a time, and only what is read counts against the limits:
    it is never held whole."""
    from .blocks import FromVectors, Lazy

    query_tokens = token_strings(query_tokens, f"{source}: query tokens")
    key_tokens = token_strings(key_tokens, f"{source}: key tokens")
    q, k = len(query_tokens), len(key_tokens)
    lazy = isinstance(weights, Lazy)
    array: Any = weights if lazy else to_numpy(weights, f"{source}: attentions")
    if not lazy:
        check_cells(array.size, f"{source}: attentions")
    elif not isinstance(array.source, FromVectors) and array.ndim == 4:
        from .blocks import DISPLAY  # a file read a block at a time: each head is read,
        layers_, heads_, n_q, n_k = array.shape  # and may be held, pooled
        check_cells(layers_ * heads_ * min(n_q, DISPLAY) * min(n_k, DISPLAY),
                    f"{source}: attentions ({layers_} x {heads_} heads read a block at a time"
                    f", each pooled to at most {DISPLAY:,} a side)")
    if array.ndim != 4:
        raise SpecError(f"{source}: attentions: expected 4 axes [layers, heads, query, key], "
                        f"got shape {array.shape}")
    if array.shape[2:] != (q, k):
        raise SpecError(f"{source}: attentions: shape {tuple(array.shape)} does not end in "
                        f"(query={q}, key={k}) for {q} query and {k} key tokens; axes must be "
                        f"[layers, heads, query, key] and the tokens those of this input"
                        f"{_axis_hint(array.shape, q, k)}")
    if lazy and not isinstance(array.source, FromVectors):  # a softmax is valid as made
        _check_blocks(array, source)
    elif not lazy:
        _check_values(array, source)
    n_layers, n_heads = array.shape[:2]
    layers = (token_strings(layer_names, f"{source}: layer_names", what="names")
              if layer_names is not None and len(layer_names) else
              tuple(f"L{first_layer + i}" for i in range(n_layers)))
    heads = (token_strings(head_names, f"{source}: head_names", what="names")
             if head_names is not None and len(head_names) else
             tuple(f"H{i}" for i in range(n_heads)))
    if len(layers) != n_layers or len(heads) != n_heads:
        raise SpecError(f"{source}: head_names/layer_names: {len(heads)} head and {len(layers)} "
                        f"layer names for {n_heads} heads and {n_layers} layers; give one each")
    for what, names in (("head_names", heads), ("layer_names", layers)):
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise SpecError(f"{source}: {what}[{i}]: {quote(name)} names two "
                                f"{what.split('_')[0]}s; give each a unique name (legends and "
                                "selections tell them apart by name)")
            seen.add(name)
    if not lazy:
        array = np.ascontiguousarray(array)
        array.setflags(write=False)
    return Attention(array, query_tokens, key_tokens, layers, heads, source)


def _check_values(array: np.ndarray, source: str) -> None:
    """Weights that are finite, not negative, and small enough to add up."""
    if not _all(array, np.isfinite):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise SpecError(f"{source}: attentions{list(where)}: is {array[where]}; weights must be "
                        "finite (a fully masked row gives NaN: drop it with attention_mask)")
    if not _all(array, lambda block: block >= 0):
        where = tuple(int(i) for i in np.argwhere(array < 0)[0])
        raise SpecError(f"{source}: attentions{list(where)}: is {array[where]:g}; weights must be"
                        " >= 0 (pass softmax probabilities, not scores)")
    check_magnitude(array, f"{source}: attentions", terms=array.shape[1] * max(array.shape[2:]))


def _check_blocks(array: Any, source: str) -> None:
    """:func:`_check_values` of a lazy array, from one pass over each head
    (:func:`svgattn.blocks.survey`); the message names the first weight at fault."""
    layers, heads, n_q, n_k = array.shape
    for (layer, head), found in zip(itertools.product(range(layers), range(heads)),
                                    array.surveys(), strict=True):
        if found.bad is not None:
            r, c, value = found.bad
            raise SpecError(f"{source}: attentions[{layer}, {head}, {r}, {c}]: is {value:g}; "
                            "weights must be finite and >= 0 (softmax probabilities; a fully "
                            "masked row gives NaN)")
        check_magnitude(np.array([found.largest]), f"{source}: attentions",
                        terms=heads * max(n_q, n_k))


def with_vectors(att: Attention, queries: Any, keys: Any, scaling: Any = None) -> Attention:
    """``att`` with the query and key vectors its weights came from, validated against it:
    ``queries [layers, heads, query, dim]``, ``keys [layers, kv_heads, key, dim]`` (kv heads
    dividing the heads: grouped-query attention), ``scaling`` a positive number or ``None``
    (1/sqrt(dim)). A layer given as ``[heads, tokens, dim]`` is one layer."""
    where = att.source
    out = []
    layers, heads, q, k = att.shape
    for name, value, tokens in (("queries", queries, q), ("keys", keys, k)):
        array = to_numpy(value, f"{where}: {name}")
        if array.ndim == 3:
            array = array[None]
        check_cells(array.size, f"{where}: {name}")
        expect = f"[layers={layers}, heads, tokens={tokens}, dim]"
        if array.ndim != 4 or array.shape[0] != layers or array.shape[2] != tokens:
            raise SpecError(f"{where}: {name}: shape {tuple(array.shape)} does not match the "
                            f"attention {tuple(att.shape)}; expected {expect} (the layers "
                            "and tokens of the attention, in its order)")
        if not _all(array, np.isfinite):
            spot = [int(i) for i in np.argwhere(~np.isfinite(array))[0]]
            raise SpecError(f"{where}: {name}{spot}: is not finite; save the vectors the "
                            "model computed")
        out.append(np.array(array, copy=True))  # frozen below: never the caller's array
    qs, ks = out
    if qs.shape[1] != heads:
        raise SpecError(f"{where}: queries: {qs.shape[1]} heads but the attention has {heads};"
                        " give one query vector per head")
    if ks.shape[1] == 0 or heads % ks.shape[1]:
        raise SpecError(f"{where}: keys: {ks.shape[1]} heads do not divide the {heads} query "
                        "heads; give one key vector per head, or per kv group (grouped-query "
                        "attention)")
    if qs.shape[3] != ks.shape[3] or qs.shape[3] == 0:
        raise SpecError(f"{where}: keys: vectors of {ks.shape[3]} dimensions against queries "
                        f"of {qs.shape[3]}; q and k of a head have the same size")
    default = 1 / float(np.sqrt(qs.shape[3]))
    given = scaling if isinstance(scaling, (list, tuple)) else \
        np.asarray(scaling).reshape(-1).tolist() if isinstance(scaling, np.ndarray) else \
        [scaling] * layers
    if len(given) == 1:
        given = given * layers
    if len(given) != layers:
        raise SpecError(f"{where}: scaling: {len(given)} values for {layers} layers; give one "
                        "number, or one per layer")
    factors = []
    for value in given:
        if value is None:
            factors.append(default)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or \
                not np.isfinite(value) or value <= 0:
            raise SpecError(f"{where}: scaling: {quote(value)} is not a positive number; give "
                            "the factor q.k is multiplied by (1/sqrt(dim) when left out)")
        factors.append(float(value))
    for array in out:
        array.setflags(write=False)
    return replace(att, queries=qs, keys=ks, scaling=tuple(factors))


def with_patches(att: Attention, *, grid: Any, patch_start: Any = None,
                 grid_axis: Any = "key", image: Any = None, norms: Any = None,
                 tokens: Any = None, note: str = "") -> Attention:
    """``att`` whose tokens on ``grid_axis`` include a grid of image patches (see
    :func:`svgattn.patches.make_patches`); ``image``: a file path, an array ``[H, W, 3]`` or a
    :class:`~svgattn.photo.Photo` the grid tiles."""
    from .patches import make_patches, picture

    photo = picture(image, f"{att.source}: image")
    axis = grid_axis if grid_axis is not None else "key"
    count = att.shape[3] if axis == "key" else att.shape[2]
    return replace(att, patches=make_patches(count, grid=grid, patch_start=patch_start,
                                             axis=axis, photo=photo, norms=norms,
                                             tokens=tokens, where=att.source, note=note))


def with_image(att: Attention, image: Any) -> Attention:
    """``att``, whose grid is known, paired with a picture (``--image FILE``)."""
    from .patches import make_patches, picture

    if att.patches is None:
        raise SpecError(f"{att.source}: image: the attention has no grid of patches; give "
                        "grid (rows x cols) and patch_start with it")
    p = att.patches
    return replace(att, patches=make_patches(
        _axis_count(att, p.axis), grid=(p.rows, p.cols),
        axis=p.axis, tokens=p.tokens, photo=picture(image, f"{att.source}: image"),
        norms=p.norms, where=att.source, note=p.note))


def _axis_count(att: Attention, axis: str) -> int:
    return att.shape[3] if axis == "key" else att.shape[2]
