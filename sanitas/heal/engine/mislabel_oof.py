"""Out-of-sample class probabilities for the mislabeled check: an exact leave-one-out linear model.

Confident learning needs, for every row, class probabilities from a model that never saw that row.
Neighbour votes over sentence embeddings blur what a linear model separates ("lights on" and "lights
off" sit side by side, yet one direction of the embedding tells them apart), and K-fold training of a
logistic regression costs minutes on a busy CPU. A ridge regression onto the one-hot labels gives the
exact leave-one-out prediction of every row in closed form (``(y_hat - h * y) / (1 - h)`` with ``h`` the
row's leverage), from one eigendecomposition of the small ``d x d`` Gram matrix; its regularisation is
chosen by leave-one-out accuracy. Its scores are fused with the neighbour votes (wording and local
structure) by the project classifier's own fusion (``models.calibration.choose_fusion``): view weights
and a temperature minimising the leave-one-out log-loss, so the result is a calibrated probability.

Sentence embeddings also blur wording the labels turn on ("lights on" / "lights off": the one word that
differs is a stop word). A second leave-one-out ridge reads the wording: word 1-2-gram TF-IDF (stop words
kept) reduced by a truncated SVD, so the same closed form applies in linear time. The fusion weighs it
like any other view, by leave-one-out log-loss: where wording adds nothing its weight goes to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Ridge strengths tried (the embedding rows are unit vectors, so these are on the scale of a row's norm).
RIDGE_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
# Ridge outputs live on the one-hot scale (about 0..1); this spreads them to a logit scale before the
# fitted temperature takes over, so the temperature grid of ``choose_fusion`` covers the right range.
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
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        x = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    except ValueError:  # no term occurs twice
        return None
    dims = min(WORDING_DIMS, x.shape[1] - 1, len(texts) // 4)
    if dims < 2:
        return None
    return np.asarray(
        TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=2, random_state=0).fit_transform(x)
    )


def oof_probabilities(
    embeddings: np.ndarray, y: np.ndarray, votes: np.ndarray, *, wording: np.ndarray | None = None
) -> OofProbabilities:
    """Calibrated leave-one-out probabilities for labelled rows (``y`` in ``0..K-1``).

    ``votes`` are the rows' out-of-sample neighbour-vote probabilities (same shape as the result);
    ``wording`` (from ``wording_features``, one row per labelled row) adds the wording view.
    """
    # Imported here: a warm re-run answered from the result cache never loads scipy or scikit-learn.
    from scipy.special import log_softmax

    from sanitas.models import calibration as cal

    n_classes = votes.shape[1]
    ridge, lam = ridge_loo_scores(embeddings, y, n_classes)
    views = [log_softmax(ridge * _LOGIT_SCALE, axis=1)]
    if wording is not None:
        words, _ = ridge_loo_scores(wording, y, n_classes)
        views.append(log_softmax(words * _LOGIT_SCALE, axis=1))
    views.append(np.log(np.maximum(np.asarray(votes, dtype=np.float64), _FLOOR)))
    onehot = np.eye(n_classes)[y]
    sample = np.arange(len(y))
    if len(y) > FUSION_SAMPLE:
        sample = np.sort(np.random.default_rng(0).choice(len(y), FUSION_SAMPLE, replace=False))
    weights, temperature = cal.choose_fusion([v[sample] for v in views], onehot[sample], exclusive=True)
    probs = cal.fused_probabilities(views, weights, temperature, exclusive=True)
    return OofProbabilities(probs=probs, ridge=lam, weights=weights, temperature=temperature)
