"""Calibration helpers: fences follow the data, scores keep order, 0.5 sits on the fence."""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.engine.calibrate import ecdf_percent, fence_scores, logistic_score, robust_location_scale
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
