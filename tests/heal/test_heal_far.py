"""Outlier and off-topic calibration on synthetic embeddings whose bulk spreads almost to where
unrelated text lies (the shape of a dataset of short, diverse queries such as CLINC150).

A fixed ``median + 3.5 sigma`` fence lands above every row there; the FDR calibration must still
find the planted rows and leave the clean ones alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.detectors import DetectorContext, get_detector
from sanitas.heal.engine.far import FENCE_Z, chance_confirmation, clipped_fence, far_stats
from sanitas.heal.engine.shared import novelty

PROSE = "the committee met in spring after the vote {i}"
QUESTION = "what is the tallest building in town {i}"


def _unit(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / np.linalg.norm(x, axis=-1, keepdims=True))


def wide_dataset(
    *,
    n_classes: int = 30,
    per_class: int = 40,
    planted: int = 30,
    planted_text: str = PROSE,
    labelled: bool = True,
    spread: tuple[float, float] = (0.4, 0.9),
    seed: int = 0,
) -> tuple[DetectorContext, np.ndarray]:
    """Classes whose members lie anywhere in ``spread`` (cosine) from their centre, plus ``planted``
    random directions with random labels. Returns the context and the planted mask."""
    rng = np.random.default_rng(seed)
    dim = 128
    centres = _unit(rng.normal(size=(n_classes, dim)))
    emb, texts = [], []
    labels: list[str | None] = []
    for k in range(n_classes):
        for i in range(per_class):
            a = rng.uniform(*spread)
            emb.append(a * centres[k] + np.sqrt(1 - a * a) * _unit(rng.normal(size=dim)))
            labels.append(f"c{k}")
            texts.append(f"can you help me with topic {k} case {i}")
    for i in range(planted):
        emb.append(_unit(rng.normal(size=dim)))
        labels.append(f"c{rng.integers(n_classes)}")
        texts.append(planted_text.format(i=i))
    mask = np.zeros(len(texts), dtype=bool)
    mask[len(texts) - planted :] = True
    ctx = DetectorContext(
        texts=texts,
        labels=labels if labelled else [None] * len(labels),
        embeddings=_unit(np.array(emb)).astype(np.float32),
    )
    return ctx, mask


def test_fixed_fence_lands_above_every_row_on_a_wide_bulk() -> None:
    """The failure this calibration replaces: the old fence flags nothing on such data."""
    ctx, _ = wide_dataset()
    dist = novelty(ctx)
    assert clipped_fence(dist, k=FENCE_Z)[2] > dist.max()


@pytest.mark.parametrize(
    ("case", "kwargs", "check", "min_recall"),
    [
        ("prose far from everything", {}, "off_topic", 0.9),
        ("prose far from everything", {}, "outlier", 0.9),
        ("in-genre questions", {"planted_text": QUESTION}, "off_topic", 0.9),
        # Half the far rows have their random label confirmed by chance; the null is trimmed to its
        # robust bulk so they still stand out. (Known limit: with the widest spread the fence of
        # that bulk reaches them, and about half are missed.)
        (
            "two classes: labels confirmed by chance",
            {"n_classes": 2, "per_class": 300, "spread": (0.5, 0.85)},
            "off_topic",
            0.9,
        ),
        ("nothing planted", {"planted": 0}, "off_topic", None),
        ("nothing planted", {"planted": 0}, "outlier", None),
        ("unlabelled prose", {"labelled": False}, "outlier", 0.9),
    ],
)
def test_far_checks_on_a_wide_bulk(case: str, kwargs: dict, check: str, min_recall: float | None) -> None:
    ctx, planted = wide_dataset(**kwargs)
    res = get_detector(check).detect(ctx)
    # clean rows: at most 1% flagged, whatever the case
    assert res.flags[~planted].sum() <= 0.01 * (~planted).sum(), case
    if min_recall is None:
        assert res.flags[planted].sum() == 0, case
    else:
        assert res.flags[planted].mean() >= min_recall, case
    # 0.5 is the flag line of every score
    assert ((res.scores >= 0.5) == res.flags).all(), case


@pytest.mark.parametrize(("n_classes", "per_class", "expected"), [(2, 100, 0.5), (50, 10, 0.02)])
def test_chance_confirmation_is_one_over_effective_classes(
    n_classes: int, per_class: int, expected: float
) -> None:
    labels: list[str | None] = [f"c{k}" for k in range(n_classes) for _ in range(per_class)]
    ctx = DetectorContext(texts=[""] * len(labels), labels=labels, embeddings=np.zeros((len(labels), 4)))
    assert chance_confirmation(ctx) == pytest.approx(expected)


@pytest.mark.parametrize(("labelled", "null"), [(True, "label-confirmed rows"), (False, "robust bulk")])
def test_null_follows_the_labels(labelled: bool, null: str) -> None:
    ctx, planted = wide_dataset(labelled=labelled)
    st = far_stats(ctx)
    assert st.summary()["null"] == null
    # p-values are small for the planted rows and spread over (0, 1] for the clean bulk
    assert np.median(st.pvalue[planted]) < 0.01
    assert np.median(st.pvalue[~planted]) > 0.2


def test_in_genre_far_rows_leave_the_clean_rows_alone() -> None:
    """Far questions in a dataset of questions are the off-topic check's; the outlier check may catch
    them too when the dataset's own word model cannot explain their words (here they share none with
    it), which is neither right nor wrong for its score (an off-topic row is still a row to remove).
    What it must not do is flag the clean rows of the wide bulk."""
    ctx, planted = wide_dataset(planted_text=QUESTION)
    res = get_detector("outlier").detect(ctx)
    assert res.flags[~planted].sum() <= 0.01 * (~planted).sum()
    assert ((res.scores >= 0.5) == res.flags).all()
