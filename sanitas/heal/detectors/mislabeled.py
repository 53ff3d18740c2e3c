"""Mislabeled rows: leave-one-out probabilities of a linear model + confident learning (cleanlab).

The probabilities come from ``engine.mislabel_oof`` (exact leave-one-out ridge models on the embeddings and
on the wording, fused with the neighbour votes and calibrated by log-loss; confident learning proposes from
that model and from the meaning-only one). Confident learning (cleanlab's ``find_label_issues``, prune by
class, computed by blocks in ``engine.confident``) proposes the rows whose given label the model confidently
contradicts; its count grows on datasets whose classes overlap by nature, because it cannot tell a wrong
label from a row that fits two classes. So a proposed row is flagged only when the calibrated probability of
its given label is itself implausible: at most ``ALPHA``, and no more than ``BAYES_FACTOR`` times the
label's prior odds (its share of the rows), so that the row's content gives its label no evidence worth
mentioning. The other proposals are the ambiguous rows: reported in the details, neither flagged nor
relabeled.

A row confident learning does not propose is flagged when its content gives its label no support at
all: the probability at most ``ALPHA`` and the posterior odds at most the prior odds (a Bayes factor of
``AGAINST_BAYES_FACTOR``, 1: the row says no more for its label than the label's base rate does), in a
class with at least ``MIN_CLASSMATES`` other rows (without them the model never saw the class).
Confident learning counts a class's errors from the rows another class confidently claims, so it misses
a flip whose content fits no class well, the more so the noisier the labels (16% flipped: 828 of 960
flips proposed). Without confident learning at all, the Bayes-factor-3 test alone flags about twice the
rows of a dataset with no label noise; this rule adds about a quarter (BENCHMARKS.md, "Stop 27"). Such a
row may also be off-topic or an outlier; those checks remove it, which wins over any relabel.

Nor does a row confident learning leaves out keep an implausible label when the model gives one other
class more than half the probability (``MAJORITY``): confident learning's count for a class is its
estimate of the class's noise, and with sharp probabilities the confident joint undercounts it, so
"checking invoice #37777" stays unproposed under "get_invoice" at 0.05 while the model gives
"check_invoice" 0.93. The ambiguous rows are untouched (they are the proposals whose label is *not*
implausible), and a flagged row is relabeled only at the relabel confidence, as every flagged row is.
"""

from __future__ import annotations

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
from sanitas.heal.engine import confident
from sanitas.heal.engine.mislabel_oof import oof_models, wording_features
from sanitas.heal.engine.shared import label_ids, label_probs

# A calibrated model giving the given label at most one chance in ten: the label is implausible, not
# merely debatable. Used as a significance level, never fitted to a dataset.
ALPHA = 0.1
# Bayes factor of a row's content for its given label: the calibrated posterior odds of the label over its
# prior odds (the label's share of the rows). A flagged label must have at most this much support, the
# edge of evidence "not worth more than a bare mention" on Kass & Raftery's scale. With many classes a
# probability of 0.05 is still several times a label's prior (a row that fits two of 77 classes), while a
# flipped label sits at or below its prior; with few classes the prior is large and ``ALPHA`` decides
# (for every class holding at least ~3.6% of the rows, where 3 p / (1 - p) reaches ALPHA's odds, 1/9).
BAYES_FACTOR = 3.0
# Content that gives its label no support (posterior odds at most the prior odds) needs no proposal.
AGAINST_BAYES_FACTOR = 1.0
# Classmates a row needs before its label's lack of support counts (as the off-topic check's support).
MIN_CLASSMATES = 2
# Another class more likely than not (and the given label implausible): flagged without a proposal.
# Strictly above: only one class can hold more than half the probability.
MAJORITY = 0.5
# The most confidence a relabel ever needs, however separable the dataset's classes are.
RELABEL_CAP = 0.99


def implausible_level(y: np.ndarray, n_classes: int, *, bayes_factor: float = BAYES_FACTOR) -> np.ndarray:
    """Per row, the largest probability of its given label (``y``, in ``0..n_classes-1``) that counts as
    implausible: ``ALPHA``, or lower where ``bayes_factor`` times the label's prior odds is lower.

    The prior is the label's share of the labelled rows (the base rate the model learns), so a rare class
    is held to a lower level than a common one and many classes to a lower level than few.
    """
    prior = np.bincount(y, minlength=n_classes)[y] / max(len(y), 1)
    odds = bayes_factor * prior / np.maximum(1.0 - prior, 1e-12)
    return np.asarray(np.minimum(ALPHA, odds / (1.0 + odds)))


def relabel_confidence(probs: np.ndarray, y: np.ndarray) -> float:
    """Top probability a suggestion needs before it is applied: the median confidence of the rows
    whose out-of-sample prediction agrees with their given label.

    A suggested label is applied only when the model backs it as firmly as it backs a typical
    correctly labelled row of this dataset; the level adapts to how separable the classes are.
    """
    agree = probs.argmax(axis=1) == y
    if agree.sum() < 10:
        return 0.95
    return float(np.median(probs.max(axis=1)[agree]))


