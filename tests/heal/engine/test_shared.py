"""Shared heal computations: the exact TF-IDF neighbours and the neighbour votes."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.engine import shared

WORDS = "card transfer refund balance pin atm cash fee limit account exchange rate travel".split()


class Ctx:
    """What the shared computations read, and their memo."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.n = len(texts)
        self._memo: dict[str, object] = {}

    def shared(self, key: str, fn: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]


def _texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 5)))) for _ in range(n)]
    # rows that share no term with any other (their places are padding) and a repeated row
    return out + ["zebra", "quokka", "quokka", "", WORDS[0]]


def _dense(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english").fit_transform(
        texts
    )
    full = np.asarray((x @ x.T).todense())
    np.fill_diagonal(full, -1.0)
    return full


def test_exact_tfidf_neighbours_are_the_dense_top_k() -> None:
    texts = _texts(300, 0)
    full = _dense(texts)
    idx, sim = shared.tfidf_neighbours(Ctx(texts))  # type: ignore[arg-type]
    k = shared.K_NEIGHBOURS
    assert idx.shape == sim.shape == (len(texts), k)
    assert not (idx == np.arange(len(texts))[:, None]).any()
    # each row's similarities are its k best in the dense product, best first
    best = -np.sort(-np.maximum(full, 0.0), axis=1)[:, :k]
    assert np.allclose(sim, best, atol=1e-6)
    # a listed place with a similarity is that pair's true cosine; the others are padding at 0
    pos = sim > 0
    assert np.allclose(full[np.nonzero(pos)[0], idx[pos]], sim[pos], atol=1e-6)
    assert (sim[len(texts) - 5] == 0).all()  # "zebra" shares no term with any row
    assert all(len(set(r[p])) == int(p.sum()) for r, p in zip(idx, pos, strict=True))


def test_exact_tfidf_neighbours_do_not_depend_on_the_block() -> None:
    texts = _texts(200, 1)
    idx, sim = shared.tfidf_neighbours(Ctx(texts))  # type: ignore[arg-type]
    old = shared._TFIDF_BLOCK_ENTRIES
    try:
        shared._TFIDF_BLOCK_ENTRIES = 64 * len(texts)  # 64-row blocks
        idx_b, sim_b = shared.tfidf_neighbours(Ctx(texts))  # type: ignore[arg-type]
    finally:
        shared._TFIDF_BLOCK_ENTRIES = old
    assert np.array_equal(idx, idx_b) and np.array_equal(sim, sim_b)


def test_a_neighbour_without_similarity_carries_no_vote() -> None:
    y = np.array([0, 1, 1, 1, 2])
    idx = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [1, 2, 3]])
    sim = np.array([[0.0, 0.0, 0.0], [0.9, 0.8, 0.0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.7, 0.0, 0.0]])
    probs = shared.vote_probs(y, idx, sim, 3, temperature=0.2)
    assert np.allclose(probs[0], 1 / 3)  # no term shared with anyone: no evidence for any label
    assert probs[4].argmax() == 1 and probs[4, 1] > 0.9
    # a zero place does not dilute the real votes: row 1's votes are its two real neighbours'
    assert np.allclose(probs[1], shared.vote_probs(y, idx[1:2, :2], sim[1:2, :2], 3, temperature=0.2)[0])


def test_dense_and_sparse_blocks_give_the_same_neighbours() -> None:
    """A word in every row makes the product dense: read densely or sparsely, the ranking is one."""
    texts = [t + " ticket" for t in _texts(250, 2)]
    full = _dense(texts)
    old = shared._TFIDF_DENSE_SHARE
    try:
        got = {}
        for share in (0.0, 2.0):  # every block dense; every block sparse
            shared._TFIDF_DENSE_SHARE = share
            got[share] = shared.tfidf_neighbours(Ctx(texts))  # type: ignore[arg-type]
    finally:
        shared._TFIDF_DENSE_SHARE = old
    (idx_d, sim_d), (idx_s, sim_s) = got[0.0], got[2.0]
    assert np.array_equal(idx_d, idx_s) and np.array_equal(sim_d, sim_s)
    best = -np.sort(-np.maximum(full, 0.0), axis=1)[:, : shared.K_NEIGHBOURS]
    assert np.allclose(sim_d, best, atol=1e-6)
    assert not (idx_d == np.arange(len(texts))[:, None]).any()
