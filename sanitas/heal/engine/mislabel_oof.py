"""Out-of-sample class probabilities for the mislabeled check: an exact leave-one-out linear model.

Confident learning needs, for every row, class probabilities from a model that never saw that row.
Neighbour votes over sentence embeddings blur what a linear model separates ("lights on" and "lights
off" sit side by side, yet one direction of the embedding tells them apart), and K-fold training of a
logistic regression costs minutes on a busy CPU. A ridge regression onto the one-hot labels gives the
exact leave-one-out prediction of every row in closed form (``(y_hat - h * y) / (1 - h)`` with ``h`` the
row's leverage), from one eigendecomposition of the small ``d x d`` Gram matrix; its regularisation is
chosen by leave-one-out accuracy. Its scores are fused with the neighbour votes (wording and local
structure) by the project classifier's fusion (``models.calibration.search_fusion`` finds the grid point
of ``choose_fusion``): view weights and a temperature minimising the leave-one-out log-loss, so the result
is a calibrated probability.

Sentence embeddings also blur wording the labels turn on ("lights on" / "lights off": the one word that
differs is a stop word). A second leave-one-out ridge reads the wording: word 1-2-gram TF-IDF (stop words
kept) reduced by a truncated SVD, so the same closed form applies in linear time. The fusion weighs it
like any other view, by leave-one-out log-loss: where wording adds nothing its weight goes to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Ridge strengths tried (the embedding rows are unit vectors, so these are on the scale of a row's norm).
RIDGE_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
# Ridge outputs live on the one-hot scale (about 0..1); this spreads them to a logit scale before the
# fitted temperature takes over, so the fusion's temperature grid covers the right range.
_LOGIT_SCALE = 10.0
_FLOOR = 1e-12
# Components of the wording view's SVD (at most a quarter of the rows: more would fit noise).
WORDING_DIMS = 384
# The fusion's weight and temperature search reads at most this many rows (a fixed sample): its
# log-loss is an average, well estimated from a sample, and the search is rows x grid points.
FUSION_SAMPLE = 4000


@dataclass
class OofProbabilities:
    """Leave-one-out class probabilities and how they were made (for the manifest)."""

    probs: np.ndarray
    ridge: float
    weights: list[float]
    temperature: float


def ridge_loo_scores(x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, float]:
    """Exact leave-one-out ridge predictions of the one-hot labels ``y`` from features ``x`` (with a bias).

    Returns the ``(n, n_classes)`` predictions at the strength in ``RIDGE_GRID`` with the best
    leave-one-out accuracy, and that strength.
    """
    xb = np.hstack([np.asarray(x, dtype=np.float64), np.ones((len(x), 1))])
    onehot = np.eye(n_classes)[y]
    evals, evecs = np.linalg.eigh(xb.T @ xb)
    xv = xb @ evecs
    xty = evecs.T @ (xb.T @ onehot)
    best: tuple[float, float, np.ndarray] | None = None
    for lam in RIDGE_GRID:
        inv = 1.0 / (np.maximum(evals, 0.0) + lam)
        fitted = xv @ (inv[:, None] * xty)
        leverage = np.minimum((xv**2 * inv).sum(axis=1), 1.0 - 1e-9)
        loo = (fitted - leverage[:, None] * onehot) / (1.0 - leverage)[:, None]
        acc = float((loo.argmax(axis=1) == y).mean())
        if best is None or acc > best[0]:
            best = (acc, lam, loo)
    assert best is not None
    return best[2], best[1]


def wording_features(texts: list[str]) -> np.ndarray | None:
    """Dense wording features: word 1-2-gram TF-IDF (stop words kept) through a truncated SVD.

    None when the texts share too few terms to give a view (tiny or degenerate data).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        x = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    except ValueError:  # no term occurs twice
        return None
    dims = min(WORDING_DIMS, x.shape[1] - 1, len(texts) // 4)
    if dims < 2:
        return None
    return _top_components(x, dims)


def _top_components(x: Any, dims: int) -> np.ndarray:
    """``x`` (sparse, rows x terms) on its top ``dims`` right singular vectors.

    What ``TruncatedSVD(dims, algorithm="randomized", n_iter=2, random_state=0).fit_transform`` gives,
    up to each column's sign (which no ridge model sees), to about 1e-12: the same randomized sketch of
    ``x``'s range (same seed, ``dims + 10`` columns, two unnormalised power iterations). Where terms
    outnumber rows (most text), the small SVD is read from the sketch's Gram matrix (one
    eigendecomposition of ``dims + 10`` square) rather than a dense SVD of the ``(dims + 10) x rows``
    sketch: half the time, the same features.
    """
    from scipy import linalg

    n, v = x.shape
    transpose = n < v  # scikit-learn sketches the longer side's range
    a = x.T if transpose else x
    q = np.random.RandomState(0).normal(size=(a.shape[1], dims + 10))
    for _ in range(2):
        q = a.T @ (a @ q)
    q, _ = linalg.qr(a @ q, mode="economic", check_finite=False)
    if transpose:  # q spans the term space: the features are x q turned to its principal axes
        sketch = np.asarray(x @ q)
        _, vecs = np.linalg.eigh(sketch.T @ sketch)
        return np.asarray(sketch @ vecs[:, ::-1][:, :dims])
    # q spans the row space (fewer terms than rows): the small SVD as scikit-learn takes it, whose
    # right singular vectors of a zero singular value (rank-deficient data) lie in x's null space
    _, _, vt = linalg.svd(q.T @ x, full_matrices=False, check_finite=False)
    return np.asarray(x @ vt[:dims].T)


def oof_models(
    embeddings: np.ndarray, y: np.ndarray, votes: np.ndarray, *, wording: np.ndarray | None = None
) -> tuple[OofProbabilities, OofProbabilities | None]:
    """The meaning-only model (embedding ridge and neighbour votes) and, given ``wording``, the model
    with the wording view too; both share one embedding ridge. See ``oof_probabilities``."""
    # Imported here: a warm re-run answered from the result cache never loads scipy or scikit-learn.
    from scipy.special import log_softmax

    n_classes = votes.shape[1]
    ridge, lam = ridge_loo_scores(embeddings, y, n_classes)
    meaning_view = log_softmax(ridge * _LOGIT_SCALE, axis=1)
    vote_view = np.log(np.maximum(np.asarray(votes, dtype=np.float64), _FLOOR))
    meaning = _fuse([meaning_view, vote_view], y, lam)
    if wording is None:
        return meaning, None
    words, _ = ridge_loo_scores(wording, y, n_classes)
    word_view = log_softmax(words * _LOGIT_SCALE, axis=1)
    return meaning, _fuse([meaning_view, word_view, vote_view], y, lam)


def oof_probabilities(
    embeddings: np.ndarray, y: np.ndarray, votes: np.ndarray, *, wording: np.ndarray | None = None
) -> OofProbabilities:
    """Calibrated leave-one-out probabilities for labelled rows (``y`` in ``0..K-1``).

    ``votes`` are the rows' out-of-sample neighbour-vote probabilities (same shape as the result);
    ``wording`` (from ``wording_features``, one row per labelled row) adds the wording view.
    """
    meaning, fused = oof_models(embeddings, y, votes, wording=wording)
    return fused if fused is not None else meaning


def _fuse(views: list[np.ndarray], y: np.ndarray, lam: float) -> OofProbabilities:
    """Views fused with the weights and temperature of least log-loss on a fixed sample of rows."""
    from sanitas.models import calibration as cal

    sample = np.arange(len(y))
    if len(y) > FUSION_SAMPLE:
        sample = np.sort(np.random.default_rng(0).choice(len(y), FUSION_SAMPLE, replace=False))
    weights, temperature = cal.search_fusion([v[sample] for v in views], y[sample])
    probs = cal.fused_probabilities(views, weights, temperature, exclusive=True)
    return OofProbabilities(probs=probs, ridge=lam, weights=weights, temperature=temperature)
