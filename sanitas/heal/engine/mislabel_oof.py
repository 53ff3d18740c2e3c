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

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sanitas.heal.engine.neighbors import ANN_MIN_ROWS

# Ridge strengths tried (the embedding rows are unit vectors, so these are on the scale of a row's norm).
RIDGE_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
# Ridge outputs live on the one-hot scale (about 0..1); this spreads them to a logit scale before the
# fitted temperature takes over, so the fusion's temperature grid covers the right range.
_LOGIT_SCALE = 10.0
_FLOOR = 1e-12
# Components of the wording view's SVD (at most a quarter of the rows: more would fit noise).
WORDING_DIMS = 384
# Above this many rows the wording view's SVD basis is fitted on a fixed sample of this many rows (the
# approximate-search size: every suite configuration is below it and keeps its exact features).
WORDING_SAMPLE = ANN_MIN_ROWS
# The fusion's weight and temperature search reads at most this many rows (a fixed sample): its
# log-loss is an average, well estimated from a sample, and the search is rows x grid points.
FUSION_SAMPLE = 4000
# Rows per block of the ridge predictions and the fused probabilities (block x classes buffers).
_ROW_BLOCK = 4096


@dataclass
class OofProbabilities:
    """Leave-one-out class probabilities and how they were made (for the manifest)."""

    probs: np.ndarray
    ridge: float
    weights: list[float]
    temperature: float


class RidgeLoo:
    """Exact leave-one-out ridge predictions of the one-hot labels ``y`` from features ``x`` (with a bias),
    at the strength in ``RIDGE_GRID`` with the best leave-one-out accuracy.

    Rows are predicted a block at a time (``rows``), their rotated features recomputed per block: no
    rows x classes array and no float64 copy of ``x`` is kept, so memory stays that of ``x``.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        self.x = x
        self.y = np.asarray(y)
        self.n_classes = n_classes
        n = len(x)
        if n < ANN_MIN_ROWS:
            xb = self._with_bias(np.arange(n))
            gram, xty = xb.T @ xb, xb.T @ np.eye(n_classes)[self.y]
        else:  # the same sums a block of rows at a time (rounded in another order)
            d = x.shape[1] + 1
            gram, xty = np.zeros((d, d)), np.zeros((d, n_classes))
            for rows in self._blocks():
                xb = self._with_bias(rows)
                gram += xb.T @ xb
                xty += xb.T @ np.eye(n_classes)[self.y[rows]]
        evals, self.evecs = np.linalg.eigh(gram)
        self.xty = self.evecs.T @ xty
        self.evals = np.maximum(evals, 0.0)
        correct = np.zeros(len(RIDGE_GRID), dtype=np.int64)
        for rows in self._blocks():
            xv = self._with_bias(rows) @ self.evecs
            for j, lam in enumerate(RIDGE_GRID):
                correct[j] += int((self._loo(xv, rows, lam).argmax(axis=1) == self.y[rows]).sum())
        # the first strength of the best accuracy
        self.lam = float(RIDGE_GRID[int(np.argmax(correct))])

    def _blocks(self) -> list[np.ndarray]:
        n = len(self.x)
        return [np.arange(s, min(n, s + _ROW_BLOCK)) for s in range(0, n, _ROW_BLOCK)]

    def _with_bias(self, rows: np.ndarray) -> np.ndarray:
        return np.hstack([np.asarray(self.x[rows], dtype=np.float64), np.ones((len(rows), 1))])

    def _loo(self, xv: np.ndarray, rows: np.ndarray, lam: float) -> np.ndarray:
        inv = 1.0 / (self.evals + lam)
        onehot = np.eye(self.n_classes)[self.y[rows]]
        fitted = xv @ (inv[:, None] * self.xty)
        leverage = np.minimum((xv**2 * inv).sum(axis=1), 1.0 - 1e-9)
        return np.asarray((fitted - leverage[:, None] * onehot) / (1.0 - leverage)[:, None])

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Leave-one-out predictions of ``rows`` (indices), ``(len(rows), n_classes)``."""
        return self._loo(self._with_bias(rows) @ self.evecs, rows, self.lam)


def ridge_loo_scores(x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, float]:
    """Exact leave-one-out ridge predictions of the one-hot labels ``y`` from features ``x`` (with a bias).

    Returns the ``(n, n_classes)`` predictions at the strength in ``RIDGE_GRID`` with the best
    leave-one-out accuracy, and that strength (``RidgeLoo`` gives them a block of rows at a time).
    """
    model = RidgeLoo(x, y, n_classes)
    return model.rows(np.arange(len(x))), model.lam


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
    if x.shape[0] <= WORDING_SAMPLE:
        return _top_components(x, dims)
    return _sampled_components(x, dims)


