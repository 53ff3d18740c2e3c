"""The pull statistics of the poisoned check: how much a text still leans to a class, against others."""

from __future__ import annotations

import numpy as np

from sanitas.heal.engine.poison_content import class_sums, exceedance, pull_exceedance, target_pull


def _clusters(rng: np.random.Generator, k: int, per: int, dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.normal(size=(k, dim))
    emb = np.repeat(centres, per, axis=0) + 0.6 * rng.normal(size=(k * per, dim))
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), np.repeat(np.arange(k), per)


def test_target_pull_leaves_the_row_out_of_its_centroid() -> None:
    rng = np.random.default_rng(0)
    emb, y = _clusters(rng, 4, 10)
    sums, counts = class_sums(emb, y, np.ones(len(y), dtype=bool), 4)
    rows = np.array([3, 15, 27])
    got = target_pull(emb[rows], sums, counts, 1, own_class=y[rows])
    for j, i in enumerate(rows):
        keep = np.arange(len(y)) != i
        cent = np.stack([emb[keep & (y == c)].mean(axis=0) for c in range(4)])
        cos = cent @ emb[i] / np.linalg.norm(cent, axis=1)
        assert abs(got[j] - (cos[1] - np.delete(cos, 1).max())) < 1e-9


def test_exceedance_is_the_mann_whitney_auc() -> None:
    assert exceedance(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert exceedance(np.array([0.0]), np.array([0.0])) == 0.5
    assert exceedance(np.array([]), np.array([1.0])) == 0.5
    assert exceedance(np.array([1.0, 0.0]), np.array([0.5])) == 0.5


def test_rows_of_other_classes_do_not_lean_to_the_target_and_its_own_rows_do() -> None:
    """Other classes' rows (a backdoor's, cut back to what they were) sit near 0.5; the target's near 1."""
    rng = np.random.default_rng(1)
    emb, y = _clusters(rng, 6, 40)
    totals = class_sums(emb, y, y >= 0, 6)
    has = np.zeros(len(y), dtype=bool)
    others = np.flatnonzero(y != 2)[::9]
    own = np.flatnonzero(y == 2)[:15]
    has[others] = True
    assert abs(pull_exceedance(emb, y, has, 2, emb[others], totals) - 0.5) < 0.15
    has[:] = False
    has[own] = True
    assert pull_exceedance(emb, y, has, 2, emb[own], totals) > 0.95
