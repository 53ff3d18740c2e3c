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
* ``foreign_probability_test``: that probability tested at the FDR against the vouched rows' own,
  less the rows already placed in the foreign region (chance-confirmed foreign rows, with few classes);
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
from sanitas.heal.engine.neighbors import ANN_MIN_ROWS
from sanitas.heal.engine.shared import VOTE_TEMPERATURE, label_ids, neighbours

# Neighbours a row's label agreement and confirmed distance look at (the nearest of the shared graph).
K_LOCAL = 10
# A foreign-topic seed smaller than this cannot train a classifier (nor be told from chance).
MIN_SEED = 20
# From the approximate-search size up, the foreign-topic classifier learns from every seed row and a
# fixed sample of this many confirmed rows (see ``_sampled_probability``); below it, from every row.
CONFIRMED_SAMPLE = 20_000
_BLOCK = 2048
# Rows searched two hops at a time: their candidates' vectors (rows x ~930 x dims) stay near 200 MB.
_HOP_BLOCK = 128


def neighbourhood_agreement(ctx: DetectorContext) -> np.ndarray:
    """Largest share of the similarity-weighted label vote of a row's ``K_LOCAL`` nearest neighbours."""

    def compute() -> np.ndarray:
        classes, y = label_ids(ctx)
        idx, sim = neighbours(ctx)
        k = min(K_LOCAL, idx.shape[1])
        if k == 0:
            return np.ones(ctx.n)
        out = np.empty(ctx.n)
        # a block of rows at a time: the vote table is block x classes, never rows x classes
        for start in range(0, ctx.n, _BLOCK):
            stop = min(ctx.n, start + _BLOCK)
            lab = y[idx[start:stop, :k]]
            w = np.where(
                lab >= 0, np.exp((sim[start:stop, :k].astype(np.float64) - 1.0) / VOTE_TEMPERATURE), 0.0
            )
            votes = np.zeros((stop - start, max(len(classes), 1)))
            rows = np.repeat(np.arange(stop - start), k)
            np.add.at(votes, (rows, np.maximum(lab, 0).ravel()), w.ravel())
            total = votes.sum(axis=1)
            out[start:stop] = np.where(total > 0, votes.max(axis=1) / np.maximum(total, 1e-12), 0.0)
        return out

    return ctx.shared("offtopic_agreement", compute)


