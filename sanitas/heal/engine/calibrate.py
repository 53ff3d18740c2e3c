"""Turn raw detector statistics into [0, 1] scores with thresholds taken from the dataset itself.

Every check measures something on a scale of its own (a distance, a count, a probability). We place
the flagging threshold where the bulk of the dataset stops — a robust fence (median + k * MAD) — and
map the statistic through a logistic centred on that fence, so a score of 0.5 always means "at the
calibrated threshold" and the ordering of rows is preserved.
"""

from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 1.4826


def robust_location_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD-based standard deviation (never zero)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return 0.0, 1.0
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * MAD_TO_SIGMA
    if mad <= 1e-12:
        mad = float(np.std(v)) or 1e-6
    return med, mad


def upper_fence(values: np.ndarray, *, k: float) -> float:
    """``median + k * sigma`` with a MAD sigma: beyond it a value is unusual for this dataset."""
    med, sigma = robust_location_scale(values)
    return med + k * sigma


def logistic_score(values: np.ndarray, *, centre: float, width: float) -> np.ndarray:
    """Logistic map of ``values``: 0.5 at ``centre``, ``width`` = distance from 0.5 to ~0.73."""
    w = max(float(width), 1e-9)
    z = np.clip((np.asarray(values, dtype=np.float64) - centre) / w, -50.0, 50.0)
    return 1.0 / (1.0 + np.exp(-z))


def fence_scores(
    values: np.ndarray, *, k: float, fit_on: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Scores in [0, 1] with 0.5 at the robust fence of ``fit_on`` (default: ``values``).

    Returns the scores and the fence in the statistic's own units.
    """
    base = values if fit_on is None or len(fit_on) == 0 else fit_on
    med, sigma = robust_location_scale(base)
    fence = med + k * sigma
    return logistic_score(values, centre=fence, width=sigma), fence


def ecdf_percent(values: np.ndarray) -> np.ndarray:
    """Rank of each value in the dataset, 0-100 (ties share the mean rank)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    order = v.argsort(kind="mergesort")
    ranks = np.empty(v.size, dtype=np.float64)
    ranks[order] = np.arange(v.size, dtype=np.float64)
    # average ties so identical statistics get identical percentages
    uniq, inv = np.unique(v, return_inverse=True)
    sums = np.bincount(inv, weights=ranks)
    counts = np.bincount(inv)
    ranks = (sums / counts)[inv]
    return 100.0 * ranks / max(v.size - 1, 1)
