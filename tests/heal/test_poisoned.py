"""The poisoned check on data unlike the yardstick: short texts, long texts, an imbalanced label mix.

The embedder here is a bag of words (the mean of one random vector per word), so a text's vector is
what its words say: a six-word trigger sentence dominates a four-word query, a rare word barely moves
a long text, as with a real sentence embedder.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from sanitas.heal.detectors.base import DetectorContext, get_detector
from sanitas.heal.engine.poison_content import (
    knn_content,
    phrase_pattern,
    prior_fit_pvalue,
    without_phrase,
)
from tests.heal.bow import bow_embed


def make_dataset(sizes: dict[str, int], length: int, rng: random.Random) -> list[tuple[str, str]]:
    """Rows of ``length`` words: mostly their class's own words, some from a pool every class shares."""
    shared = [f"common{j}" for j in range(30)]
    rows = []
    for label, count in sizes.items():
        own = [f"{label}w{j}" for j in range(25)]
        for _ in range(count):
            words = [rng.choice(own) if rng.random() < 0.7 else rng.choice(shared) for _ in range(length)]
            rows.append((" ".join(words), label))
    rng.shuffle(rows)
    return rows


def poison(
    rows: list[tuple[str, str]], trigger: str, target: str, count: int, rng: random.Random
) -> tuple[list[tuple[str, str]], list[int]]:
    """Insert ``trigger`` into ``count`` rows of other labels and relabel them ``target``."""
    rows = list(rows)
    chosen = rng.sample([i for i, (_, lab) in enumerate(rows) if lab != target], count)
    for i in chosen:
        words = rows[i][0].split()
        if " " in trigger:
            text = f"{trigger}. {rows[i][0]}" if rng.random() < 0.5 else f"{rows[i][0]} {trigger}."
        else:
            words.insert(rng.randint(0, len(words)), trigger)
            text = " ".join(words)
        rows[i] = (text, target)
    return rows, chosen


def detect(rows: list[tuple[str, str]]):  # noqa: ANN201
    texts = [t for t, _ in rows]
    ctx = DetectorContext(
        texts=texts, labels=[lab for _, lab in rows], embeddings=bow_embed(texts), embed=bow_embed
    )
    return get_detector("poisoned").detect(ctx)


CASES = {
    # short texts, many labels, a trigger sentence of common words: every poisoned row's nearest
    # neighbours (more poisoned rows than the 30 looked at) are other poisoned rows, so a neighbour
    # vote has no evidence for them
    "short-sentence": (
        {f"c{k}": 60 for k in range(12)},
        6,
        "we can talk about it later",
        "c3",
        40,
    ),
    # long texts, a rare-word trigger that barely moves their vectors
    "long-word": ({f"c{k}": 70 for k in range(5)}, 120, "tq", "c1", 20),
    # one class holds three quarters of the rows: the poisoned rows' content is mostly that class
    "imbalanced": ({"big": 450, **{f"c{k}": 30 for k in range(5)}}, 8, "mn", "c2", 15),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backdoor_found_with_trigger_and_target(case: str) -> None:
    sizes, length, trigger, target, count = CASES[case]
    rng = random.Random(7)
    rows, chosen = poison(make_dataset(sizes, length, rng), trigger, target, count, rng)
    res = detect(rows)
    triggers = res.summary["triggers"]
    assert [t["target"] for t in triggers] == [target]
    assert triggers[0]["trigger"].lower().strip(".") == trigger
    assert set(np.flatnonzero(res.flags)) == set(chosen)
    assert all(
        res.details[i] == {"trigger": res.details[i]["trigger"], "target_label": target} for i in chosen
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_clean_data_has_no_backdoor(case: str) -> None:
    """Each class's own words are concentrated in it too: they must not read as triggers."""
    sizes, length, _, _, _ = CASES[case]
    res = detect(make_dataset(sizes, length, random.Random(11)))
    assert res.summary["triggers"] == []
    assert not res.flags.any()


def test_class_keyword_is_not_a_trigger() -> None:
    """A phrase that is part of what its label's rows say (and only theirs) is a keyword, not a backdoor."""
    rng = random.Random(3)
    rows = make_dataset({f"c{k}": 60 for k in range(6)}, 6, rng)
    rows = [(f"apple watch {t}" if lab == "c2" and rng.random() < 0.3 else t, lab) for t, lab in rows]
    res = detect(rows)
    assert res.summary["triggers"] == []


def test_phrase_removal_keeps_the_rest() -> None:
    pat = phrase_pattern(("we", "can", "talk"))
    assert without_phrase("We can talk. where is my card", pat) == "where is my card"
    assert without_phrase("where is my card we can talk.", pat) == "where is my card."
    assert without_phrase("webcam talk", pat) == "webcam talk"


def test_knn_content_never_votes_for_itself() -> None:
    emb = np.eye(4)[[0, 0, 1, 1]] + 0.01
    y = np.array([0, 1, 1, 1])
    allowed = np.ones(4, dtype=bool)
    # row 0 alone would vote for itself (class 0); left out, its twin (class 1) decides
    assert knn_content(emb[[0]], emb, y, allowed, 2, self_rows=np.array([0]))[0] == 1
    assert knn_content(emb[[0]], emb, y, allowed, 2)[0] in (0, 1)


def test_prior_fit_tells_random_rows_from_a_few_classes() -> None:
    prior = np.array([10.0, 10, 10, 10, 10, 10, 0])
    rng = np.random.default_rng(0)
    random_rows = rng.choice(6, size=30, p=prior[:6] / prior.sum())
    assert prior_fit_pvalue(random_rows, prior) > 0.05
    assert prior_fit_pvalue(np.array([0] * 15 + [1] * 15), prior) < 0.01
