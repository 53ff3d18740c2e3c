"""The large-dataset paths of the shared neighbour computations (forced on small inputs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sanitas.heal.engine import poison_content, shared
from sanitas.heal.engine.neighbors import knn

WORDS = "card transfer refund balance pin atm cash fee limit account top up exchange rate travel".split()


class Ctx:
    """The two things the shared computations read, and their memo."""

    def __init__(self, texts: list[str], emb: np.ndarray) -> None:
        self.texts = texts
        self.n = len(texts)
        self.embeddings = emb
        self._memo: dict[str, object] = {}

    def shared(self, key: str, fn: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]


def corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 7)))) + f" item{i % 97}" for i in range(n)]
    emb = rng.normal(size=(n, 16)).astype(np.float32)
    return texts, emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_tfidf_large_path_keeps_exact_similarities(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, emb = corpus(600)
    exact_idx, exact_sim = shared.tfidf_neighbours(Ctx(texts, emb))  # type: ignore[arg-type]
    monkeypatch.setattr(shared, "TFIDF_ANN_MIN_ROWS", 100)
    ctx = Ctx(texts, emb)
    idx, sim = shared.tfidf_neighbours(ctx)  # type: ignore[arg-type]
    assert "knn" in ctx._memo  # the embedding neighbours were offered as candidates
    assert idx.shape == exact_idx.shape
    assert not (idx == np.arange(600)[:, None]).any()
    # no neighbour twice in a row's list
    assert all(len(set(r)) == len(r) for r in idx.tolist())
    # the similarities given are the true TF-IDF cosines, and never better than the exact k-th best
    assert (np.sort(sim, axis=1)[:, ::-1] <= np.sort(exact_sim, axis=1)[:, ::-1] + 1e-5).all()
    reached = (sim >= np.sort(exact_sim, axis=1)[:, :1] - 1e-6).mean()
    assert reached >= 0.7


def test_knn_content_blocks_do_not_change_the_vote(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(400, 8)).astype(np.float32)
    y = rng.integers(0, 5, 400)
    allowed = rng.random(400) > 0.1
    rows = np.arange(0, 400, 3)
    whole = poison_content.knn_content(emb[rows], emb, y, allowed, 5, self_rows=rows)
    monkeypatch.setattr(poison_content, "_SIM_BUDGET", 1000)  # 2-3 queries per block
    blocked = poison_content.knn_content(emb[rows], emb, y, allowed, 5, self_rows=rows)
    np.testing.assert_array_equal(whole, blocked)


def test_label_error_rate_samples_only_at_ann_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    emb = rng.normal(size=(300, 8)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    has = np.zeros(300, dtype=bool)
    full = poison_content.label_error_rate(emb, y, y == 0, has, 3)
    monkeypatch.setattr(poison_content, "ERROR_RATE_SAMPLE", 10)
    assert poison_content.label_error_rate(emb, y, y == 0, has, 3) == full  # below the ANN size
    monkeypatch.setenv("SANITAS_KNN", "ann")
    seen: list[int] = []
    real = poison_content.knn_content

    def spy(q: np.ndarray, *a: object, **kw: object) -> np.ndarray:
        seen.append(len(q))
        return real(q, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(poison_content, "knn_content", spy)
    poison_content.label_error_rate(emb, y, y == 0, has, 3)
    assert sum(seen) == 10


def test_knn_of_sorted_candidates_matches_exact_on_easy_data() -> None:
    texts, emb = corpus(50)
    a = knn(emb, k=5, mode="ann")[0]
    e = knn(emb, k=5, mode="exact")[0]
    assert (a == e).mean() >= 0.95
