"""Confident learning's label issues (cleanlab's ``prune_by_class``) a block of rows at a time.

``cleanlab.filter.find_label_issues(labels, pred_probs, filter_by="prune_by_class")`` is the method; this
module gives the same mask without its rows x classes copies. cleanlab 2.9 holds, besides the table it is
given, a boolean table of the confident classes, a copy of every row grouped by class (kept in a module
global after it returns) and a second copy to break ties with the given label: measured at 2.4x the
probability table at its peak, about 2.5 GB at a million rows of 262 classes, in the step that set a
million-row heal's peak memory. Here every rows x classes step reads a block of ``_BLOCK`` rows; everything
else is cleanlab's own functions on the classes x classes counts (its calibration and its keep-one-per-class
adjustment), so the result is cleanlab's, row for row (tests compare the two on tables with ties, tiny
classes and many classes).
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np

# Rows per block of the rows x classes steps (block x classes temporaries: 16 MB at 1,000 classes).
_BLOCK = 4096
# cleanlab's fuzzy comparison (``cleanlab.internal.constants.FLOATING_POINT_COMPARISON``), which sets
# both the confident-class margin and the nudge that keeps a tie on the given label.
_EPS = 1e-6


def _cleanlab() -> tuple[ModuleType, ModuleType]:
    """cleanlab's ``count`` and ``filter`` modules. Imported here, under a warnings guard: cleanlab's import
    (its spurious-correlation module) runs ``warnings.filterwarnings("ignore")``, which would otherwise
    silence every warning of the process for good (a server's, a worker's)."""
    with warnings.catch_warnings():
        from cleanlab import count, filter

    return count, filter


def _blocks(n: int) -> list[slice]:
    return [slice(s, min(n, s + _BLOCK)) for s in range(0, n, _BLOCK)]


def confident_joint(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """cleanlab's calibrated confident joint (``count.compute_confident_joint``): ``(K, K)`` counts of
    (given label, confidently predicted class), calibrated to the given labels' counts."""
    count, _ = _cleanlab()
    k = probs.shape[1]
    # one labels == class pass per class, no rows x classes temporary
    thresholds = np.asarray(count.get_confident_thresholds(labels, probs)) - _EPS
    counts = np.zeros(k * k, dtype=np.int64)
    for rows in _blocks(len(labels)):
        block = probs[rows]
        confident = block >= thresholds
        n_confident = confident.sum(axis=1)
        # the confident class; with more than one, the likeliest class overall (as cleanlab picks it)
        guess = np.where(n_confident > 1, block.argmax(axis=1), confident.argmax(axis=1))
        seen = n_confident > 0
        counts += np.bincount(labels[rows][seen] * k + guess[seen], minlength=k * k)
    joint = counts.reshape(k, k)
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    return np.asarray(count.calibrate_confident_joint(joint, labels))


def label_issues(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The rows ``find_label_issues(labels, probs, filter_by="prune_by_class")`` flags (cleanlab 2.9,
    ``min_examples_per_class=1``): each class gives up the rows its calibrated confident joint counts as
    noise, lowest probability of the class first, then a row whose given label is (within the fuzzy
    margin) the likeliest is kept.

    ``labels`` are ``0..K-1`` with every class present (at least two); ``probs`` is ``(n, K)``.
    """
    _, cl_filter = _cleanlab()
    n = len(labels)
    # cleanlab's private step (pinned version): kept so the counts are its own, not a rewrite of them
    prune = cl_filter._keep_at_least_n_per_class(confident_joint(labels, probs).T, n=1)
    mask = np.zeros(n, dtype=bool)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(probs.shape[1] + 1))
    for k in range(probs.shape[1]):
        rows = order[starts[k] : starts[k + 1]]  # class k's rows, in row order
        remove = len(rows) - int(prune[k, k])
        if len(rows) > 1 and remove >= 1:
            mask[rows[np.argsort(probs[rows, k])[:remove]]] = True
    for part in _blocks(n):
        block = probs[part].copy()
        given = labels[part]
        block[np.arange(len(given)), given] += _EPS
        mask[part] &= block.argmax(axis=1) != given
    return mask