@register
class MislabeledDetector(Detector):
    """Flags rows whose given label a calibrated out-of-sample model finds implausible."""

    name = "mislabeled"
    order = 0
    run_order = 2
    flags = (
        RequestFlag(
            "fix_mislabeled",
            "relabel",
            True,
            "Relabel comments whose label disagrees with the rest of the dataset.",
        ),
    )
    models = (
        "ridge-loo(minilm)+ridge-loo(tfidf-svd)+knn-vote",
        "confident-learning prune_by_class (cleanlab 2.9, by blocks of rows)",
    )

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Score 0.5 where the given label's probability is at its implausible level
        (``implausible_level``); flags confident-learning issues whose given label is implausible, rows
        whose content gives their label no support, and rows whose implausible label another class holds
        by majority (see the module docstring)."""
        if not ctx.has_labels:
            raise SkipCheck("fewer than two classes carry a label (at least two are needed)")
        classes, y = label_ids(ctx)
        labelled = np.flatnonzero(y >= 0)
        yl = y[labelled]
        # every row labelled (the usual case): the arrays as they are, not copies of every row
        whole = labelled.size == ctx.n
        votes = label_probs(ctx) if whole else label_probs(ctx)[labelled]
        wording = wording_features([ctx.texts[i] for i in labelled])
        has_wording = wording is not None
        emb = ctx.embeddings if whole else ctx.embeddings[labelled]
        # Confident learning proposes from both models: the wording view sharpens the probabilities of
        # the rows it reads well, which raises its classes' confidence thresholds and can hide a flip the
        # meaning-only model proposes. The fused model (the last one) then judges every proposal.
        models = oof_models(emb, yl, votes, wording=wording)
        del wording  # the models hold it while they need it
        oof = next(models)
        issues = _cl_issues(oof.probs, yl)
        if has_wording:
            del oof  # one model's table at a time (beside the shared votes): the meaning-only one goes first
            oof = next(models)
            issues |= _cl_issues(oof.probs, yl)
        models.close()  # lets go of the ridge models and the wording features
        pl = oof.probs
        given = pl[np.arange(len(yl)), yl]
        level = implausible_level(yl, pl.shape[1])
        implausible = given <= level
        scores = np.zeros(ctx.n)
        scores[labelled] = level / (level + given)
        flags = np.zeros(ctx.n, dtype=bool)
        against = given <= implausible_level(yl, pl.shape[1], bayes_factor=AGAINST_BAYES_FACTOR)
        # more than half the probability is the top class's alone, and never an implausible given label's
        # (one pass over the rows x classes table, no copy of it)
        majority = pl.max(axis=1) > MAJORITY
        # a row without a proposal needs its class to have been seen: a leave-one-out model learns a row's
        # class from its classmates only, and with fewer than ``MIN_CLASSMATES`` it cannot support the
        # label, so neither its silence nor another class's claim is evidence against it
        classmates = np.bincount(yl, minlength=pl.shape[1])[yl] - 1
        unproposed = (against | majority) & (classmates >= MIN_CLASSMATES)
        flags[labelled] = implausible & (issues | unproposed)
        # a label is rewritten only when the model is at least 1 - ALPHA sure of the new one (and at least as
        # sure as it is of a typical confirmed row): otherwise the row is only flagged
        # (capped at 0.99: a calibrated 99% is evidence enough even where confirmed rows are surer still)
        tau = min(max(relabel_confidence(pl, yl), 1.0 - ALPHA), RELABEL_CAP)
        details: list[dict[str, Any] | None] = [None] * ctx.n
        relabels = ambiguous = 0
        for j, i in enumerate(labelled):
            k = int(pl[j].argmax())
            if k == yl[j]:
                if not flags[i]:
                    continue
                # many classes, none likely: the given label is implausible and still the likeliest, so
                # the suggestion is the likeliest other one (never confident enough to be applied)
                others = pl[j].copy()
                others[yl[j]] = -np.inf  # a class tied with the given label must not hand it back
                k = int(others.argmax())
            confident = bool(flags[i] and pl[j, k] >= tau)
            is_ambiguous = bool(issues[j] and not implausible[j])
            relabels += confident
            ambiguous += is_ambiguous
            details[i] = {
                "given_label": classes[yl[j]],
                "suggested_label": classes[k],
                "confidence": round(float(pl[j, k]), 4),
                "given_probability": round(float(given[j]), 4),
                "relabel": confident,
                "ambiguous": is_ambiguous,
            }
        summary = {
            "confident_learning_issues": int(issues.sum()),
            "flagged": int(flags.sum()),
            "flagged_without_proposal": int((flags[labelled] & ~issues).sum()),
            "flagged_by_majority_alone": int((flags[labelled] & ~issues & ~against).sum()),
            "ambiguous": ambiguous,
            "estimated_noise_rate": round(float(flags.sum()) / max(len(yl), 1), 4),
            "alpha": ALPHA,
            "bayes_factor": BAYES_FACTOR,
            "against_bayes_factor": AGAINST_BAYES_FACTOR,
            "relabel_confidence": round(tau, 4),
            "relabel_suggested": relabels,
            "classes": len(classes),
            "wording_view": has_wording,
            "ridge": oof.ridge,
            "fusion_weights": oof.weights,
            "temperature": round(oof.temperature, 4),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)


def _cl_issues(pl: np.ndarray, yl: np.ndarray) -> np.ndarray:
    """Confident learning's label issues (prune by class: each class gives up the rows its estimated
    noise count says it holds, lowest self-confidence first) on out-of-sample probabilities: cleanlab's
    ``find_label_issues``, computed a block of rows at a time (``engine.confident``)."""
    present = np.unique(yl)
    if present.size < 2:  # one class: confident learning has nothing to compare; plain disagreement
        return np.asarray(pl.argmax(axis=1) != yl)
    # confident learning needs every class index to occur; re-index to the classes present (and
    # renormalise: the fused probabilities of all classes already sum to one, and are passed as they are)
    remap = np.searchsorted(present, yl)
    sub = pl
    if present.size < pl.shape[1]:
        sub = pl[:, present]
        sub = sub / sub.sum(axis=1, keepdims=True)
    return confident.label_issues(remap, sub)
