"""The Bayes factor between "taken from other labels" and "read as the target's own rows are"."""

from __future__ import annotations

import numpy as np

from sanitas.heal.engine.poison_bayes import (
    CONCENTRATIONS,
    backdoor_log_bf,
    bf_pvalue,
    concentration,
    reference_distribution,
)

K = 20
UNIFORM = np.full(K, 1.0 / K)


def test_reference_distribution_is_smoothed_and_sums_to_one() -> None:
    q = reference_distribution(np.array([0, 0, 1, -1]), 4)
    assert np.isclose(q.sum(), 1.0)
    assert q[0] > q[1] > q[2] == q[3] > 0  # unseen classes keep some mass; -1 (no verdict) is left out


def test_concentration_is_small_for_focused_own_rows_and_large_for_scattered() -> None:
    focused = np.bincount([3] * 8 + [4] * 2, minlength=K)
    scattered = np.bincount(range(10), minlength=K)
    assert concentration(focused, UNIFORM) < 1.0
    assert concentration(scattered, UNIFORM) >= 100.0
    assert concentration(np.zeros(K), UNIFORM) == CONCENTRATIONS[-1]  # no own rows: H0 as diffuse as it gets


def test_rows_read_as_the_reference_classes_favour_a_backdoor() -> None:
    """Own rows read as their neighbours 3 and 4; the candidate's rows as the large classes 0 and 1."""
    reference = np.array([0] * 60 + [1] * 30 + list(range(2, K)))
    own = np.array([3] * 6 + [4] * 3)
    content = np.array([0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0])
    log_bf = backdoor_log_bf(content, own, reference, K)
    assert log_bf > 8.0
    assert bf_pvalue(log_bf) < 1e-3


def test_rows_read_as_the_own_rows_are_favour_a_keyword() -> None:
    reference = np.array([0] * 60 + [1] * 30 + list(range(2, K)))
    own = np.array([3] * 6 + [4] * 3)
    content = np.array([3, 3, 4, 3, 3, 4, 3, 3, 3, 4])
    log_bf = backdoor_log_bf(content, own, reference, K)
    assert log_bf < 0
    assert bf_pvalue(log_bf) == 1.0


def test_scattered_own_rows_claim_no_backdoor_on_rows_of_many_classes() -> None:
    """A label whose rows without the phrase read as anything: rows of any spread are no evidence."""
    reference = np.arange(K).repeat(5)
    own = np.arange(10)
    content = np.array([11, 12, 13, 14, 15, 16, 17, 18, 19, 11, 12, 13])
    assert backdoor_log_bf(content, own, reference, K) < 2.0
