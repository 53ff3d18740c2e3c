"""The blockwise confident learning gives cleanlab's own ``prune_by_class`` mask, row for row."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sanitas.heal.engine import confident


def _cleanlab(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    from cleanlab import filter as cl_filter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a class of one row "may keep issues hidden"
            found = cl_filter.find_label_issues(labels, probs, filter_by="prune_by_class", n_jobs=1)
    finally:  # cleanlab leaves every row's probabilities in two module globals: not for other tests
        cl_filter.pred_probs_by_class = {}
        cl_filter.prune_count_matrix_cols = {}
    return np.asarray(found, dtype=bool)


def _table(
    rng: np.random.Generator, n: int, k: int, *, sharp: float, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Labels with a share ``noise`` flipped, and softmax probabilities that mostly favour the true class."""
    truth = rng.integers(0, k, n)
    truth[:k] = np.arange(k)  # every class present
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), truth] += sharp
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    labels = truth.copy()
    flip = rng.random(n) < noise
    labels[flip] = rng.integers(0, k, int(flip.sum()))
    labels[:k] = np.arange(k)
    return labels, probs


@pytest.mark.parametrize(
    ("seed", "n", "k", "sharp", "noise"),
    [(0, 300, 3, 2.0, 0.2), (1, 2000, 40, 3.0, 0.1), (2, 9000, 7, 1.0, 0.3), (3, 5000, 120, 5.0, 0.05)],
)
def test_the_mask_is_cleanlabs(seed: int, n: int, k: int, sharp: float, noise: float) -> None:
    labels, probs = _table(np.random.default_rng(seed), n, k, sharp=sharp, noise=noise)
    expected = _cleanlab(labels, probs)
    assert expected.sum() > 0  # the comparison is about rows actually flagged
    np.testing.assert_array_equal(confident.label_issues(labels, probs), expected)


def test_ties_tiny_classes_and_float64_follow_cleanlab() -> None:
    rng = np.random.default_rng(5)
    labels, probs = _table(rng, 4500, 12, sharp=2.0, noise=0.25)
    # coarse probabilities: many exact ties, in the confident classes and in each class's ranking
    probs = np.round(probs * 8) / 8 + 1e-3
    probs = probs / probs.sum(axis=1, keepdims=True)
    labels[np.flatnonzero(labels == 11)[1:]] = 10  # class 11 keeps a single row
    for table in (probs.astype(np.float32), probs.astype(np.float64)):
        np.testing.assert_array_equal(confident.label_issues(labels, table), _cleanlab(labels, table))


def test_the_joint_counts_every_row_once_and_matches_the_given_labels() -> None:
    labels, probs = _table(np.random.default_rng(9), 3000, 5, sharp=2.5, noise=0.2)
    joint = confident.confident_joint(labels, probs)
    from cleanlab.count import compute_confident_joint

    np.testing.assert_array_equal(joint, compute_confident_joint(labels, probs))
    np.testing.assert_array_equal(joint.sum(axis=1), np.bincount(labels))


def _edges() -> tuple[np.ndarray, np.ndarray]:
    """A table on cleanlab's edges: a class none of whose rows is confidently its own (the joint's
    diagonal is clipped up to one), and rows within the 1e-6 margin below a class's threshold."""
    labels = np.repeat(np.arange(4), 6)
    probs = np.full((24, 4), 0.1)
    probs[np.arange(24), labels] = 0.7  # every class's threshold is 0.7, but class 2's and class 3's
    # class 2's rows all read as class 0: confident for both classes, so the likelier (0) is counted
    probs[labels == 2] = [0.7, 0.1, 0.1, 0.1]
    # three rows of class 3 hold class 1 at its threshold less 5e-7: confident only within the margin
    probs[np.flatnonzero(labels == 3)[:3]] = [0.1, 0.7 - 5e-7, 0.0, 0.2 + 5e-7]
    return labels, probs


def test_the_margin_and_an_empty_diagonal_follow_cleanlab() -> None:
    from cleanlab.count import compute_confident_joint

    labels, probs = _edges()
    joint = confident.confident_joint(labels, probs)
    np.testing.assert_array_equal(joint, compute_confident_joint(labels, probs))
    expected = _cleanlab(labels, probs)
    assert expected.any()
    np.testing.assert_array_equal(confident.label_issues(labels, probs), expected)
