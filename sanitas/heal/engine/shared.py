"""Computations several detectors need, memoised on the context so each runs once per job."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext

from sanitas.heal.engine.neighbors import knn

K_NEIGHBOURS = 30
# Softmax temperature on cosine similarity for neighbour votes: at 0.1 a neighbour 0.1 closer in cosine
# weighs e times more, which keeps far, unrelated neighbours from outvoting near paraphrases.
VOTE_TEMPERATURE = 0.1
TFIDF_TEMPERATURE = 0.2
TFIDF_WEIGHT = 0.3
_TFIDF_BLOCK = 2048


def label_ids(ctx: DetectorContext) -> tuple[list[str], np.ndarray]:
    """Sorted class names and each row's class index (-1 when the row has no label)."""

    def compute() -> tuple[list[str], np.ndarray]:
        classes = sorted({lab for lab in ctx.labels if lab is not None})
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[lab] if lab is not None else -1 for lab in ctx.labels], dtype=np.int64)
        return classes, y

    return ctx.shared("label_ids", compute)


def neighbours(ctx: DetectorContext) -> tuple[np.ndarray, np.ndarray]:
    """The kNN graph of the embeddings (indices, cosine similarities), self excluded."""
    return ctx.shared("knn", lambda: knn(ctx.embeddings, k=K_NEIGHBOURS))


def novelty(ctx: DetectorContext) -> np.ndarray:
    """Mean cosine distance to the nearest neighbours: how unlike the rest of the dataset a row is."""

    def compute() -> np.ndarray:
        _, sim = neighbours(ctx)
        if sim.shape[1] == 0:
            return np.zeros(ctx.n)
        return 1.0 - sim.mean(axis=1).astype(np.float64)

    return ctx.shared("novelty", compute)


def vote_probs(
    y: np.ndarray, idx: np.ndarray, sim: np.ndarray, n_classes: int, *, temperature: float = VOTE_TEMPERATURE
) -> np.ndarray:
    """Similarity-weighted neighbour label votes, normalised per row (rows without a label ignored).

    The neighbours of a row never include the row itself, so these are out-of-sample (leave-one-out)
    probabilities, the input confident learning needs.
    """
    n = idx.shape[0]
    probs = np.full((n, n_classes), 1e-3, dtype=np.float64)
    if idx.shape[1] == 0:
        return probs / probs.sum(axis=1, keepdims=True)
    weights = np.exp((sim.astype(np.float64) - 1.0) / temperature)
    neigh_labels = y[idx]
    weights = np.where(neigh_labels >= 0, weights, 0.0)
    rows = np.repeat(np.arange(n), idx.shape[1])
    np.add.at(probs, (rows, np.maximum(neigh_labels, 0).ravel()), weights.ravel())
    return probs / probs.sum(axis=1, keepdims=True)


def tfidf_neighbours(ctx: DetectorContext) -> tuple[np.ndarray, np.ndarray]:
    """kNN graph on word 1-2-gram TF-IDF vectors: the exact wording, which sentence embeddings blur."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        n = ctx.n
        k = max(0, min(K_NEIGHBOURS, n - 1))
        idx = np.zeros((n, k), dtype=np.int64)
        sim = np.zeros((n, k), dtype=np.float32)
        if k == 0:
            return idx, sim
        try:
            x = TfidfVectorizer(
                ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
            ).fit_transform(ctx.texts)
        except ValueError:  # no term survives (tiny or empty vocabulary)
            return idx, sim
        xt = x.T.tocsr()
        for start in range(0, n, _TFIDF_BLOCK):
            stop = min(n, start + _TFIDF_BLOCK)
            block = np.asarray((x[start:stop] @ xt).todense(), dtype=np.float32)
            block[np.arange(stop - start), np.arange(start, stop)] = -1.0
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
            idx[start:stop] = part
            sim[start:stop] = np.take_along_axis(block, part, axis=1)
        return idx, sim

    return ctx.shared("tfidf_knn", compute)


def label_probs(ctx: DetectorContext) -> np.ndarray:
    """Out-of-sample class probabilities for every row, from its neighbours' labels.

    A mixture of votes in embedding space (meaning) and in TF-IDF space (wording); TF-IDF cosines
    are lower and flatter than embedding cosines, hence its softer temperature.
    """

    def compute() -> np.ndarray:
        classes, y = label_ids(ctx)
        idx, sim = neighbours(ctx)
        p_emb = vote_probs(y, idx, sim, len(classes))
        t_idx, t_sim = tfidf_neighbours(ctx)
        if t_idx.shape[1] == 0:
            return p_emb
        p_tfidf = vote_probs(y, t_idx, t_sim, len(classes), temperature=TFIDF_TEMPERATURE)
        return (1.0 - TFIDF_WEIGHT) * p_emb + TFIDF_WEIGHT * p_tfidf

    return ctx.shared("label_probs", compute)
