"""Turn raw detector statistics into [0, 1] scores with thresholds taken from the dataset itself.

Every check measures something on a scale of its own (a distance, a count, a probability). Two ways
of placing the flagging threshold live here. A robust fence (median + k * MAD) where the bulk of the
dataset stops, with a logistic centred on it. And, where part of the dataset is known to belong (an
empirical null), p-values against that null (``tail_pvalues``) with a Benjamini-Hochberg cut at a
false discovery rate (``bh_cut``), which adapts to any shape of distribution. Either way a score of
0.5 means "at the calibrated threshold" and the ordering of rows is preserved.
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


def tail_pvalues(values: np.ndarray, null: np.ndarray, *, tail: float = 0.1) -> np.ndarray:
    """One-sided p-values of ``values`` (large = unusual) against an empirical ``null`` sample.

    Below the null's upper ``tail`` share a value's p-value is conformal, ``(1 + #null >= v) / (n0 + 1)``;
    in the tail it comes from an exponential fitted to the null's excesses over that quantile (peaks
    over threshold), which smooths the few tail points and lets a value far past every null point
    get a p-value far below ``1 / (n0 + 1)`` instead of sharing that floor with values barely past it.
    """
    v = np.asarray(values, dtype=np.float64)
    ns = np.sort(np.asarray(null, dtype=np.float64))
    n0 = ns.size
    if n0 == 0:
        return np.ones_like(v)
    p = (1.0 + n0 - np.searchsorted(ns, v, side="left")) / (n0 + 1.0)
    u = float(np.quantile(ns, 1.0 - tail))
    excess = ns[ns > u] - u
    if excess.size == 0:
        return np.asarray(p)
    beta = max(float(excess.mean()), 1e-12)
    p_tail = (excess.size + 1.0) / (n0 + 1.0) * np.exp(-(v - u) / beta)
    return np.asarray(np.where(v > u, p_tail, p))


def bh_cut(pvalues: np.ndarray, *, q: float) -> float | None:
    """Benjamini-Hochberg: the largest p-value rejected at false discovery rate ``q``, None if none.

    (A cut of exactly 0 is a real cut: p-values far in a fitted tail underflow to 0.)
    """
    p = np.sort(np.asarray(pvalues, dtype=np.float64))
    m = p.size
    ok = np.flatnonzero(p <= q * np.arange(1, m + 1) / max(m, 1))
    return float(p[ok[-1]]) if ok.size else None


def storey_pi0(pvalues: np.ndarray, *, lam: float = 0.5) -> float:
    """Storey's estimate of the share of true nulls among ``pvalues`` (in (0, 1]).

    Null p-values are uniform, so the ones above ``lam`` are about ``(1 - lam)`` of the nulls; signals
    sit near 0. Dividing the BH level by this share (adaptive BH) restores the power that plain BH
    gives away in a family made mostly of signals, while still bounding the false discovery rate.
    The +1 keeps the estimate conservative when few p-values are large.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.size == 0:
        return 1.0
    return float(min(1.0, (np.count_nonzero(p > lam) + 1.0) / ((1.0 - lam) * p.size)))


def pvalue_scores(pvalues: np.ndarray, *, cut: float) -> np.ndarray:
    """Scores in [0, 1] from p-values: 0.5 exactly at ``cut``, towards 1 as p-values shrink below it."""
    c = max(float(cut), 1e-300)
    return np.asarray(1.0 / (1.0 + np.asarray(pvalues, dtype=np.float64) / c))
