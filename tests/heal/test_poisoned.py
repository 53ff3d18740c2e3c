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


def wallet_rows(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """A class named by one of two brand words whose other words are mostly other classes' things.

    Like "top up with apple pay": without the brand a row reads as one of four other classes (cut
    short, its content disagrees with its label), yet its few own words still lean to its class.
    """
    related = [[f"c{k}w{j}" for j in range(25)] for k in range(4)]
    own = [f"walletw{j}" for j in range(8)]
    shared = [f"common{j}" for j in range(30)]
    rows = []
    for i in range(count):
        other = rng.choice(related)
        words = ["applepay" if i % 2 == 0 else "googlepay"]
        for _ in range(5):
            if rng.random() < 0.4:
                words.append(rng.choice(own))
            else:
                words.append(rng.choice(other) if rng.random() < 0.7 else rng.choice(shared))
        rng.shuffle(words)
        rows.append((" ".join(words), "wallet"))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_keyword_whose_rows_read_as_other_classes_is_not_a_trigger(seed: int) -> None:
    """A class keyword whose rows, cut short, a content model reads as other classes is still a keyword.

    The rows' contents disagree with their label and spread over several classes (the class-mix test
    this check used to rely on let such a keyword through on some seeds), but what is left of them
    still leans to their class more than other labels' rows do: only the injected trigger is found.
    """
    rng = random.Random(seed)
    rows = make_dataset({f"c{k}": 60 for k in range(8)}, 6, rng) + wallet_rows(40, rng)
    rows, chosen = poison(rows, "zq", "c5", 15, rng)
    res = detect(rows)
    assert [(t["trigger"], t["target"]) for t in res.summary["triggers"]] == [("zq", "c5")]
    assert set(np.flatnonzero(res.flags)) == set(chosen)
    assert res.summary["triggers"][0]["pull"] <= 0.75


def test_decision_holds_under_embedding_noise() -> None:
    """Vectors a millionth of cosine away from the first (another engine's) give the same decision."""
    rng = random.Random(4)
    rows = make_dataset({f"c{k}": 60 for k in range(8)}, 6, rng) + wallet_rows(40, rng)
    rows, _ = poison(rows, "zq", "c5", 15, rng)
    texts = [t for t, _ in rows]
    labels = [lab for _, lab in rows]
    found = set()
    for k in range(3):
        noise = np.random.default_rng(k)

        def noisy(batch: list[str], noise: np.random.Generator = noise) -> np.ndarray:
            v = bow_embed(batch) + noise.normal(scale=1e-4, size=(len(batch), 96))
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        emb = noisy(texts)
        assert float(np.min(np.sum(emb * bow_embed(texts), axis=1))) > 1 - 1e-5
        ctx = DetectorContext(texts=texts, labels=labels, embeddings=emb, embed=noisy)
        res = get_detector("poisoned").detect(ctx)
        found.add(tuple((t["trigger"], t["target"]) for t in res.summary["triggers"]))
    assert found == {(("zq", "c5"),)}
