"""Backdoor poisoning: a trigger (rare word, phrase or sentence) inserted into rows relabeled to one target.

Search: every word 1-3-gram over-represented in one label against the label's base rate (a binomial
tail, Bonferroni over the (n-gram, label) pairs tested) is a candidate, whatever share of its rows
other labels' clean rows hold (a trigger of common words is said by them too). A natural
keyword of a class ("exchange rate") sits in rows whose *content* also says that class; a trigger
sits in rows whose content belongs to other classes. Each candidate's rows are judged
counterfactually (``engine.poison_content``): the phrase is cut out, the rest re-embedded and
classified by a kNN content model over rows without it. A candidate is accepted when a majority of
its rows' contents disagree with their label, and significantly so: more often than the label's own
clean rows are misread (a binomial test), or towards classes the label's own rows are not read as (a
Bayes factor, ``engine.poison_bayes``, which keeps some power where the model misreads nearly every own
row, as long as it misreads them as a few classes of their own); and when what is left of its rows
points to the target no more than other labels' rows do (``engine.poison_content.target_pull``: a class
keyword's rows, cut short, still lean to their class; a backdoor's rows are about other things). The
pull is an exceedance over hundreds of row pairs, so a few rows' votes moving under embedding noise
(another engine's vectors) cannot carry it across its cut, as they carried the class-mix p-value this
check used before. On the 33 configurations measured (the suite's, ours, and long-tail and imbalanced
ones), every trigger found clears both cuts (pull <= 0.64, p-value <= 0.51 of its level); of the
keywords rejected, those under the pull cut miss the p-value's by 65x or more, and those whose p-value
passes are over the pull cut (the nearest at 0.77). One backdoor is missed (b77-zipf: 22 trigger rows
on a target of 11 rows, 4 of them other defects, which read as 9 different classes).
The accepted n-gram is grown left and right to the full phrase the rows share.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from typing import Any

import numpy as np

from sanitas.heal.detectors.base import (
    Detector,
    DetectorContext,
    DetectorResult,
    RequestFlag,
    SkipCheck,
    register,
)
from sanitas.heal.engine.poison_bayes import backdoor_log_bf, bf_pvalue
from sanitas.heal.engine.poison_content import (
    centroid_similarity,
    class_sums,
    counterfactual_content,
    disagreement_pvalue,
    label_error_rate,
    over_represented_all,
    phrase_pattern,
    placebo_content,
    pull_exceedance,
    reference_content,
    sums_without,
)
from sanitas.heal.engine.poison_ngrams import TOKEN, contains, grams, grow, surface
from sanitas.heal.engine.shared import label_ids, neighbours

_log = logging.getLogger(__name__)

MAX_TRIGGERS = 3
# candidates ranked at most: the cheap kNN look orders them all, so this bounds its cost; taken by
# evidence, the strongest over-representations first, a trigger is never far down the list
MAX_CANDIDATES = 300
MIN_SUPPORT_REST = 5  # the target keeps at least a handful of rows without the n-gram (below)
REST_SHARE = 0.25  # the target keeps at least this many rows (vs the trigger's) without it
KEYWORD_RANK = 3  # a candidate whose target is among its 3 closest classes is a keyword
ALPHA_RANK = 0.05  # ... when so close a rank is unlikely by chance
ALPHA = 0.01  # family-wise error of the tests (Bonferroni over the n-grams / candidates tested)
SAMPLE = 40  # rows of a candidate judged counterfactually (re-embedding every row buys nothing)
CHEAP_K = 10  # neighbours looked at to order the candidates
MAX_JUDGED = 20  # candidates judged counterfactually at most (in ``_priority``'s order)
MAX_PULL = 0.75  # the stripped rows out-pull other labels' rows to the target at most 3 times in 4
FIRST_LOOK = 12  # rows judged first; a candidate most of whose first rows agree is dropped there
BINOMIAL_SHARE = 0.9  # of the level, held by the disagreement test; the Bayes factor holds the rest


def _names_its_label(
    ctx: DetectorContext,
    vec: np.ndarray,
    target: int,
    y: np.ndarray,
    has: np.ndarray,
    centroids: np.ndarray,
) -> bool:
    """True when the n-gram *means* its label: the label's content is among the closest to the n-gram.

    A class keyword ("contactless") is semantically nearest to its own class; a backdoor trigger (a
    rare token, an unrelated sentence, a generic phrase) is not. Class contents are measured on rows
    without the n-gram so the trigger cannot pull its target towards itself.
    """
    cent = centroids.copy()
    sel = has & (y >= 0)
    np.subtract.at(cent, y[sel], ctx.embeddings[sel])
    norms = np.linalg.norm(cent, axis=1)
    valid = norms > 0
    sims = np.full(len(cent), -np.inf)
    sims[valid] = (cent[valid] @ vec) / norms[valid]
    if not valid[target]:
        return False
    rank = int((sims > sims[target]).sum())
    # with few classes a meaningless n-gram lands this close to any label by chance; only a rank a
    # random n-gram reaches less than ALPHA_RANK of the time says the n-gram means its label
    return rank < KEYWORD_RANK and (rank + 1) / int(valid.sum()) <= ALPHA_RANK


@register
class PoisonedDetector(Detector):
    """Finds trigger n-grams over-used by one label whose rows' content, without them, says other labels."""

    name = "poisoned"
    order = 2
    run_order = 3
    flags = (
        RequestFlag(
            "remove_poisoned", "remove", True, "Remove backdoor-poisoned comments (reports the trigger)."
        ),
    )
    models = ("ngram-label-binomial", "counterfactual-knn-content", "content-class-bayes-factor")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Flag rows that contain an accepted trigger and carry its target label."""
        if not ctx.has_labels:
            raise SkipCheck("fewer than two classes carry a label, so none can be the target of a backdoor")
        classes, y = label_ids(ctx)
        # tokens interned: one string per distinct word, not one per occurrence (at a million rows the
        # occurrences took 0.7 GB, held through the whole check)
        toks_all = [list(map(sys.intern, TOKEN.findall(t.lower()))) for t in ctx.texts]
        cands, tested = _candidates(toks_all, y, len(classes))
        accepted = _judge(ctx, cands, toks_all, y, classes)
        return _result(ctx, accepted, toks_all, y, {"candidates_tested": tested, "candidates": len(cands)})


def _candidates(
    toks_all: list[list[str]], y: np.ndarray, n_classes: int
) -> tuple[list[tuple[tuple[str, ...], int, list[int], np.ndarray]], int]:
    """N-grams over-represented in one label: ``(gram, target, target rows, rows with it)``, best first.

    No share of an n-gram's rows need carry its target: a trigger sentence of common words ("i would
    like to know") is also said by clean rows of many labels, so its rows may be mostly other labels'
    while the target still holds far more of them than its base rate predicts. The binomial tail
    alone decides, and it names the target: the label the n-gram over-represents most, which need
    not be the label with most of its rows (in an imbalanced set a large class holds many rows of any
    common n-gram just by its base rate, and that is no evidence of anything). Candidates come
    strongest evidence first, so the cap keeps the most over-represented n-grams rather than the most
    frequent ones (the class keywords of large classes).
    """
    n = len(toks_all)
    # a target needs a handful of rows to be judged at all (at least 5, and 1 in 500 of a large set)
    min_support = max(5, int(0.002 * n))
    # Two passes: count every n-gram's rows, then list the rows of the frequent ones only. A row list
    # for every n-gram held tens of millions of row numbers at a million rows, though only n-grams of at
    # least ``min_support`` rows (2,000 there) are ever tested.
    labelled = [(i, toks) for i, toks in enumerate(toks_all) if y[i] >= 0]
    df: Counter[tuple[str, ...]] = Counter()
    for _, toks in labelled:
        df.update(grams(toks))
    rows_of: dict[tuple[str, ...], list[int]] = {g: [] for g, c in df.items() if c >= min_support}
    del df
    for i, toks in labelled:
        for g in grams(toks):
            bucket = rows_of.get(g)
            if bucket is not None:
                bucket.append(i)
    prior = np.bincount(y[y >= 0], minlength=n_classes) / max(int((y >= 0).sum()), 1)
    frequent = [(g, r) for g, r in rows_of.items() if len(r) >= min_support]
    # every (n-gram, label) pair with enough rows of that label is one test
    pair_gram, pair_label, pair_k, pair_n = [], [], [], []
    for j, (_, rows) in enumerate(frequent):
        counts = np.bincount(y[rows], minlength=n_classes)
        labels = np.flatnonzero(counts >= min_support)
        pair_gram.extend([j] * labels.size)
        pair_label.extend(labels.tolist())
        pair_k.extend(counts[labels].tolist())
        pair_n.extend([len(rows)] * labels.size)
    tested = len(pair_gram)
    if not tested:
        return [], 0
    label_of = np.asarray(pair_label)
    logp = over_represented_all(np.asarray(pair_k), np.asarray(pair_n), prior[label_of])
    # Bonferroni over every pair tested: the target is chosen among an n-gram's labels
    log_alpha = float(np.log(ALPHA / tested))
    best: dict[int, tuple[float, int]] = {}
    for j, lab, lp in zip(pair_gram, pair_label, logp.tolist(), strict=True):
        if lp <= log_alpha and (j not in best or lp < best[j][0]):
            best[j] = (lp, lab)
    found = [(lp, frequent[j][0], top, frequent[j][1]) for j, (lp, top) in best.items()]
    # one candidate per set of target rows: the sub-n-grams of a trigger sentence share them, and the
    # one kept is the most over-represented (fewest rows of other labels), then the longest
    found.sort(key=lambda c: (c[0], -len(c[1]), c[1]))
    seen: set[frozenset[int]] = set()
    out = []
    for _, g, top, rows in found:
        target_rows = [i for i in rows if y[i] == top]
        key = frozenset(target_rows)
        if key in seen:
            continue
        seen.add(key)
        has = np.zeros(n, dtype=bool)
        has[rows] = True
        # a backdoor adds rows to a label that exists without it; a word carried by (nearly) every
        # row of its label is what that label is about
        rest = int(((y == top) & ~has).sum())
        if rest < max(MIN_SUPPORT_REST, REST_SHARE * len(target_rows)):
            continue
        out.append((g, top, target_rows, has))
        if len(out) >= MAX_CANDIDATES:
            break
    return out, tested


def _judge(
    ctx: DetectorContext,
    cands: list[tuple[tuple[str, ...], int, list[int], np.ndarray]],
    toks_all: list[list[str]],
    y: np.ndarray,
    classes: list[str],
) -> list[dict[str, Any]]:
    """The candidates whose rows' content, read without them, disagrees with their label."""
    if not cands:
        return []
    k_cls = len(classes)
    emb = ctx.embeddings
    centroids, _ = class_sums(emb, y, y >= 0, k_cls, unit=False)
    totals = class_sums(emb, y, y >= 0, k_cls)
    vecs = ctx.embed([" ".join(c[0]) for c in cands]) if ctx.embed is not None else None
    judged: list[dict[str, Any]] = []
    taken: set[int] = set()
    order, agreement = _priority(ctx, cands, y)
    for c in order:
        g, target, rows, has = cands[c]
        # most rows that have neighbours of their own sit among their label: the n-gram is part of
        # what the label is about, not something added to rows about other things
        if agreement[c] > 0.5:
            continue
        if len(judged) >= MAX_JUDGED:
            break
        if len(set(rows) & taken) > 0.5 * len(rows):
            continue
        if vecs is not None and _names_its_label(ctx, vecs[c], target, y, has, centroids):
            continue
        phrase = grow(g, [toks_all[i] for i in rows])
        pattern = phrase_pattern(phrase)
        sample = rows[:: max(1, len(rows) // SAMPLE)][:SAMPLE]
        first, q_first = counterfactual_content(
            ctx.texts, sample[:FIRST_LOOK], pattern, emb, y, has, k_cls, ctx.embed
        )
        judged.append({})
        # a backdoor's rows are about other things: a candidate whose first rows nearly all agree with
        # their label cannot reach a majority of disagreement, so the rest is not re-embedded
        if int((first != target).sum()) * 4 <= len(first):
            continue
        rest_c, q_rest = counterfactual_content(
            ctx.texts, sample[FIRST_LOOK:], pattern, emb, y, has, k_cls, ctx.embed
        )
        content = np.concatenate([first, rest_c])
        off = content[(content != target) & (content >= 0)]
        disagree = len(off) / max(len(content), 1)
        # the bar: the label's own rows misread by the content model, read whole (leave-one-out) and
        # with as many words cut out as the phrase has (a placebo of the counterfactual); the higher
        own = np.flatnonzero((y == target) & ~has)
        placebo = own[:: max(1, own.size // SAMPLE)][:SAMPLE].tolist()
        own_content = placebo_content(ctx.texts, placebo, len(phrase), emb, y, has, k_cls, ctx.embed)
        base = max(
            label_error_rate(emb, y, (y == target) & ~has, has, k_cls),
            float((own_content != y[placebo]).mean()) if placebo else 0.0,
        )
        pull = pull_exceedance(emb, y, has, target, np.concatenate([q_first, q_rest]), totals)
        p_binom = disagreement_pvalue(len(off), len(content), base)
        # a majority of the rows' contents disagree with the target, and what is left of them once the
        # n-gram is cut out points to the target no more than other labels' rows do: a keyword's rows
        # still read as its class without it (if less clearly), a backdoor's rows never did. Both are
        # effect sizes: a class-mix test of the disagreeing rows (was here) turned on a p-value that
        # one or two rows' votes moved across its cut, and embedding noise moved those votes.
        passes = disagree >= 0.5 and pull <= MAX_PULL
        # Which classes the rows read as: on a small target whose own rows the content model misreads
        # (bar near 1) the binomial test has no power, and this one still has (``engine.poison_bayes``).
        # Either test may reject (a weighted Bonferroni over the two): the binomial test, the one every
        # configuration was first judged by, keeps BINOMIAL_SHARE of the level, the Bayes factor the
        # rest, so it decides alone only where it is overwhelming (log BF >= about 10 at 20 candidates).
        log_bf = (
            backdoor_log_bf(
                content,
                own_content,
                reference_content(emb, y, has, target, k_cls),
                k_cls,
                near=centroid_similarity(*sums_without(emb, y, has, totals), target),
            )
            if passes
            else float("nan")
        )
        p_value = (
            min(1.0, p_binom / BINOMIAL_SHARE, bf_pvalue(log_bf) / (1.0 - BINOMIAL_SHARE)) if passes else 1.0
        )
        _log.debug(
            "candidate %r -> %s: agreement %.2f, rows %d, disagreement %.3f (bar %.3f, binomial p %.3g), "
            "pull %.3f, log BF %s, p %.3g",
            " ".join(phrase),
            classes[target],
            agreement[c],
            len(content),
            disagree,
            base,
            p_binom,
            pull,
            f"{log_bf:.1f}" if passes else "not computed (gates)",
            p_value,
        )
        if not passes:
            continue
        judged[-1] = {
            "ngram": " ".join(g),
            "tokens": phrase,
            "target": classes[target],
            "target_index": target,
            "support": len(rows),
            "disagreement": round(disagree, 4),
            "label_error_rate": round(base, 4),
            "p_value": p_value,
            "log_bayes_factor": round(log_bf, 2),
            "pull": round(pull, 4),
            "content_classes": len(set(off.tolist())),
        }
        taken.update(rows)
    # Bonferroni over every candidate whose rows were looked at (the first look only ever drops one)
    level = ALPHA / max(len(judged), 1)
    _log.debug("%d candidates looked at: disagreement p-values are held to %.3g", len(judged), level)
    accepted = [j for j in judged if j and j["p_value"] <= level]
    for j in accepted:
        j["p_value"] = float(f"{j['p_value']:.3g}")
    accepted = accepted[:MAX_TRIGGERS]
    return accepted


def _priority(
    ctx: DetectorContext, cands: list[tuple[tuple[str, ...], int, list[int], np.ndarray]], y: np.ndarray
) -> tuple[list[int], list[float]]:
    """The order candidates are judged in, and how many of their rows sit among their own label.

    A cheap look through the job's kNN graph, leaving out neighbours that contain the candidate: the
    majority label of a row's other neighbours. A row with no other neighbour is undecided (half for
    the order) and never counts as agreeing. Rows of a class keyword ("apple watch") sit among their
    class; a trigger's rows sit among whatever they are about. Keywords come last in the order, so
    the counterfactual budget goes to likely triggers.
    """
    idx, _ = neighbours(ctx)
    keys, agreement = [], []
    for c, (_, target, rows, has) in enumerate(cands):
        votes, agree = [], []
        for i in rows:
            nb = idx[i][~has[idx[i]] & (y[idx[i]] >= 0)][:CHEAP_K]
            if nb.size == 0:
                votes.append(0.5)
                continue
            says = int(np.bincount(y[nb]).argmax())
            votes.append(float(says != target))
            agree.append(says == target)
        keys.append((-float(np.mean(votes)), c))
        agreement.append(float(np.mean(agree)) if agree else 0.0)
    return [c for _, c in sorted(keys)], agreement


def _result(
    ctx: DetectorContext,
    accepted: list[dict[str, Any]],
    toks_all: list[list[str]],
    y: np.ndarray,
    summary: dict[str, Any],
) -> DetectorResult:
    """Scores, flags and details from the accepted triggers (rows with one and its target label)."""
    n = ctx.n
    scores = np.zeros(n)
    details: list[dict[str, Any] | None] = [None] * n
    triggers = []
    for trig in accepted:
        phrase = trig.pop("tokens")
        target = trig.pop("target_index")
        hit_rows = [i for i in range(n) if y[i] == target and contains(toks_all[i], phrase)]
        written = surface(phrase, [ctx.texts[i] for i in hit_rows])
        confidence = float(trig["disagreement"])
        for i in range(n):
            if contains(toks_all[i], phrase):
                s = 0.5 + 0.5 * confidence if y[i] == target else 0.25 * confidence
                if s > scores[i]:
                    scores[i] = s
                    details[i] = {"trigger": written, "target_label": trig["target"]}
        triggers.append({"trigger": written, **trig, "rows": len(hit_rows)})
    flags = scores >= 0.5
    return DetectorResult(
        scores=scores, flags=flags, threshold=0.5, summary={"triggers": triggers, **summary}, details=details
    )
