"""The embedding cache's chunked fill and the memory-mapped vector store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sanitas.embeddings.cache import EmbeddingCache, VectorStore


def test_store_round_trip_is_memory_mapped(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "job" / "emb.npy", 5, 3)
    vecs = np.arange(15, dtype=np.float32).reshape(5, 3)
    store.write(3, vecs[3:])
    store.write(0, vecs[:3])
    got = store.open()
    np.testing.assert_array_equal(got, vecs)
    assert not got.flags.owndata  # a view of the mapped file, not a copy in memory
    assert not got.flags.writeable
    np.testing.assert_array_equal(np.load(tmp_path / "job" / "emb.npy"), vecs)
    np.testing.assert_array_equal(VectorStore.load(tmp_path / "job" / "emb.npy") @ np.ones(3), vecs.sum(1))


def test_store_rejects_rows_that_do_not_fit(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "emb.npy", 4, 3)
    with pytest.raises(ValueError, match="do not fit"):
        store.write(3, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="do not fit"):
        store.write(0, np.zeros((1, 4)))


def test_fill_writes_found_rows_in_place(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    keys = [EmbeddingCache.key("m", f"text {i}") for i in range(2000)]
    vecs = np.random.default_rng(0).normal(size=(2000, 4)).astype(np.float32)
    cache.put_many((k, v) for i, (k, v) in enumerate(zip(keys, vecs, strict=True)) if i % 3)
    store = VectorStore(tmp_path / "emb.npy", 2001, 4)
    asked = [*keys, keys[1]]  # a repeated key fills both of its rows
    found = cache.fill(asked, store.array)
    assert found.tolist() == [i % 3 != 0 for i in range(2000)] + [True]
    out = store.open()
    np.testing.assert_array_equal(out[:2000][found[:2000]], vecs[found[:2000]])
    np.testing.assert_array_equal(out[2000], vecs[1])
    assert not out[:2000][~found[:2000]].any()  # rows not cached are left as they were
