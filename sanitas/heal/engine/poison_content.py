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
  embedding is still judged by what the rest of the text says.
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
# Above the approximate-search size a label's clean rows are read through a sample of this many
# (the error rate is a share: its standard error at 2,000 rows is at most 0.011), not all of them,
# whose count grows with the dataset and makes the bar quadratic in rows.
ERROR_RATE_SAMPLE = 2000


def over_represented(k: int, n: int, base_rate: float) -> float:
    """log P(X >= k) for X ~ Binomial(n, base_rate): how unlikely ``k`` of ``n`` rows in one label are."""
    from scipy.stats import binom  # here: a warm re-run answered from the cache never loads scipy

    p = min(max(float(base_rate), 1e-12), 1.0 - 1e-12)
    return float(binom.logsf(k - 1, n, p))


def disagreement_pvalue(k: int, n: int, base_rate: float) -> float:
    """P(X >= k) for X ~ Binomial(n, base_rate): ``k`` of ``n`` rows' content disagreeing by chance."""
    from scipy.stats import binom

    p = min(max(float(base_rate), 1e-6), 1.0 - 1e-6)
    return float(binom.sf(k - 1, n, p))


def expected_effective_classes(prior: np.ndarray, m: int) -> float:
    """Expected inverse Simpson index of ``m`` rows drawn from ``prior`` (how varied random rows look).

    E[sum of squared sample shares] = sum q^2 + (1 - sum q^2) / m, so its inverse is what rows of any
    content would show; an imbalanced dataset shows fewer effective classes, and this says how many.
    """
    q = np.asarray(prior, dtype=np.float64)
    q = q / max(float(q.sum()), 1e-12)
    s2 = float((q**2).sum())
    return 1.0 / (s2 + (1.0 - s2) / max(m, 1))


def effective_classes(labels: np.ndarray, n_classes: int) -> float:
    """Inverse Simpson index of ``labels`` (1 = all one class)."""
    if len(labels) == 0:
        return 0.0
    shares = np.bincount(labels, minlength=n_classes) / len(labels)
    return 1.0 / max(float((shares**2).sum()), 1e-12)


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
    base = emb[pool].astype(np.float32)
    base = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
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
) -> np.ndarray:
    """The content class of each of ``rows`` with the phrase removed and the rest re-embedded.

    Without an embedder (a context built without one) the row's own embedding stands in: in a long
    text the trigger hardly moves it, and the content model still never votes with trigger rows.
    """
    if embed is not None:
        stripped = [without_phrase(texts[i], pattern) or texts[i] for i in rows]
        queries = np.asarray(embed(stripped))
    else:
        queries = emb[rows]
    return knn_content(queries, emb, y, ~has, n_classes)


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


def prior_fit_pvalue(content: np.ndarray, prior: np.ndarray, *, draws: int = 4000, seed: int = 0) -> float:
    """Monte Carlo p-value of a G-test: are ``content`` classes a draw from ``prior``?

    A backdoor's rows are taken from anywhere, so what they are about follows the dataset's own class
    mix (a majority class included); a keyword's rows, stripped of it, fall on the few classes that
    resemble its label. Exact by simulation, so sparse counts over many classes are no problem.
    """
    m = len(content)
    q = np.asarray(prior, dtype=np.float64)
    if m == 0 or q.sum() <= 0:
        return 1.0
    q = q / q.sum()
    k = len(q)
    # a content class the prior never shows would make G infinite: smooth by half a row
    q = (q * m + 0.5 / k) / (m + 0.5)

    def g_stat(counts: np.ndarray) -> np.ndarray:
        c = np.atleast_2d(counts).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(c > 0, c * np.log(c / (m * q)), 0.0)
        return np.asarray(2.0 * terms.sum(axis=1))

    observed = g_stat(np.bincount(content, minlength=k))[0]
    sims = g_stat(np.random.default_rng(seed).multinomial(m, q, size=draws))
    return float((1 + np.count_nonzero(sims >= observed - 1e-9)) / (draws + 1))


def placebo_error_rate(
    texts: list[str],
    rows: list[int],
    n_words: int,
    emb: np.ndarray,
    y: np.ndarray,
    has: np.ndarray,
    n_classes: int,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> float:
    """How often the content model misreads the label's own clean ``rows`` with ``n_words`` words cut out.

    The fair bar for a candidate's disagreement: cutting words out of a short text blurs it whatever
    the words were, so the label's clean rows get the same treatment (a run of as many words, at a
    place fixed by the row's index) and their disagreement is what a phrase that means nothing
    special to the label would show.
    """
    if not rows:
        return 0.0
    cut = []
    for i in rows:
        words = texts[i].split()
        if len(words) <= n_words:
            cut.append(texts[i])
            continue
        at = (i * 7919) % (len(words) - n_words + 1)
        cut.append(" ".join(words[:at] + words[at + n_words :]))
    queries = np.asarray(embed(cut)) if embed is not None else emb[rows]
    preds = knn_content(queries, emb, y, ~has, n_classes, self_rows=np.asarray(rows))
    return float((preds != y[rows]).mean())