def confirmed_distance(
    emb: np.ndarray, confirmed: np.ndarray, graph: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Mean cosine distance to the ``K_LOCAL`` nearest confirmed rows (a row never counts itself).

    Exact (every row against every confirmed row, quadratic) unless the job's kNN ``graph`` (indices,
    similarities, nearest first) is given and the rows number at least ``ANN_MIN_ROWS``: then see
    ``graph_confirmed_distance``.
    """
    anchors = np.flatnonzero(confirmed)
    n = len(emb)
    if anchors.size < 2:
        return np.zeros(n)
    k = min(K_LOCAL, anchors.size - 1)
    x = np.asarray(emb, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if graph is not None and n >= ANN_MIN_ROWS:
        return graph_confirmed_distance(x, confirmed, graph, k)
    return _exact_confirmed(x, confirmed, np.arange(n), k)


def _exact_confirmed(x: np.ndarray, confirmed: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """``confirmed_distance`` of ``rows`` by brute force against every confirmed row."""
    anchors = np.flatnonzero(confirmed)
    base = x[anchors]
    out = np.empty(len(rows))
    for start in range(0, len(rows), _BLOCK):
        block = rows[start : start + _BLOCK]
        sims = x[block] @ base.T
        own = np.flatnonzero(confirmed[block])
        sims[own, np.searchsorted(anchors, block[own])] = -np.inf
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        out[start : start + len(block)] = 1.0 - top.mean(axis=1)
    return out


def graph_confirmed_distance(
    x: np.ndarray, confirmed: np.ndarray, graph: tuple[np.ndarray, np.ndarray], k: int
) -> np.ndarray:
    """``confirmed_distance`` read from the kNN graph, linear in rows (the exact scan is quadratic).

    A row with at least ``k`` confirmed rows among its graph neighbours has its ``k`` nearest
    confirmed rows there, in order: the answer is the graph's (exact where the graph is). The other
    rows (few: mostly the off-topic candidates themselves) search one hop further, among the
    neighbours' neighbours, as a graph search does, and take the ``k`` nearest confirmed rows found
    there by exact cosine; a row that finds fewer than ``k`` that way is scanned exactly.
    """
    idx, sim = graph
    n = len(x)
    out = np.empty(n)
    is_conf = confirmed[idx]
    enough = is_conf.sum(axis=1) >= k
    # the first k confirmed neighbours of each row (neighbours come nearest first)
    rank = np.cumsum(is_conf, axis=1)
    take = is_conf & (rank <= k)
    out[enough] = 1.0 - np.where(take, sim, 0.0)[enough].sum(axis=1, dtype=np.float64) / k
    rest = np.flatnonzero(~enough)
    short: list[int] = []
    for start in range(0, rest.size, _HOP_BLOCK):
        block = rest[start : start + _HOP_BLOCK]
        cand = np.concatenate([idx[block], idx[idx[block]].reshape(len(block), -1)], axis=1)
        cand = np.sort(cand, axis=1)
        ok = confirmed[cand] & (cand != block[:, None])
        ok[:, 1:] &= cand[:, 1:] != cand[:, :-1]  # a row reached twice counts once
        found = ok.sum(axis=1)
        sims = np.einsum("ij,ikj->ik", x[block], x[cand], optimize=True)
        sims = np.where(ok, sims, -np.inf)
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        good = found >= k
        out[block[good]] = 1.0 - top[good].mean(axis=1)
        short.extend(block[~good].tolist())
    if short:
        rows = np.asarray(short, dtype=np.int64)
        out[rows] = _exact_confirmed(x, confirmed, rows, k)
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

    negatives = np.flatnonzero(confirmed & ~seed)
    if n >= ANN_MIN_ROWS and negatives.size > CONFIRMED_SAMPLE:
        return _sampled_probability(emb, seed, negatives, form)

    x = _features(emb, form, np.arange(n))
    target = seed[train].astype(np.int64)
    model = LogisticRegression(max_iter=2000)
    prob = np.zeros(n)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    prob[train] = cross_val_predict(model, x[train], target, cv=folds, method="predict_proba")[:, 1]
    if (~train).any():
        model.fit(x[train], target)
        prob[~train] = model.predict_proba(x[~train])[:, 1]
    return prob


def _features(emb: np.ndarray, form: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """The classifier's input for ``rows``: unit-normalised embeddings, beside the form features if any."""
    x = np.asarray(emb[rows], dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x if form is None else np.hstack([x, np.asarray(form[rows], dtype=np.float64)])


def _sampled_probability(
    emb: np.ndarray, seed: np.ndarray, negatives: np.ndarray, form: np.ndarray | None
) -> np.ndarray:
    """``foreign_topic_probability`` learnt from every seed row and ``CONFIRMED_SAMPLE`` of the confirmed
    ``negatives`` (a fixed sample), every other row predicted a block at a time.

    Trained on every confirmed row, the classifier held rows x ~400 float64 features and a copy per
    fold (a million-row heal's off-topic check swung between 15 and 21 GB). Each sampled negative
    weighs ``1 / r`` (``r`` its sampling rate): the weighted log-loss estimates the full data's, so the
    fit keeps the full model's intercept and the same balance of loss and regularisation, and its
    probabilities the scale the 0.5 cut and the conformal test read (an intercept correction alone
    left the sampled model's probabilities flatter: its loss weighed less against the penalty).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n = len(emb)
    keep = np.random.default_rng(0).choice(negatives, CONFIRMED_SAMPLE, replace=False)
    train = seed.copy()
    train[keep] = True
    rows = np.flatnonzero(train)
    x, target = _features(emb, form, rows), seed[rows].astype(np.int64)
    weight = np.where(target == 1, 1.0, negatives.size / CONFIRMED_SAMPLE)
    model = LogisticRegression(max_iter=2000)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    prob = np.zeros(n)
    prob[rows] = cross_val_predict(
        model, x, target, cv=folds, method="predict_proba", params={"sample_weight": weight}
    )[:, 1]
    model.fit(x, target, sample_weight=weight)
    rest = np.flatnonzero(~train)
    for start in range(0, rest.size, _BLOCK * 8):
        block = rest[start : start + _BLOCK * 8]
        prob[block] = model.predict_proba(_features(emb, form, block))[:, 1]
    return prob


def foreign_probability_test(
    prob: np.ndarray, null: np.ndarray, families: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and flags (0.5 at the cut) of the foreign-topic probability tested at the FDR.

    Conformal p-values: each row's ``prob`` against the ``null`` rows' (out-of-fold) probabilities,
    each of ``families`` tested with adaptive BH. The caller leaves out of the null the rows the
    classifier already places in the foreign region (probability above 0.5): with few classes the
    vouched rows hold the foreign rows whose arbitrary label was confirmed by chance, and their high
    probabilities would fatten the null's tail and hide the rest of their topic (with many classes
    no vouched row is placed there, so the null is all of them). Rows in no family score 0.
    """
    if not null.any():
        return np.zeros(len(prob)), np.zeros(len(prob), dtype=bool)
    return bh_families(tail_pvalues(prob, prob[null]), families, adaptive=[True] * len(families))


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
