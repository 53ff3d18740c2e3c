"""Label support (how many neighbours share a row's label) and the off-topic families built on it."""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.detectors import DetectorContext, get_detector
from sanitas.heal.engine.calibrate import storey_pi0
from sanitas.heal.engine.far import bh_families, far_stats
from sanitas.heal.engine.support import MAX_SUPPORT, label_support, off_topic_families


def _unit(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / np.linalg.norm(x, axis=-1, keepdims=True))


def between_classes(
    *, n_classes: int = 40, per_class: int = 30, planted: int = 40, labelled: bool = True, seed: int = 3
) -> tuple[DetectorContext, np.ndarray]:
    """Classes (cosine 0.6-0.9 to their centre) plus ``planted`` rows between two classes, each with a
    third class's label: no farther from the classes than the loosest clean rows (far-ness alone
    flags none of them), but with a label no neighbour carries."""
    rng = np.random.default_rng(seed)
    dim = 64
    centres = _unit(rng.normal(size=(n_classes, dim)))
    emb, labels, texts = [], [], []
    for k in range(n_classes):
        for i in range(per_class):
            a = rng.uniform(0.6, 0.9)
            emb.append(a * centres[k] + np.sqrt(1 - a * a) * _unit(rng.normal(size=dim)))
            labels.append(f"c{k}")
            texts.append(f"request about topic {k} number {i}")
    for i in range(planted):
        a, b, c = rng.choice(n_classes, size=3, replace=False)
        emb.append(0.8 * _unit(centres[a] + centres[b]) + 0.6 * _unit(rng.normal(size=dim)))
        labels.append(f"c{c}")
        texts.append(f"zork{i} quux{i}")  # words of its own: no TF-IDF neighbours
    mask = np.zeros(len(texts), dtype=bool)
    mask[len(texts) - planted :] = True
    ctx = DetectorContext(
        texts=texts,
        labels=labels if labelled else [None] * len(labels),
        embeddings=_unit(np.array(emb)).astype(np.float32),
    )
    return ctx, mask


@pytest.mark.parametrize(
    ("pvalues", "expected"),
    [
        ([], 1.0),
        (np.linspace(0.001, 1.0, 1000), 1.0),  # all null: uniform
        (np.r_[np.zeros(500), np.linspace(0.001, 1.0, 500)], 0.5),  # half signals near 0
        (np.zeros(100), 0.02),  # all signals: only the +1 keeps it above 0
    ],
)
def test_storey_pi0(pvalues: np.ndarray, expected: float) -> None:
    assert storey_pi0(np.asarray(pvalues)) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("signals", "adaptive_gains"),
    [
        (0, False),  # a family of nulls: adaptive BH flags nothing more (nothing at all)
        (300, True),  # a family rich in signals: adaptive BH reaches the weaker ones
    ],
)
def test_adaptive_bh_gains_power_only_where_signals_are(signals: int, adaptive_gains: bool) -> None:
    rng = np.random.default_rng(0)
    p = np.r_[rng.uniform(0.0, 0.06, signals), rng.uniform(0.0, 1.0, 200)]
    fam = [np.ones(len(p), dtype=bool)]
    _, plain = bh_families(p, fam)
    _, adapt = bh_families(p, fam, adaptive=[True])
    assert (plain <= adapt).all()  # adaptive never drops a row plain BH keeps
    assert bool(adapt.sum() > plain.sum()) is adaptive_gains
    if signals == 0:
        assert adapt.sum() == 0


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # six rows: every other row is an embedding neighbour (k is capped at n - 1); the only TF-IDF
        # terms left ("alpha", "beta"; the numbers are stop words) link each group of three
        (["a", "a", "a", "b", "b", "a"], [5, 5, 5, 2, 2, 3]),
        (["a", "a", None, "b", "b", "b"], [2, 2, -1, 4, 4, 4]),
    ],
)
def test_label_support_counts_neighbours_sharing_the_label(
    labels: list[str | None], expected: list[int]
) -> None:
    emb = _unit(
        np.array([[1, 0.01, 0], [1, 0.02, 0], [1, 0.03, 0], [0, 1, 0.01], [0, 1, 0.02], [0, 1, 0.03]])
    )
    texts = ["alpha one", "alpha two", "alpha three", "beta one", "beta two", "beta three"]
    ctx = DetectorContext(texts=texts, labels=labels, embeddings=emb.astype(np.float32))
    assert label_support(ctx).tolist() == expected


@pytest.mark.parametrize(
    ("labelled", "n_families", "adaptive"),
    [(True, 3, [True, False, False]), (False, 1, [False])],
)
def test_off_topic_families_partition_the_rows(labelled: bool, n_families: int, adaptive: list[bool]) -> None:
    ctx, _ = between_classes(labelled=labelled)
    fams, adapt = off_topic_families(ctx, far_stats(ctx))
    assert len(fams) == n_families and adapt == adaptive
    # every row is tested in exactly one family
    assert (np.sum(fams, axis=0) == 1).all()


def test_unsupported_family_holds_rows_with_a_foreign_label() -> None:
    ctx, planted = between_classes()
    sup = label_support(ctx)
    assert (sup[planted] <= MAX_SUPPORT).mean() >= 0.9
    assert (sup[~planted] <= MAX_SUPPORT).mean() <= 0.01


@pytest.mark.parametrize(("planted", "min_recall"), [(40, 0.9), (0, None)])
def test_off_topic_finds_rows_between_classes(planted: int, min_recall: float | None) -> None:
    ctx, mask = between_classes(planted=planted)
    # far-ness tested in the confirmed / unconfirmed families alone (the former rule) misses them all
    assert far_stats(ctx).flags[mask].sum() == 0
    res = get_detector("off_topic").detect(ctx)
    assert res.flags[~mask].sum() <= 0.01 * (~mask).sum()
    if min_recall is None:
        assert res.flags.sum() == 0
    else:
        assert res.flags[mask].mean() >= min_recall
    assert ((res.scores >= 0.5) == res.flags).all()
