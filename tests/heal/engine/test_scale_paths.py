"""The heal engine's large-dataset paths give what the direct computations give (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.engine import far, mislabel_oof, offtopic_topics
from sanitas.heal.engine.neighbors import knn


def _clusters(seed: int, n_per: int = 80, k: int = 6, dims: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dims))
    emb = np.vstack([c + 0.5 * rng.normal(size=(n_per, dims)) for c in centres])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb.astype(np.float32), np.repeat(np.arange(k), n_per)


def _dense_ridge(x: np.ndarray, y: np.ndarray, n_classes: int, lam: float) -> np.ndarray:
    xb = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    onehot = np.eye(n_classes)[y]
    hat = xb @ np.linalg.solve(xb.T @ xb + lam * np.eye(xb.shape[1]), xb.T)
    h = np.diag(hat)
    return (hat @ onehot - h[:, None] * onehot) / (1.0 - h)[:, None]


@pytest.mark.parametrize("blockwise", [False, True])
def test_ridge_rows_are_the_leave_one_out_predictions(
    monkeypatch: pytest.MonkeyPatch, blockwise: bool
) -> None:
    emb, y = _clusters(0)
    if blockwise:  # the large-dataset path: one-hot sums and predictions a few rows at a time
        monkeypatch.setattr(mislabel_oof, "ANN_MIN_ROWS", 0)
        monkeypatch.setattr(mislabel_oof, "_ROW_BLOCK", 37)
    model = mislabel_oof.RidgeLoo(emb, y, 6)
    rows = np.arange(len(y))
    assert np.allclose(model.rows(rows), _dense_ridge(emb, y, 6, model.lam), atol=1e-8)
    # a row's prediction does not depend on which other rows are asked with it
    some = np.array([3, 200, 401])
    assert np.allclose(model.rows(some), model.rows(rows)[some])


def test_oof_models_blocks_match_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    emb, y = _clusters(1)
    rng = np.random.default_rng(1)
    votes = rng.dirichlet(np.ones(6), size=len(y))
    wording = rng.normal(size=(len(y), 8))
    whole = list(mislabel_oof.oof_models(emb, y, votes, wording=wording))
    monkeypatch.setattr(mislabel_oof, "_ROW_BLOCK", 50)
    blocks = list(mislabel_oof.oof_models(emb, y, votes, wording=wording))
    assert len(whole) == len(blocks) == 2
    assert np.allclose(whole[0].probs, blocks[0].probs) and np.allclose(whole[1].probs, blocks[1].probs)
    assert whole[1].weights == blocks[1].weights


def test_prototype_distance_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    emb, y = _clusters(2)
    y[::17] = -1
    whole = far.prototype_distance(emb, y, 6)
    monkeypatch.setattr(far, "_PROTO_BLOCK", 29)
    assert np.allclose(far.prototype_distance(emb, y, 6), whole, atol=1e-12)
    # float32 rows give the float64 answer (each block is cast as it is read)
    assert np.allclose(far.prototype_distance(emb.astype(np.float64), y, 6), whole, atol=1e-12)


def test_graph_confirmed_distance_agrees_with_the_exact_scan() -> None:
    emb, y = _clusters(3)
    rng = np.random.default_rng(3)
    confirmed = rng.random(len(y)) < 0.7
    exact = offtopic_topics.confirmed_distance(emb, confirmed)
    graph = knn(emb, k=30, mode="exact")
    fast = offtopic_topics.graph_confirmed_distance(emb, confirmed, graph, offtopic_topics.K_LOCAL)
    # rows with enough confirmed graph neighbours read the exact answer off the graph
    enough = confirmed[graph[0]].sum(axis=1) >= offtopic_topics.K_LOCAL
    assert enough.mean() > 0.5
    assert np.allclose(fast[enough], exact[enough], atol=1e-5)
    # the others search two hops: never nearer than the exact nearest, and close to it
    assert (fast >= exact - 1e-5).all()
    assert np.abs(fast - exact).mean() < 0.01


def test_graph_confirmed_distance_falls_back_to_the_scan() -> None:
    emb, y = _clusters(4)
    confirmed = np.zeros(len(y), dtype=bool)
    confirmed[y == 0] = True  # rows of other clusters reach no confirmed row within two hops
    graph = knn(emb, k=5, mode="exact")
    fast = offtopic_topics.graph_confirmed_distance(emb, confirmed, graph, offtopic_topics.K_LOCAL)
    exact = offtopic_topics.confirmed_distance(emb, confirmed)
    assert np.allclose(fast[y != 0], exact[y != 0], atol=1e-5)
    # the confirmed cluster's own rows find ten of it within two hops: an upper bound of the answer
    assert (fast[y == 0] >= exact[y == 0] - 1e-5).all()


def test_label_probs_and_agreement_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from sanitas.heal.detectors.base import DetectorContext
    from sanitas.heal.engine import shared

    emb, y = _clusters(6, n_per=40)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]
    texts = [f"{words[c]} {words[(c + i) % 6]} row {i % 7}" for i, c in enumerate(y)]

    def run() -> tuple[np.ndarray, np.ndarray]:
        ctx = DetectorContext(texts=texts, labels=[str(c) for c in y], embeddings=emb)
        return shared.label_probs(ctx), offtopic_topics.neighbourhood_agreement(ctx)

    probs, agree = run()
    monkeypatch.setattr(shared, "_VOTE_BLOCK", 13)
    monkeypatch.setattr(offtopic_topics, "_BLOCK", 11)
    probs_b, agree_b = run()
    assert np.array_equal(probs, probs_b) and np.array_equal(agree, agree_b)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs.argmax(axis=1) == y).mean() > 0.9


def test_tfidf_neighbours_do_not_depend_on_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from sanitas.heal.detectors.base import DetectorContext
    from sanitas.heal.engine import shared

    emb, y = _clusters(7, n_per=40)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
    texts = [f"{words[c]} {words[(c + i) % 8]} {words[(i * 3) % 8]} item" for i, c in enumerate(y)]

    def run() -> tuple[np.ndarray, np.ndarray]:
        ctx = DetectorContext(texts=texts, labels=[str(c) for c in y], embeddings=emb)
        return shared.tfidf_neighbours(ctx)

    idx, sim = run()
    monkeypatch.setattr(shared, "_TFIDF_BLOCK_ENTRIES", 64 * len(texts))  # 64-row blocks
    idx_b, sim_b = run()
    assert np.array_equal(idx, idx_b) and np.array_equal(sim, sim_b)


def test_class_sums_and_centroids_in_blocks_match_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The poisoned check's per-class sums, a block of rows at a time, are those of one pass."""
    from sanitas.heal.engine import poison_content

    emb, y = _clusters(3)
    y[::11] = -1  # unlabelled rows are left out
    mask = np.arange(len(y)) % 3 != 0
    pool = np.flatnonzero(mask & (y >= 0))
    unit = emb[pool] / np.linalg.norm(emb[pool], axis=1, keepdims=True)
    direct = np.zeros((6, emb.shape[1]))
    np.add.at(direct, y[pool], unit)
    cent = np.zeros((6, emb.shape[1]))
    np.add.at(cent, y[y >= 0], emb[y >= 0])
    monkeypatch.setattr(poison_content, "_SUM_BLOCK", 29)
    sums, counts = poison_content.class_sums(emb, y, mask, 6)
    np.testing.assert_array_equal(sums, direct)  # the same additions in the same order
    np.testing.assert_array_equal(counts, np.bincount(y[pool], minlength=6))
    np.testing.assert_array_equal(poison_content.class_sums(emb, y, y >= 0, 6, unit=False)[0], cent)
