"""The neighbour search: exact below the size threshold, HNSW above, same contract either way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sanitas.heal.engine import neighbors
from sanitas.heal.engine.neighbors import knn, uses_ann


def clustered(n: int, *, d: int = 64, centers: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, like sentence embeddings of a labelled dataset."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centers, d))
    x = c[rng.integers(0, centers, n)] + rng.normal(scale=0.6, size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact neighbours the approximate search found."""
    hits = sum(len(set(a) & set(e)) for a, e in zip(approx, exact, strict=True))
    return hits / exact.size


def test_exact_contract_self_excluded_and_sorted() -> None:
    emb = clustered(300)
    idx, sim = knn(emb, k=10, mode="exact")
    assert idx.shape == (300, 10) and sim.shape == (300, 10)
    assert not (idx == np.arange(300)[:, None]).any()
    assert (np.diff(sim, axis=1) <= 1e-7).all()
    # the similarities are the cosines of the rows named
    np.testing.assert_allclose(sim, np.einsum("nd,nkd->nk", emb, emb[idx]), atol=1e-5)


def test_auto_takes_ann_path_above_threshold_with_high_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANITAS_KNN", raising=False)
    monkeypatch.setattr(neighbors, "ANN_MIN_ROWS", 2_000)
    emb = clustered(3_000)
    assert uses_ann(3_000) and not uses_ann(1_999)
    calls: list[int] = []
    real = neighbors._hnsw

    def spy(e: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(e))
        return real(e, k=k)

    monkeypatch.setattr(neighbors, "_hnsw", spy)
    idx, sim = knn(emb, k=30)
    assert calls == [3_000]
    e_idx, _ = knn(emb, k=30, mode="exact")
    assert recall(idx, e_idx) >= 0.95
    assert not (idx == np.arange(3_000)[:, None]).any()
    assert (np.diff(sim, axis=1) <= 1e-6).all()
    np.testing.assert_allclose(sim, np.einsum("nd,nkd->nk", emb, emb[idx]), atol=1e-4)


def test_ann_is_deterministic() -> None:
    emb = clustered(2_500, seed=3)
    a_idx, a_sim = knn(emb, k=15, mode="ann")
    b_idx, b_sim = knn(emb, k=15, mode="ann")
    np.testing.assert_array_equal(a_idx, b_idx)
    np.testing.assert_array_equal(a_sim, b_sim)


def test_ann_handles_tiny_inputs_and_duplicates() -> None:
    emb = np.repeat(clustered(5), 4, axis=0)  # every row has three exact duplicates
    idx, sim = knn(emb, k=5, mode="ann")
    assert idx.shape == (20, 5)
    assert not (idx == np.arange(20)[:, None]).any()
    assert np.allclose(sim[:, :3], 1.0, atol=1e-5)
    assert knn(emb[:1], k=5, mode="ann")[0].shape == (1, 0)


def test_env_setting_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANITAS_KNN", "ann")
    assert uses_ann(100)
    monkeypatch.setenv("SANITAS_KNN", "exact")
    assert not uses_ann(10**7)
    monkeypatch.setenv("SANITAS_KNN", "fast")
    with pytest.raises(ValueError, match="SANITAS_KNN"):
        uses_ann(100)


def test_memmap_input_gives_same_answer(tmp_path: Path) -> None:
    emb = clustered(500)
    mm = np.lib.format.open_memmap(tmp_path / "e.npy", mode="w+", dtype=np.float32, shape=emb.shape)
    mm[:] = emb
    mm.flush()
    for mode in ("exact", "ann"):
        a = knn(emb, k=8, mode=mode)
        b = knn(np.load(tmp_path / "e.npy", mmap_mode="r"), k=8, mode=mode)
        np.testing.assert_array_equal(a[0], b[0])


def test_ann_answers_rows_the_graph_cannot_reach() -> None:
    """Many small groups of identical vectors leave hnswlib's beam short of ``k`` rows for some
    queries (it then fails the whole batch); those rows are answered by an exact scan instead."""
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(2000, 32)).astype(np.float32)
    groups = rng.normal(size=(200, 32)).astype(np.float32)
    emb = np.vstack([spread, groups[rng.integers(0, 200, 20000)]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    with pytest.raises(RuntimeError):
        neighbors.query_index(neighbors.build_index(emb), emb, k=91)
    idx, sim = knn(emb, k=90, mode="ann")
    assert idx.shape == (22000, 90)
    assert not (idx == np.arange(22000)[:, None]).any()
    assert np.all(np.diff(sim, axis=1) <= 1e-6)
    # every grouped row (~100 identical rows a group) has a twin among its nearest: similarity 1
    assert np.all(sim[2000:, 0] > 0.999)


def test_the_graph_holds_each_distinct_vector_once_and_no_query_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every failed hnswlib query leaks its output buffers (~5 GB at a million rows): with identical
    rows merged into one graph node no query fails, and the answer is the exact search's."""
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(2000, 32)).astype(np.float32)
    groups = rng.normal(size=(200, 32)).astype(np.float32)
    emb = np.vstack([spread, groups[rng.integers(0, 200, 20000)]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    built: list[int] = []
    failed: list[int] = []
    build, query = neighbors.build_index, neighbors.query_index

    def counted_build(vectors: np.ndarray) -> object:
        built.append(len(vectors))
        return build(vectors)

    def counted_query(index: object, queries: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            return query(index, queries, k=k)
        except RuntimeError:
            failed.append(len(queries))
            raise

    monkeypatch.setattr(neighbors, "build_index", counted_build)
    monkeypatch.setattr(neighbors, "query_index", counted_query)
    idx, sim = knn(emb, k=90, mode="ann")
    assert built == [len(np.unique(emb, axis=0))]
    assert failed == []
    assert not (idx == np.arange(len(emb))[:, None]).any()
    _, exact_sim = knn(emb, k=90, mode="exact")
    # ties among identical rows make the exact row set ambiguous: compare what was found by similarity
    assert np.mean(sim >= exact_sim[:, -1:] - 1e-5) > 0.99
    assert np.all(sim[2000:, 0] > 0.999)  # a copy's nearest is another copy


def test_distinct_rows_merge_only_bit_identical_rows() -> None:
    emb = clustered(50)
    twin = emb[7].copy()
    twin[3] = np.nextafter(twin[3], np.float32(2.0))  # one ulp away: another vector
    rows = np.vstack([emb, emb[[7, 7, 20]], twin[None]])
    first, group = neighbors.distinct_rows(rows)
    np.testing.assert_array_equal(first, [*range(50), 53])
    np.testing.assert_array_equal(group[50:], [7, 7, 20, 50])
    np.testing.assert_array_equal(rows[first[group]], rows)
