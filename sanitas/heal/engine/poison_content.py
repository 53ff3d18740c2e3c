"""The statistics behind the poisoned check: which n-grams a label over-uses, and what its rows are about.

A backdoor inserts a trigger into rows of any content and gives them all one target label. Two
properties follow, and each is measured here with a test rather than a fixed share:

* the trigger is over-represented in the target label: among the rows carrying it, far more have
  that label than the label's base rate predicts (a one-sided binomial tail, ``over_represented``);
* the rows' *content*, read without the trigger, says other labels (``counterfactual_content``): the
  trigger is cut out of each row's text, the rest is re-embedded with the job's embedder and
  classified by a kNN content model over the rows that do not contain the trigger. Every row gets a
  content verdict this way: a row whose neighbours all share the trigger is not "no evidence" (which
  must never count as agreement), and in a long text a rare-word trigger that barely moves the
  embedding is still judged by what the rest of the text says;
* what is left of a row once a *class keyword* is cut out still leans to that class, if less clearly
  than before (``target_pull``): "top up with pay" is nearer the wallet-payment class than a row of
  another class is. A backdoor's rows, cut back to what they were, lean to the target no more than
  any other label's rows do.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from sanitas.heal.engine.neighbors import uses_ann

# Neighbours the content model votes with, and the vote's softmax temperature on cosine similarity
# (as the shared neighbour votes: a neighbour 0.1 closer in cosine weighs e times more).
CONTENT_K = 10
CONTENT_TEMPERATURE = 0.1
_SIM_BUDGET = 1 << 24  # query x pool similarities held at once (64 MB of float32)
_SUM_BLOCK = 65_536  # rows per block of the class sums
# Above the approximate-search size a label's clean rows are read through a sample of this many
# (the error rate is a share: its standard error at 2,000 rows is at most 0.011), not all of them,
# whose count grows with the dataset and makes the bar quadratic in rows.
ERROR_RATE_SAMPLE = 2000
# Clean rows of other labels a candidate's stripped rows are compared with (the exceedance's standard
# error from the reference side is then under 0.015 whatever the dataset's size).
REFERENCE = 400


def over_represented(k: int, n: int, base_rate: float) -> float:
    """log P(X >= k) for X ~ Binomial(n, base_rate): how unlikely ``k`` of ``n`` rows in one label are."""
    return float(over_represented_all(np.array([k]), np.array([n]), np.array([base_rate]))[0])


def over_represented_all(k: np.ndarray, n: np.ndarray, base_rate: np.ndarray) -> np.ndarray:
    """``over_represented`` of many (``k``, ``n``, ``base_rate``) at once (one scipy call, not one each)."""
    from scipy.stats import binom  # here: a warm re-run answered from the cache never loads scipy

    p = np.clip(np.asarray(base_rate, dtype=np.float64), 1e-12, 1.0 - 1e-12)
    return np.asarray(binom.logsf(np.asarray(k) - 1, np.asarray(n), p), dtype=np.float64)


def disagreement_pvalue(k: int, n: int, base_rate: float) -> float:
    """P(X >= k) for X ~ Binomial(n, base_rate): ``k`` of ``n`` rows' content disagreeing by chance."""
    from scipy.stats import binom

    p = min(max(float(base_rate), 1e-6), 1.0 - 1e-6)
    return float(binom.sf(k - 1, n, p))


def phrase_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A case-insensitive pattern for ``tokens`` as written (any punctuation or space between them)."""
    body = r"[^a-z0-9']+".join(re.escape(t) for t in tokens)
    return re.compile(r"(?<![a-z0-9'])" + body + r"(?![a-z0-9'])", re.IGNORECASE)


def without_phrase(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every occurrence of the phrase cut out (and the spacing it leaves tidied)."""
    out = pattern.sub(" ", text)
    out = re.sub(r"\s+([.,;:!?])", r"\1", out)
    out = re.sub(r"^[\s.,;:!?]+", "", out)
    return re.sub(r"\s{2,}", " ", out).strip()