def _sampled_components(x: Any, dims: int) -> np.ndarray:
    """``x`` on the top ``dims`` right singular vectors of a fixed sample of ``WORDING_SAMPLE`` rows,
    projected a block of rows at a time, as float32.

    The randomized sketch of every row holds several rows x (dims + 10) float64 arrays at once (2.5 GB
    above the process's start at 200,000 rows, measured; a million-row heal was killed for memory in
    this check). The term directions that carry most of the wording are as well estimated from tens of
    thousands of rows, as the fusion's weights are from a sample; the features are then one product.
    """
    from sklearn.decomposition import TruncatedSVD

    n = x.shape[0]
    sample = np.sort(np.random.default_rng(0).choice(n, WORDING_SAMPLE, replace=False))
    part = x.tocsr()[sample]
    # only the sample's own terms: a term it never uses has no weight in its singular vectors, and the
    # sketch's buffers are terms x (dims + 10)
    terms = np.unique(part.indices)
    dims = min(dims, terms.size - 1)
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=2, random_state=0)
    basis = svd.fit(part[:, terms]).components_.T.astype(np.float32)
    x = x[:, terms].tocsr()
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, _ROW_BLOCK * 16):
        stop = min(n, start + _ROW_BLOCK * 16)
        out[start:stop] = np.asarray(x[start:stop] @ basis)
    return out


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
) -> Generator[OofProbabilities, None, None]:
    """The meaning-only model (embedding ridge and neighbour votes) and, given ``wording``, then the
    model with the wording view too; both share one embedding ridge. See ``oof_probabilities``.

    The views are computed for the fusion's sample first (both models' weights are fitted before any
    table is made), then a block of rows at a time for each model's probabilities. Each table is made
    when the next model is asked for: a caller that lets go of the first before asking for the second
    holds one rows x classes table, not two (a million rows of 262 classes: 1 GB each). Computing the
    shared views twice costs less than that table.
    """
    # Imported here: a warm re-run answered from the result cache never loads scipy or scikit-learn.
    from scipy.special import log_softmax

    from sanitas.models import calibration as cal

    n_classes = votes.shape[1]
    ridge = RidgeLoo(embeddings, y, n_classes)
    words = RidgeLoo(wording, y, n_classes) if wording is not None else None

    def views(rows: np.ndarray, *, with_words: bool) -> list[np.ndarray]:
        out = [log_softmax(ridge.rows(rows) * _LOGIT_SCALE, axis=1)]
        if with_words and words is not None:
            out.append(log_softmax(words.rows(rows) * _LOGIT_SCALE, axis=1))
        out.append(np.log(np.maximum(np.asarray(votes[rows], dtype=np.float64), _FLOOR)))
        return out

    n = len(y)
    sample = np.arange(n)
    if n > FUSION_SAMPLE:
        sample = np.sort(np.random.default_rng(0).choice(n, FUSION_SAMPLE, replace=False))
    fits = [(False, cal.search_fusion(views(sample, with_words=False), y[sample]))]
    if words is not None:
        fits.append((True, cal.search_fusion(views(sample, with_words=True), y[sample])))
    for with_words, (weights, temperature) in fits:
        # float32 results: a million rows of 262 classes take 1 GB, not 2
        probs = np.empty((n, n_classes), dtype=np.float32)
        for start in range(0, n, _ROW_BLOCK):
            rows = np.arange(start, min(n, start + _ROW_BLOCK))
            block = views(rows, with_words=with_words)
            probs[rows] = cal.fused_probabilities(block, weights, temperature, exclusive=True)
        model = OofProbabilities(probs=probs, ridge=ridge.lam, weights=weights, temperature=temperature)
        del probs  # the caller's reference is the only one while the next table is made
        yield model
        del model


def oof_probabilities(
    embeddings: np.ndarray, y: np.ndarray, votes: np.ndarray, *, wording: np.ndarray | None = None
) -> OofProbabilities:
    """Calibrated leave-one-out probabilities for labelled rows (``y`` in ``0..K-1``).

    ``votes`` are the rows' out-of-sample neighbour-vote probabilities (same shape as the result);
    ``wording`` (from ``wording_features``, one row per labelled row) adds the wording view.
    """
    models = oof_models(embeddings, y, votes, wording=wording)
    model = next(models)
    if wording is not None:
        del model  # one table at a time, as the mislabeled check holds them
        model = next(models)
    models.close()
    return model
