"""Embedding in batches of similar token length: cut where it costs least, same vectors as before."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from sanitas.embeddings.embedder import (
    PASS_COST_TOKENS,
    embed_texts,
    embed_workers,
    get_embedder,
    token_batches,
)


def _cost(lengths: list[int], batches: list[np.ndarray]) -> int:
    return sum(PASS_COST_TOKENS + len(b) * max(lengths[i] for i in b) for b in batches)


def _best_cost(lengths: list[int], max_tokens: int, max_texts: int) -> int:
    """Every way to cut the sorted lengths into runs, the cheapest allowed one (small inputs only)."""
    widths = sorted(lengths)
    n, best = len(widths), None
    for cuts in itertools.product([False, True], repeat=n - 1):
        runs, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                runs.append((start, i))
                start = i
        runs.append((start, n))
        ok = all(
            (e - s == 1) or ((e - s) * widths[e - 1] <= max_tokens and e - s <= max_texts) for s, e in runs
        )
        if ok:
            cost = sum(PASS_COST_TOKENS + (e - s) * widths[e - 1] for s, e in runs)
            best = cost if best is None else min(best, cost)
    assert best is not None
    return best


@pytest.mark.parametrize(
    ("lengths", "max_tokens", "max_texts", "batches"),
    [
        ([], 64, 8, []),
        ([5], 64, 8, [[0]]),
        ([300], 64, 8, [[0]]),  # longer than a pass allows: alone
        ([10, 10, 10, 10], 40, 8, [[0, 1, 2, 3]]),  # exactly the budget: one pass
        ([10, 10, 10, 10], 39, 8, None),  # one over: two passes
        ([10, 10, 10, 10], 64, 3, None),  # at most 3 texts a pass
        ([4, 60, 4, 4], 4096, 8, [[0, 2, 3], [1]]),  # a long text does not pad three short ones
        ([7, 3, 9, 3, 7, 9], 4096, 8, [[1, 3, 0, 4, 2, 5]]),  # near-equal: one pass beats three
    ],
)
def test_token_batches_table(
    lengths: list[int], max_tokens: int, max_texts: int, batches: list[list[int]] | None
) -> None:
    got = token_batches(lengths, max_tokens=max_tokens, max_texts=max_texts)
    assert sorted(int(i) for b in got for i in b) == list(range(len(lengths)))
    for b in got:
        assert len(b) == 1 or (len(b) * max(lengths[i] for i in b) <= max_tokens and len(b) <= max_texts)
    if batches is not None:
        assert [[int(i) for i in b] for b in got] == batches
    else:
        assert len(got) == 2


@pytest.mark.parametrize("seed", range(6))
def test_token_batches_cut_where_it_costs_least(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.choice([3, 4, 5, 8, 12, 20, 40]) for _ in range(rng.randint(2, 11))]
    got = token_batches(lengths, max_tokens=60, max_texts=5)
    assert _cost(lengths, got) == _best_cost(lengths, 60, 5)


def test_encode_matches_sentence_transformers_in_input_order() -> None:
    embedder = get_embedder(backend="torch")  # compared with sentence-transformers itself
    texts = ["short", "a somewhat longer sentence about a card payment", "", "refund", "x " * 400]
    ours = embedder.encode(texts)
    ref = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (5, embedder.dim) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["one lonely text"], id="one-text"),
        pytest.param(["two", "texts of two lengths here"], id="one-pass-halved"),
        pytest.param([f"text number {i} " + "word " * (i % 37) for i in range(300)], id="many-passes"),
    ],
)
def test_passes_side_by_side_give_the_vectors_of_one_at_a_time(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = get_embedder(backend="torch")  # compared with sentence-transformers itself
    ids = embedder.token_ids(texts)
    monkeypatch.setenv("SANITAS_EMBED_WORKERS", "2")
    together = embedder.encode_ids(ids)
    monkeypatch.setenv("SANITAS_EMBED_WORKERS", "1")
    alone = embedder.encode_ids(ids)
    assert together.shape == (len(texts), embedder.dim)
    np.testing.assert_allclose(together, alone, atol=2e-6)
    ref = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(together, ref, atol=2e-5)


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), ("1", 1), ("0", 1), ("", 2), ("many", 2), ("-2", 2)])
def test_embed_workers_setting(raw: str, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setenv("SANITAS_EMBED_WORKERS", raw)
    assert embed_workers() == expected


class _Counting:
    """An embedder double without a tokenizer: vectors from text length, calls recorded."""

    model_id, dim = "double", 3

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_embed_texts_groups_by_length_and_reports_progress() -> None:
    double = _Counting()
    texts = ["ccc", "a", "bb", "a", "dddd"]
    seen: list[tuple[int, int]] = []
    out = embed_texts(
        texts,
        embedder=double,  # type: ignore[arg-type]
        batch_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert out[:, 0].tolist() == [3, 1, 2, 1, 4]
    assert double.calls == [["a", "bb"], ["ccc", "dddd"]]  # duplicates embedded once, shortest first
    assert seen == [(0, 5), (3, 5), (5, 5)]
