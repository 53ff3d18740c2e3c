"""Isotonic calibration tables."""

from __future__ import annotations

import pytest

from sanitas.pii.calibration import _pav, calibrate, fit_table, load_table, save_table
from sanitas.pii.entities import Entity


@pytest.mark.parametrize(
    ("points", "expected_y"),
    [
        ([(0.1, 0), (0.5, 1), (0.9, 1)], [0.0, 1.0, 1.0]),  # already monotone
        ([(0.1, 1), (0.5, 0), (0.9, 1)], [0.5, 1.0]),  # a violation is pooled
        ([(0.5, 1), (0.5, 0), (0.9, 0)], [1 / 3]),  # ties share one block, then pool
    ],
)
def test_pav_is_monotone(points, expected_y):
    xs, ys = _pav(points)
    assert ys == sorted(ys)
    assert ys == pytest.approx(expected_y)


def test_fit_and_apply_round_trip(tmp_path):
    # person spans scored 0.8 were right only half the time: calibrated down to 0.5
    obs = [("person", 0.8, k % 2 == 0) for k in range(40)] + [("person", 0.3, False) for _ in range(40)]
    obs += [("email", 0.9, True) for _ in range(5)]  # too few: left raw
    table = fit_table(obs, min_count=20)
    assert set(table) == {"person"}
    save_table(table, tmp_path / "t.json")
    loaded = load_table(tmp_path / "t.json")
    assert calibrate(Entity(0, 1, "person", 0.85), loaded).score == pytest.approx(0.5)
    assert calibrate(Entity(0, 1, "person", 0.3), loaded).score == pytest.approx(0.0)
    assert calibrate(Entity(0, 1, "email", 0.9), loaded).score == 0.9