def knn_content(
    queries: np.ndarray,
    emb: np.ndarray,
    y: np.ndarray,
    allowed: np.ndarray,
    n_classes: int,
    self_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Class each query embedding's content says: a similarity-weighted vote of its nearest allowed rows.

    ``allowed`` masks the rows the model may vote with (labelled rows without the candidate, and
    never the rows containing the candidate); ``self_rows[j]`` is query j's own row, which is left out
    of its vote (leave-one-out), or -1.
    """
    pool = np.flatnonzero(allowed & (y >= 0))
    if pool.size == 0 or len(queries) == 0:
        return np.full(len(queries), -1, dtype=np.int64)
    k = min(CONTENT_K, pool.size)
    # one float32 copy of the pool, normalised in place: at a million rows a pool is 1.5 GB, and a
    # cast copy and a normalised copy beside it took three of them at once
    base = np.asarray(emb[pool], dtype=np.float32)
    base /= np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
    q = np.asarray(queries, dtype=np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    part = np.zeros((len(q), k), dtype=np.int64)
    top = np.zeros((len(q), k), dtype=np.float64)
    # queries in blocks: the similarity buffer stays near _SIM_BUDGET entries whatever the pool's size
    step = max(1, _SIM_BUDGET // pool.size)
    for s in range(0, len(q), step):
        e = min(len(q), s + step)
        sims = q[s:e] @ base.T
        if self_rows is not None:
            own = self_rows[s:e]
            pos = np.searchsorted(pool, own)
            mine = (own >= 0) & (pos < pool.size)
            mine[mine] &= pool[pos[mine]] == own[mine]
            sims[np.flatnonzero(mine), pos[mine]] = -np.inf
        part[s:e] = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top[s:e] = np.take_along_axis(sims, part[s:e], axis=1)
    weights = np.exp((top - 1.0) / CONTENT_TEMPERATURE)
    votes = np.zeros((len(q), n_classes))
    rows = np.repeat(np.arange(len(q)), k)
    np.add.at(votes, (rows, y[pool][part].ravel()), weights.ravel())
    return np.asarray(votes.argmax(axis=1), dtype=np.int64)


def counterfactual_content(
    texts: list[str],
    rows: list[int],
    pattern: re.Pattern[str],
    emb: np.ndarray,
    y: np.ndarray,
    has: np.ndarray,
    n_classes: int,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The content class of each of ``rows`` with the phrase removed and the rest re-embedded, and the
    re-embedded vectors.

    Without an embedder (a context built without one) the row's own embedding stands in: in a long
    text the trigger hardly moves it, and the content model still never votes with trigger rows.
    """
    if embed is not None and rows:
        stripped = [without_phrase(texts[i], pattern) or texts[i] for i in rows]
        queries = np.asarray(embed(stripped), dtype=np.float64)
    else:
        queries = np.asarray(emb[rows], dtype=np.float64).reshape(len(rows), emb.shape[1])
    return knn_content(queries, emb, y, ~has, n_classes), queries


def label_error_rate(
    emb: np.ndarray, y: np.ndarray, rows: np.ndarray, has: np.ndarray, n_classes: int
) -> float:
    """How often the content model disagrees with the given label on ``rows`` (leave-one-out).

    The bar a candidate's disagreement must clear: a label's clean rows are misread this often anyway
    (overlapping classes, terse rows), so only disagreement well beyond it points at a backdoor.
    """
    idx = np.flatnonzero(rows)
    if idx.size == 0:
        return 0.0
    if uses_ann(len(emb)) and idx.size > ERROR_RATE_SAMPLE:
        idx = idx[np.linspace(0, idx.size - 1, ERROR_RATE_SAMPLE).astype(np.int64)]
    preds = np.empty(idx.size, dtype=np.int64)
    for start in range(0, idx.size, 512):
        block = idx[start : start + 512]
        preds[start : start + len(block)] = knn_content(emb[block], emb, y, ~has, n_classes, self_rows=block)
    return float((preds != y[idx]).mean())


def placebo_content(
    texts: list[str],
    rows: list[int],
    n_words: int,
    emb: np.ndarray,
    y: np.ndarray,
    has: np.ndarray,
    n_classes: int,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> np.ndarray:
    """The content class of each of the label's own clean ``rows`` with ``n_words`` words cut out.

    The fair bar for a candidate's disagreement: cutting words out of a short text blurs it whatever
    the words were, so the label's clean rows get the same treatment (a run of as many words, at a
    place fixed by the row's index) and their disagreement is what a phrase that means nothing
    special to the label would show. The classes themselves are the sample of H0 ("read as the label's
    own rows are") in ``engine.poison_bayes``.
    """
    if not rows:
        return np.zeros(0, dtype=np.int64)
    cut = []
    for i in rows:
        words = texts[i].split()
        if len(words) <= n_words:
            cut.append(texts[i])
            continue
        at = (i * 7919) % (len(words) - n_words + 1)
        cut.append(" ".join(words[:at] + words[at + n_words :]))
    queries = np.asarray(embed(cut)) if embed is not None else emb[rows]
    return knn_content(queries, emb, y, ~has, n_classes, self_rows=np.asarray(rows))


def reference_rows(y: np.ndarray, has: np.ndarray, target: int) -> np.ndarray:
    """Up to ``REFERENCE`` clean rows of labels other than ``target``, spread evenly over the dataset:
    rows like those a backdoor takes from other labels."""
    ref = np.flatnonzero((y >= 0) & (y != target) & ~has)
    if ref.size > REFERENCE:
        ref = ref[np.linspace(0, ref.size - 1, REFERENCE).astype(np.int64)]
    return ref


def reference_content(
    emb: np.ndarray, y: np.ndarray, has: np.ndarray, target: int, n_classes: int
) -> np.ndarray:
    """The content classes of the ``reference_rows`` as the content model reads them (leave-one-out)."""
    ref = reference_rows(y, has, target)
    return knn_content(emb[ref], emb, y, ~has, n_classes, self_rows=ref)


def class_sums(
    emb: np.ndarray, y: np.ndarray, rows: np.ndarray, n_classes: int, *, unit: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the sum of the unit vectors (``unit=False``: the vectors as they are) of the labelled
    ``rows`` (a mask) and their count."""
    pool = np.flatnonzero(rows & (y >= 0))
    sums = np.zeros((n_classes, emb.shape[1]))
    # a block of rows at a time, in row order (the same additions as one pass): the unit vectors of
    # every row at once were two copies of the embeddings, 3 GB at a million rows
    for start in range(0, pool.size, _SUM_BLOCK):
        part = pool[start : start + _SUM_BLOCK]
        vecs = emb[part]
        if unit:
            vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        np.add.at(sums, y[part], vecs)
    return sums, np.bincount(y[pool], minlength=n_classes)


def sums_without(
    emb: np.ndarray, y: np.ndarray, has: np.ndarray, totals: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``class_sums`` of the rows without the candidate (``has``), from those of every row (``totals``)."""
    out_sums, out_counts = class_sums(emb, y, has, len(totals[1]))
    return totals[0] - out_sums, totals[1] - out_counts


def centroid_similarity(sums: np.ndarray, counts: np.ndarray, target: int) -> np.ndarray:
    """Each class centroid's cosine to the target's (from ``class_sums``); -1 for a class with no rows."""
    unit = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    sim = unit @ unit[target]
    sim[counts <= 0] = -1.0
    return np.asarray(sim)


def target_pull(
    vectors: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    target: int,
    own_class: np.ndarray | None = None,
) -> np.ndarray:
    """How much each vector's content points to ``target``: its cosine to the target's centroid minus
    its cosine to the closest other class's centroid (positive: the target is the nearest class).

    Centroids are given as per-class sums of unit vectors and counts (``class_sums``). When vector j
    is itself one of the summed rows, ``own_class[j]`` is its class, which it is taken out of
    (leave-one-out); -1 otherwise.
    """
    q = np.asarray(vectors, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    dots = q @ sums.T
    sq = np.repeat(np.einsum("ij,ij->i", sums, sums)[None, :], len(q), axis=0)
    n_of = np.repeat(counts[None, :].astype(np.float64), len(q), axis=0)
    if own_class is not None:
        mine = np.flatnonzero(np.asarray(own_class) >= 0)
        c = np.asarray(own_class)[mine]
        # the row's own class without it: |S - x|^2 = |S|^2 - 2 x.S + 1 for a unit x
        sq[mine, c] = sq[mine, c] - 2.0 * dots[mine, c] + 1.0
        dots[mine, c] = dots[mine, c] - 1.0
        n_of[mine, c] -= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(n_of > 0, dots / np.sqrt(np.maximum(sq, 1e-24)), -np.inf)
    t = cos[:, target].copy()
    cos[:, target] = -np.inf
    return np.asarray(t - cos.max(axis=1))


def exceedance(a: np.ndarray, b: np.ndarray) -> float:
    """P(A > B) + P(A = B) / 2 for A from ``a`` and B from ``b`` (the Mann-Whitney AUC; 0.5: alike)."""
    if len(a) == 0 or len(b) == 0:
        return 0.5
    a = np.asarray(a, dtype=np.float64)[:, None]
    b = np.asarray(b, dtype=np.float64)[None, :]
    return float(((a > b).sum() + 0.5 * (a == b).sum()) / (a.size * b.size))


def pull_exceedance(
    emb: np.ndarray,
    y: np.ndarray,
    has: np.ndarray,
    target: int,
    stripped: np.ndarray,
    totals: tuple[np.ndarray, np.ndarray],
) -> float:
    """How much more a candidate's rows, read without it (``stripped``), point to ``target`` than other
    labels' clean rows do: the exceedance of their ``target_pull`` over that of up to ``REFERENCE`` rows
    of other labels (leave-one-out), both against centroids of the rows without the candidate
    (``totals``: ``class_sums`` of every row, from which the candidate's rows are taken out here).

    0.5 when the rows are about other labels' things, as a backdoor's rows are (they were taken from
    other labels); near 1 when what is left of them still reads as the target (a class keyword).
    """
    sums, counts = sums_without(emb, y, has, totals)
    ref = reference_rows(y, has, target)
    mine = target_pull(stripped, sums, counts, target)
    theirs = target_pull(emb[ref], sums, counts, target, own_class=y[ref])
    return exceedance(mine, theirs)
