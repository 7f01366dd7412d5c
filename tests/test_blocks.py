"""Lazy attention (svgattn/blocks.py): indexed as the analysis indexes an array, it gives
what the array gives; computed from q and k it is the model's softmax; read from a file it
is the file's data, and reading it keeps nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svgattn.blocks import EAGER, FromFile, FromVectors, Lazy, Mask, softmax


class ArraySource:
    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.causal = None
        self.calls = 0

    def rows(self, layer: int, head: int, start: int, stop: int) -> np.ndarray:
        self.calls += 1
        return self.array[layer, head, start:stop].copy()


ARRAY = np.random.default_rng(0).random((3, 4, 7, 9))

INDICES = st.one_of(
    st.integers(-3, 2).map(lambda i: (i,)),
    st.tuples(st.integers(0, 2), st.integers(-4, 3)),
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.slices(7)),
    st.tuples(st.integers(0, 2), st.slices(4), st.slices(7)),
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(-7, 6)),
    st.tuples(st.slices(3), st.lists(st.integers(0, 3), min_size=1, max_size=4)),
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.slices(7), st.slices(9)),
    # a list of keys after slices (an integer before them would make numpy move the list's
    # axis first: a form svgattn never uses)
    st.tuples(st.slices(3), st.slices(4), st.slices(7),
              st.lists(st.integers(0, 8), min_size=1, max_size=5)),
    st.tuples(st.just(Ellipsis), st.slices(7), st.slices(9)),
)


@settings(max_examples=300, deadline=None)
@given(INDICES, st.one_of(st.none(), st.integers(0, 2)), st.booleans())
def test_a_lazy_array_indexes_as_the_array_does(index, first, eager):
    """Any index the analysis uses, applied to a lazy array or to a view of it, gives the
    array's values (lazily when large: forced small here, computed via np.asarray)."""
    import svgattn.blocks as blocks

    source = ArraySource(ARRAY)
    lazy = Lazy(source)
    expected = ARRAY
    if first is not None:
        lazy, expected = lazy[first], ARRAY[first]
        if isinstance(index[0], int) and len(index) > 3:
            index = index[1:]
    old = blocks.EAGER
    blocks.EAGER = EAGER if eager else 0
    try:
        try:
            want = expected[index]
        except IndexError:
            with pytest.raises(IndexError):
                np.asarray(lazy[index])
            return
        got = np.asarray(lazy[index])
    finally:
        blocks.EAGER = old
    assert got.shape == want.shape and np.array_equal(got, want)


def test_views_compute_nothing_until_asked():
    source = ArraySource(np.random.default_rng(1).random((2, 3, 5000, 5000)).astype(np.float32))
    lazy = Lazy(source)
    head = lazy[1][2]
    assert isinstance(head, Lazy) and head.shape == (5000, 5000) and source.calls == 0
    rows = head[10:20]
    assert isinstance(rows, np.ndarray) and rows.shape == (10, 5000) and source.calls == 1
    np.testing.assert_array_equal(rows, source.array[1, 2, 10:20])


def test_weights_from_vectors_are_the_eager_softmax():
    """softmax(q.k x scaling + bias) under a causal, sliding-window and padding mask,
    grouped-query keys, softcapped: equal to the formula computed in float64, at float32
    precision."""
    rng = np.random.default_rng(2)
    n, d = 40, 8
    q = rng.normal(size=(4, n, d)).astype(np.float32)
    k = rng.normal(size=(2, n, d)).astype(np.float32)
    bias = rng.normal(size=(4, n, n)).astype(np.float32)
    pad = np.ones(n, bool)
    pad[3] = False
    mask = Mask(causal=True, window=10, keys=pad)
    source = FromVectors([q], [k], [0.3], [mask], softcap=[5.0], bias=[bias])
    lazy = Lazy(source)
    rows, cols = np.arange(n)[:, None], np.arange(n)[None, :]
    hidden = (cols > rows) | (cols <= rows - 10) | ~pad[None, :]
    for h in range(4):
        s = q[h].astype(np.float64) @ k[h // 2].astype(np.float64).T * 0.3 + bias[h]
        s = np.tanh(s / 5.0) * 5.0
        s[hidden] = -np.inf
        e = np.exp(s - s.max(axis=1, keepdims=True))
        want = e / e.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(np.asarray(lazy[0, h]), want, rtol=2e-5, atol=1e-7)
        np.testing.assert_allclose(lazy[0, h, 5:9], want[5:9], rtol=2e-5, atol=1e-7)
    assert source.causal is None  # padding: not a plain causal mask


def test_a_row_with_nothing_to_see_is_zeros():
    scores = np.full((2, 3), -np.inf, dtype=np.float32)
    scores[1] = [0.0, 1.0, 2.0]
    out = softmax(scores)
    assert not out[0].any() and out[1].sum() == pytest.approx(1.0)


def test_weights_read_from_a_file(tmp_path):
    array = np.random.default_rng(3).random((2, 2, 50, 60)).astype(">f4")
    path = tmp_path / "a.npy"
    np.save(path, array)
    with open(path, "rb") as fh:
        np.lib.format.read_magic(fh)
        np.lib.format.read_array_header_1_0(fh)
        offset = fh.tell()
    lazy = Lazy(FromFile(str(path), offset, array.dtype, array.shape))
    assert lazy.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(lazy), array.astype(np.float32))
    np.testing.assert_array_equal(lazy[1, 0, 7:11, 3:5], array[1, 0, 7:11, 3:5])
