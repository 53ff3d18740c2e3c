"""The Bayes factor between "taken from other labels" and "read as the target's own rows are"."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from sanitas.heal.engine.poison_bayes import (
    _log_dm,
    backdoor_log_bf,
    bf_pvalue,
    h0_parameters,
    reference_distribution,
)

K = 20
# where the factor decides alone in the poisoned check: its tenth of a family-wise 0.01 over 20
# candidates judged, log(1 / (0.1 * 0.0005))
CUT = 9.9


def zipf(k: int) -> np.ndarray:
    q = 1.0 / np.arange(1, k + 1)
    return q / q.sum()


def test_reference_distribution_is_smoothed_and_sums_to_one() -> None:
    q = reference_distribution(np.array([0, 0, 1, -1]), 4)
    assert np.isclose(q.sum(), 1.0)
    assert q[0] > q[1] > q[2] == q[3] > 0  # unseen classes keep some mass; -1 (no verdict) is left out


def test_log_dm_is_the_sequential_predictive() -> None:
    """The closed form equals the product of the Dirichlet-multinomial's one-row-at-a-time predictions."""
    params = np.array([[0.3, 1.2, 0.5], [2.0, 2.0, 2.0]])
    seq = [1, 0, 1, 1, 2]
    for row, closed in zip(params, _log_dm(np.bincount(seq, minlength=3), params), strict=True):
        counts, total, log_p = np.zeros(3), 0.0, 0.0
        for c in seq:
            log_p += np.log((counts[c] + row[c]) / (total + row.sum()))
            counts[c] += 1
            total += 1
        assert np.isclose(closed, log_p)
    assert np.isclose(gammaln(1.0), 0.0)  # the formula's empty-sequence case: log 1


def test_h0_spans_both_base_measures() -> None:
    q = zipf(K)
    params = h0_parameters(q)
    shapes = {tuple(np.round(p / p.sum(), 9)) for p in params}
    assert shapes == {tuple(np.round(q, 9)), tuple(np.round(np.full(K, 1 / K), 9))}


def test_own_row_membership_alone_decides_between_classes_of_equal_reference_mass() -> None:
    """Every class is as common among other labels' rows; the own rows read as class 3 only. Rows read
    as 3 are the label's own kind; rows spread over other classes, as a backdoor's sources are, are not
    (and rows that all read as one other class are no backdoor's either: its sources are spread)."""
    reference = np.arange(K).repeat(10)
    own = np.array([3] * 9)
    assert backdoor_log_bf(np.array([3] * 10), own, reference, K) < 0
    assert backdoor_log_bf(np.arange(5, 15), own, reference, K) > CUT
    assert backdoor_log_bf(np.array([7] * 10), own, reference, K) < 0


def test_rows_read_as_the_reference_classes_favour_a_backdoor() -> None:
    """Own rows read as their small neighbours 15 and 16; the candidate's rows as rows of other labels
    do, mostly the large classes."""
    q = zipf(K)
    rng = np.random.default_rng(0)
    reference = rng.choice(K, 400, p=q)
    own = np.array([15] * 6 + [16] * 3)
    content = rng.choice(K, 40, p=q)
    log_bf = backdoor_log_bf(content, own, reference, K)
    assert log_bf > CUT
    assert bf_pvalue(log_bf) < 1e-3


def test_rows_read_as_the_own_rows_are_favour_a_keyword() -> None:
    reference = np.array([0] * 60 + [1] * 30 + list(range(2, K)))
    own = np.array([3] * 6 + [4] * 3)
    log_bf = backdoor_log_bf(np.array([3, 3, 4, 3, 3, 4, 3, 3, 3, 4]), own, reference, K)
    assert log_bf < 0
    assert bf_pvalue(log_bf) == 1.0


def test_a_diffuse_label_claims_no_backdoor_on_an_imbalanced_dataset() -> None:
    """Own and candidate rows both read as rows of other labels do (a catch-all label and one of its
    words): on imbalanced classes a uniform H0 alone would favour H1 by the classes' sizes."""
    rng = np.random.default_rng(3)
    for k in (7, 77):
        q = zipf(k) if k > 7 else np.array([0.75] + [0.25 / 6] * 6)
        claims = 0
        for _ in range(60):
            reference, own, content = (rng.choice(k, m, p=q) for m in (400, 40, 40))
            claims += backdoor_log_bf(content, own, reference, k) >= CUT
        assert claims <= 1


def test_bf_pvalue_edges() -> None:
    assert bf_pvalue(float("nan")) == 1.0
    assert bf_pvalue(-3.0) == 1.0
    assert np.isclose(bf_pvalue(np.log(100.0)), 0.01)


def test_classes_near_the_target_count_as_its_own_kind() -> None:
    """Own rows read as neighbours 15 and 16. Rows read as other classes near the target (8-14, 17),
    never among the own rows, are the label's kind too once H0 knows which classes are near; rows read
    as far classes (0-7) are still a backdoor's."""
    reference = np.arange(K).repeat(20)
    own = np.array([15] * 5 + [16] * 4)
    near = np.full(K, 0.3)
    near[8:18] = 0.9
    near[19] = 1.0  # the target itself
    neighbours = np.array([8, 9, 10, 11, 12, 13, 14, 17] * 2)
    assert backdoor_log_bf(neighbours, own, reference, K) > CUT  # without knowing what is near
    assert backdoor_log_bf(neighbours, own, reference, K, near=near) < CUT / 2
    far = np.array([0, 1, 2, 3, 4, 5, 6, 7] * 3)
    assert backdoor_log_bf(far, own, reference, K, near=near) > CUT
