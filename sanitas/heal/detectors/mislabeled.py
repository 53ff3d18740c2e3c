"""Mislabeled rows: out-of-sample neighbour probabilities + confident learning (cleanlab)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, SkipCheck, register
from sanitas.heal.engine.shared import label_ids, label_probs


def relabel_confidence(probs: np.ndarray, y: np.ndarray) -> float:
    """Top probability a suggestion needs before it is applied: the median confidence of the rows
    whose neighbours agree with their given label.

    A suggested label is applied only when the neighbours back it as firmly as they back a typical
    correctly labelled row of this dataset; the level adapts to how separable the classes are.
    """
    agree = probs.argmax(axis=1) == y
    if agree.sum() < 10:
        return 0.95
    return float(np.median(probs.max(axis=1)[agree]))


@register
class MislabeledDetector(Detector):
    """Flags rows whose given label disagrees with what their nearest neighbours imply."""

    name = "mislabeled"
    models = ("knn-vote(minilm+tfidf)", "cleanlab.count.num_label_issues")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Score = 1 - normalised margin of the given label; the count flagged is cleanlab's estimate."""
        if not ctx.has_labels:
            raise SkipCheck("the dataset has no labels (at least two classes are needed)")
        classes, y = label_ids(ctx)
        labelled = np.flatnonzero(y >= 0)
        probs = label_probs(ctx)
        bad, n_issues = _issues(probs[labelled], y[labelled])
        yl, pl = y[labelled], probs[labelled]
        scores = np.zeros(ctx.n)
        scores[labelled] = bad
        flags = np.zeros(ctx.n, dtype=bool)
        threshold = 1.0
        if n_issues > 0:
            order = np.argsort(-bad, kind="mergesort")[:n_issues]
            threshold = float(max(bad[order[-1]], 0.5))
            flags[labelled] = bad >= threshold
        noise_rate = n_issues / max(len(yl), 1)
        tau = relabel_confidence(pl, yl)
        details: list[dict[str, Any] | None] = [None] * ctx.n
        relabels = 0
        for j, i in enumerate(labelled):
            k = int(pl[j].argmax())
            if k == yl[j]:
                continue
            confident = bool(flags[i] and pl[j, k] >= tau)
            relabels += confident
            details[i] = {
                "given_label": classes[yl[j]],
                "suggested_label": classes[k],
                "confidence": round(float(pl[j, k]), 4),
                "relabel": confident,
            }
        summary = {
            "estimated_issues": n_issues,
            "estimated_noise_rate": round(noise_rate, 4),
            "relabel_confidence": round(tau, 4),
            "relabel_suggested": relabels,
            "classes": len(classes),
        }
        return DetectorResult(
            scores=scores, flags=flags, threshold=threshold, summary=summary, details=details
        )


def _issues(pl: np.ndarray, yl: np.ndarray) -> tuple[np.ndarray, int]:
    """Badness (1 - normalised margin of the given label, in [0, 1]) and cleanlab's issue count."""
    from cleanlab.count import num_label_issues

    rows = np.arange(len(yl))
    given = pl[rows, yl]
    other = pl.copy()
    other[rows, yl] = -1.0
    bad = np.clip((other.max(axis=1) - given + 1.0) / 2.0, 0.0, 1.0)
    present = np.unique(yl)
    try:
        # cleanlab needs every class index to occur; re-index to the classes present
        remap = np.searchsorted(present, yl)
        n_issues = int(num_label_issues(labels=remap, pred_probs=_renorm(pl[:, present])))
    except Exception:  # noqa: BLE001 - degenerate inputs: fall back to plain disagreement
        n_issues = int((pl.argmax(axis=1) != yl).sum())
    return bad, n_issues


def _renorm(p: np.ndarray) -> np.ndarray:
    return p / p.sum(axis=1, keepdims=True)
