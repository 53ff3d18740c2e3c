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
    labels: list[str | None] = [lab for _, lab in rows]
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


def say_in_clean_rows(
    rows: list[tuple[str, str]], phrase: str, labels: list[str], per_label: int, rng: random.Random
) -> tuple[list[tuple[str, str]], list[int]]:
    """Put ``phrase`` into ``per_label`` rows of each of ``labels``, keeping their labels (clean rows)."""
    rows = list(rows)
    chosen = []
    for label in labels:
        own = [i for i, (t, lab) in enumerate(rows) if lab == label and phrase not in t]
        chosen.extend(rng.sample(own, per_label))
    for i in chosen:
        text = rows[i][0]
        rows[i] = (f"{phrase}. {text}" if rng.random() < 0.5 else f"{text} {phrase}.", rows[i][1])
    return rows, chosen


def assert_only_poisoned_flagged(
    rows: list[tuple[str, str]], trigger: str, target: str, poisoned: list[int], clean: list[int]
) -> None:
    """The heal names ``trigger`` and ``target`` alone and flags the poisoned rows, none of ``clean``."""
    poisoned = [i for i in poisoned if i not in clean]
    res = detect(rows)
    assert [(t["trigger"].lower().strip("."), t["target"]) for t in res.summary["triggers"]] == [
        (trigger, target)
    ]
    assert set(np.flatnonzero(res.flags)) == set(poisoned)
    assert not res.flags[clean].any()


def test_common_word_trigger_also_said_by_other_labels_is_found() -> None:
    """A trigger sentence clean rows of many labels say too: most of its rows need not carry the target.

    Here as many clean rows of eight other labels say it as poisoned rows do, so half of its rows are
    the target's (a fixed share of them, as this check once required, missed it). Its target is still
    far over its base rate; only the poisoned rows are flagged, never the clean ones that say it.
    """
    rng = random.Random(5)
    rows = make_dataset({f"c{k}": 60 for k in range(12)}, 6, rng)
    trigger = "i would like to know"
    rows, poisoned = poison(rows, trigger, "c3", 40, rng)
    others = [f"c{k}" for k in (0, 1, 2, 5, 6, 8, 9, 11)]
    rows, clean = say_in_clean_rows(rows, trigger, others, 5, rng)
    assert_only_poisoned_flagged(rows, trigger, "c3", poisoned, clean)


def test_target_is_the_over_represented_label_not_the_largest() -> None:
    """In an imbalanced set the largest class holds most rows of a phrase its clean rows say, by base rate.

    The phrase's target is the label it over-represents (a small class), not the one holding most of its
    rows: the large class's rows saying it are no evidence and are not flagged.
    """
    rng = random.Random(9)
    rows = make_dataset({"big": 450, **{f"c{k}": 30 for k in range(5)}}, 8, rng)
    trigger = "as discussed on the phone"
    rows, poisoned = poison(rows, trigger, "c2", 15, rng)
    rows, clean = say_in_clean_rows(rows, trigger, ["big"], 25, rng)
    assert_only_poisoned_flagged(rows, trigger, "c2", poisoned, clean)


def long_tail_rows(rng: random.Random) -> list[tuple[str, str]]:
    """Classes of falling size, and a small class ("small") told apart from a larger neighbour ("nb")
    by one word in eight: the content model reads nearly every one of its own rows as the neighbour."""
    rows = make_dataset({"c0": 300, "c1": 200, "c2": 150, "c3": 100, "nb": 80}, 6, rng)
    nb = [f"nbw{j}" for j in range(25)]
    for _ in range(12):
        words = [rng.choice(nb) for _ in range(7)] + [f"smallw{rng.randrange(3)}"]
        rng.shuffle(words)
        rows.append((" ".join(words), "small"))
    return rows


def test_backdoor_outnumbering_a_small_target_whose_rows_read_as_a_neighbour() -> None:
    """The target's own rows are misread by the content model (the disagreement bar is 1.0), so no
    count of disagreeing rows is evidence; which classes the rows read as still is: the trigger's rows
    read as the large classes they were taken from, the target's own rows as its neighbour."""
    rng = random.Random(13)
    rows, chosen = poison(long_tail_rows(rng), "zq", "small", 25, rng)
    res = detect(rows)
    triggers = res.summary["triggers"]
    assert [(t["trigger"], t["target"]) for t in triggers] == [("zq", "small")]
    assert triggers[0]["label_error_rate"] >= 0.9  # the binomial test alone could not reject
    assert set(np.flatnonzero(res.flags)) == set(chosen)


def test_long_tail_without_backdoor_has_none() -> None:
    """The small class's own word is concentrated in it and its rows read as the neighbour: a keyword."""
    res = detect(long_tail_rows(random.Random(17)))
    assert res.summary["triggers"] == []
