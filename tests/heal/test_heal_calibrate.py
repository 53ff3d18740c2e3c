"""Calibration helpers: fences follow the data, scores keep order, 0.5 sits on the fence."""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.engine.calibrate import (
    bh_cut,
    ecdf_percent,
    fence_scores,
    logistic_score,
    pvalue_scores,
    robust_location_scale,
    tail_pvalues,
)
from sanitas.heal.engine.far import clipped_fence, is_conversational


@pytest.mark.parametrize(
    ("values", "median", "sigma_positive"),
    [
        ([1.0, 2.0, 3.0, 4.0, 100.0], 3.0, True),
        ([5.0] * 10, 5.0, True),  # constant data still gets a non-zero scale
        ([], 0.0, True),
    ],
)
def test_robust_location_scale(values: list[float], median: float, sigma_positive: bool) -> None:
    med, sigma = robust_location_scale(np.array(values))
    assert med == pytest.approx(median)
    assert (sigma > 0) is sigma_positive


@pytest.mark.parametrize(("value", "above_half"), [(2.0, True), (0.0, False), (1.0, None)])
def test_logistic_score_is_half_at_centre(value: float, above_half: bool | None) -> None:
    s = float(logistic_score(np.array([value]), centre=1.0, width=0.5)[0])
    if above_half is None:
        assert s == pytest.approx(0.5)
    else:
        assert (s > 0.5) is above_half


def test_fence_scores_flag_only_the_tail() -> None:
    rng = np.random.default_rng(0)
    bulk = rng.normal(0.2, 0.05, size=1000)
    values = np.concatenate([bulk, [0.9, 0.95, 1.0]])
    scores, fence = fence_scores(values, k=4.0)
    assert fence < 0.9
    assert (scores[-3:] > 0.5).all()
    assert (scores[:-3] > 0.5).mean() < 0.01


@pytest.mark.parametrize("contamination", [0.0, 0.05, 0.2])
def test_clipped_fence_ignores_contamination(contamination: float) -> None:
    rng = np.random.default_rng(1)
    n = 2000
    bulk = rng.normal(0.2, 0.05, size=int(n * (1 - contamination)))
    far = rng.normal(0.8, 0.05, size=n - len(bulk))
    _, _, fence = clipped_fence(np.concatenate([bulk, far]), k=3.5)
    # the fence describes the bulk whatever the share of far points
    assert 0.3 < fence < 0.5


def test_ecdf_percent_ranks_and_ties() -> None:
    pct = ecdf_percent(np.array([3.0, 1.0, 2.0, 2.0]))
    assert pct[1] == 0.0 and pct[0] == 100.0
    assert pct[2] == pct[3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how do i top up my card", True),
        ("please create an alarm for 7am", True),
        ("Is there a fee?", True),
        ("the state legislature originally chose the senators", False),
        ("in 1936 lockheed took over vega aircraft", False),
        ("", False),
    ],
)
def test_is_conversational(text: str, expected: bool) -> None:
    assert is_conversational(text) is expected


def _null(n: int = 2000, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.3, 0.05, size=n)


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        (0.20, 0.9, 1.0),  # well inside the bulk
        (0.30, 0.4, 0.6),  # at the median
        (0.40, 1e-3, 0.05),  # two sigma out, in the fitted tail
        (0.80, 0.0, 1e-6),  # far past every null point: below the conformal floor 1/(n0 + 1)
    ],
)
def test_tail_pvalues_locate_values_against_the_null(value: float, low: float, high: float) -> None:
    p = float(tail_pvalues(np.array([value]), _null())[0])
    assert low <= p <= high


def test_tail_pvalues_are_monotone_and_uniform_under_the_null() -> None:
    null = _null()
    grid = np.linspace(0.0, 1.0, 400)
    p = tail_pvalues(grid, null)
    assert (np.diff(p) <= 1e-12).all()
    fresh = _null(seed=3)  # new draws from the same distribution
    share = float((tail_pvalues(fresh, null) <= 0.05).mean())
    assert 0.03 <= share <= 0.07


@pytest.mark.parametrize(
    ("pvalues", "q", "cut"),
    [
        ([0.001, 0.002, 0.5, 0.9], 0.05, 0.002),
        ([0.01] * 20, 0.05, 0.01),  # all equally small: all rejected
        ([0.0, 0.3, 0.6, 0.9], 0.05, 0.0),  # a p-value that underflowed to 0 is still rejected
        ([0.04, 0.5, 0.6, 0.7], 0.05, None),  # 0.04 > 0.05 * 1 / 4: nothing rejected
        ([0.5, 0.9], 0.05, None),
        ([], 0.05, None),
    ],
)
def test_bh_cut(pvalues: list[float], q: float, cut: float | None) -> None:
    got = bh_cut(np.array(pvalues), q=q)
    assert got == (None if cut is None else pytest.approx(cut))


@pytest.mark.parametrize(
    ("p", "cut", "flagged"), [(0.01, 0.01, True), (0.001, 0.01, True), (0.02, 0.01, False)]
)
def test_pvalue_scores_put_half_at_the_cut(p: float, cut: float, flagged: bool) -> None:
    s = float(pvalue_scores(np.array([p]), cut=cut)[0])
    assert (s >= 0.5) is flagged
    if p == cut:
        assert s == pytest.approx(0.5)
