"""What separates an off-topic row from a mislabeled one, and a foreign topic from the dataset's own.

A mislabeled row sits among neighbours that agree on one other label; an off-topic row sits among
neighbours that agree on nothing (its own kind carries labels picked with no relation to the text),
or among dataset rows of many classes it only half resembles. Three statistics follow:

* ``neighbourhood_agreement``: the largest share of a row's neighbour vote any one label holds
  (independent of the row's own label, so it does not reward or punish the label under test);
* ``confirmed_distance``: the distance to the nearest *label-confirmed* rows. A coherent foreign
  topic forms its own dense cluster, so it is near its own rows; none of them is confirmed (their
  labels are scattered), so it is far from the rows the dataset vouches for;
* ``foreign_topic_probability``: a cluster-level test. Rows whose neighbours agree on nothing and
  whose label no neighbour backs are the seed of a foreign topic; a classifier trained to tell them
  from the confirmed rows (cross-validated, so no row scores itself) gives every row the probability
  that it belongs to the same foreign region, which reaches the rows of the topic the seed missed;
* ``found_neighbour_test``: the same idea on the neighbour graph. A row of a foreign topic that sits
  near the dataset's own classes (its neighbours agree on one label, as a mislabeled row's do) still
  has other rows of its topic among its neighbours; a mislabeled row's neighbours are the confirmed
  rows of its true class. The share of a row's neighbours already found off-topic is tested against
  the same share among the confirmed rows not found;
* ``marked_share_pvalues``: the same on the rows whose label no neighbour backs, before anything is
  found. A row whose neighbours agree on nothing is either a foreign topic's row or an odd row of the
  dataset's own (a greeting in another language, a terse fragment): far from the classes both. The
  foreign row has its topic's other rows, as unsupported as itself, among its neighbours; the odd
  row does not. Distance cannot tell them apart (the odd row is often the farther), this can.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext

from sanitas.heal.engine.calibrate import tail_pvalues
from sanitas.heal.engine.far import bh_families
from sanitas.heal.engine.shared import VOTE_TEMPERATURE, label_ids, neighbours

# Neighbours a row's label agreement and confirmed distance look at (the nearest of the shared graph).
K_LOCAL = 10
# A foreign-topic seed smaller than this cannot train a classifier (nor be told from chance).
MIN_SEED = 20
_BLOCK = 2048


def neighbourhood_agreement(ctx: DetectorContext) -> np.ndarray:
    """Largest share of the similarity-weighted label vote of a row's ``K_LOCAL`` nearest neighbours."""

    def compute() -> np.ndarray:
        classes, y = label_ids(ctx)
        idx, sim = neighbours(ctx)
        k = min(K_LOCAL, idx.shape[1])
        if k == 0:
            return np.ones(ctx.n)
        lab = y[idx[:, :k]]
        w = np.where(lab >= 0, np.exp((sim[:, :k].astype(np.float64) - 1.0) / VOTE_TEMPERATURE), 0.0)
        votes = np.zeros((ctx.n, max(len(classes), 1)))
        rows = np.repeat(np.arange(ctx.n), k)
        np.add.at(votes, (rows, np.maximum(lab, 0).ravel()), w.ravel())
        total = votes.sum(axis=1)
        return np.asarray(np.where(total > 0, votes.max(axis=1) / np.maximum(total, 1e-12), 0.0))

    return ctx.shared("offtopic_agreement", compute)


def confirmed_distance(emb: np.ndarray, confirmed: np.ndarray) -> np.ndarray:
    """Mean cosine distance to the ``K_LOCAL`` nearest confirmed rows (a row never counts itself)."""
    anchors = np.flatnonzero(confirmed)
    n = len(emb)
    if anchors.size < 2:
        return np.zeros(n)
    k = min(K_LOCAL, anchors.size - 1)
    x = np.asarray(emb, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    base = x[anchors]
    out = np.empty(n)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        sims = x[start:stop] @ base.T
        own = np.flatnonzero(confirmed[start:stop])
        sims[own, np.searchsorted(anchors, own + start)] = -np.inf
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        out[start:stop] = 1.0 - top.mean(axis=1)
    return out


def foreign_topic_probability(
    emb: np.ndarray, seed: np.ndarray, confirmed: np.ndarray, form: np.ndarray | None = None
) -> np.ndarray:
    """P(row lies in the region of the foreign-topic ``seed`` rather than among the confirmed rows).

    Logistic regression on the unit-normalised embeddings, beside the rows' surface ``form`` features
    when given (``engine.offtopic_form``: what the uncased embedding does not see of a foreign
    source), with scikit-learn's default regularisation; rows it was trained on get 5-fold
    out-of-fold probabilities, the others the full model's. Zeros when the seed is too small to
    stand for a topic.
    """
    n = len(emb)
    train = seed | confirmed
    if int(seed.sum()) < MIN_SEED or int(confirmed.sum()) < MIN_SEED:
        return np.zeros(n)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.asarray(emb, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if form is not None:
        x = np.hstack([x, np.asarray(form, dtype=np.float64)])
    target = seed[train].astype(np.int64)
    model = LogisticRegression(max_iter=2000)
    prob = np.zeros(n)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    prob[train] = cross_val_predict(model, x[train], target, cv=folds, method="predict_proba")[:, 1]
    if (~train).any():
        model.fit(x[train], target)
        prob[~train] = model.predict_proba(x[~train])[:, 1]
    return prob


def found_neighbour_test(
    ctx: DetectorContext, found: np.ndarray, null: np.ndarray, families: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and flags (0.5 at the cut) of rows tested on the share of their neighbours in ``found``.

    The p-value of a row's share is taken against the shares of the ``null`` rows (label-confirmed,
    not found); each of ``families`` (rows already in ``found`` left out) is tested with adaptive BH,
    as the off-topic families are. Rows in no family score 0.
    """
    idx, _ = neighbours(ctx)
    if idx.shape[1] == 0 or not null.any():
        return np.zeros(ctx.n), np.zeros(ctx.n, dtype=bool)
    share = found[idx].mean(axis=1)
    pvalue = tail_pvalues(share, share[null])
    return bh_families(pvalue, [f & ~found for f in families], adaptive=[True] * len(families))


def marked_share_pvalues(ctx: DetectorContext, marked: np.ndarray, null: np.ndarray) -> np.ndarray:
    """P-values of the share of each row's neighbours in ``marked``, against the ``null`` rows' shares.

    Ones when no row is in the null or the graph is empty.
    """
    idx, _ = neighbours(ctx)
    if idx.shape[1] == 0 or not null.any():
        return np.ones(ctx.n)
    share = marked[idx].mean(axis=1)
    return tail_pvalues(share, share[null])
