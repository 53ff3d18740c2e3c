"""The off-topic check: a coherent foreign topic (its own dense cluster, scattered labels) vs mislabeled rows.

Bag-of-words embeddings (one random vector per word, averaged): rows of a class share its words, the
foreign rows share a vocabulary of their own, so they form a cluster as dense as any class.
"""

from __future__ import annotations

import random

import numpy as np

from sanitas.heal.detectors.base import DetectorContext, get_detector
from sanitas.heal.engine.offtopic_topics import confirmed_distance, neighbourhood_agreement
from tests.heal.bow import bow_embed


def _text(vocab: list[str], rng: random.Random, length: int = 6) -> str:
    return " ".join(rng.choice(vocab) for _ in range(length))


def build(seed: int = 0, foreign: int = 48, flipped: int = 40) -> tuple[list[tuple[str, str]], str]:
    """40 classes of 30 rows, ``flipped`` of them relabeled, plus ``foreign`` rows of another topic.

    Many classes, as in an intent dataset: the foreign rows' random labels rarely coincide.
    """
    rng = random.Random(seed)
    labels = [f"c{k}" for k in range(40)]
    shared = [f"common{j}" for j in range(20)]
    rows, kinds = [], []
    for lab in labels:
        own = [f"{lab}w{j}" for j in range(20)]
        for _ in range(30):
            rows.append((" ".join(rng.choice(own if rng.random() < 0.9 else shared) for _ in range(6)), lab))
            kinds.append("clean")
    for i in rng.sample(range(len(rows)), flipped):
        rows[i] = (rows[i][0], rng.choice([lab for lab in labels if lab != rows[i][1]]))
        kinds[i] = "mislabeled"
    topic = [f"foreign{j}" for j in range(25)]
    for _ in range(foreign):
        rows.append((_text(topic, rng), rng.choice(labels)))
        kinds.append("off_topic")
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], "".join(kinds[i][0] for i in order)


def _ctx(rows: list[tuple[str, str]]) -> DetectorContext:
    texts = [t for t, _ in rows]
    return DetectorContext(
        texts=texts, labels=[lab for _, lab in rows], embeddings=bow_embed(texts), embed=bow_embed
    )


def test_dense_foreign_topic_is_off_topic_and_mislabeled_rows_are_not() -> None:
    rows, kinds = build()
    res = get_detector("off_topic").detect(_ctx(rows))
    kind = np.array(list(kinds))
    off, mis, clean = kind == "o", kind == "m", kind == "c"
    assert res.flags[off].mean() >= 0.7
    assert res.flags[mis].mean() <= 0.1
    assert res.flags[clean].sum() <= 0.02 * clean.sum()
    assert all((res.details[i] or {}).get("off_topic_score", 0) >= 50 for i in np.flatnonzero(res.flags))


def test_no_foreign_topic_flags_almost_nothing() -> None:
    rows, kinds = build(seed=1, foreign=0)
    res = get_detector("off_topic").detect(_ctx(rows))
    assert res.flags.sum() <= 0.02 * len(rows)


def test_neighbourhood_agreement_reads_one_other_label_vs_none() -> None:
    rows, kinds = build(seed=2)
    ctx = _ctx(rows)
    agree = neighbourhood_agreement(ctx)
    kind = np.array(list(kinds))
    # a mislabeled row's neighbours agree on its true class; a foreign row's on nothing
    assert np.median(agree[kind == "m"]) > 0.8
    assert np.median(agree[kind == "o"]) < 0.5


def test_confirmed_distance_never_counts_the_row_itself() -> None:
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    confirmed = np.array([True, False, True])
    d = confirmed_distance(emb, confirmed)
    # row 0's nearest confirmed row other than itself is row 2 (orthogonal); row 1 sits on row 0
    assert np.allclose(d, [1.0, 0.0, 1.0])


def test_found_neighbour_test_reaches_the_rest_of_a_found_cluster() -> None:
    from sanitas.heal.engine.offtopic_topics import found_neighbour_test

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 32))
    # four classes of 60 rows, then a foreign cluster of 40 rows (the last 12 not found yet)
    emb = np.vstack([c + 0.3 * rng.normal(size=(60 if k < 4 else 40, 32)) for k, c in enumerate(centres)])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    n = len(emb)
    foreign = np.arange(n) >= 240
    found = foreign & (np.arange(n) < n - 12)
    tested = (np.arange(n) % 7 == 0) | (foreign & ~found)  # some class rows under test too
    ctx = DetectorContext(texts=[f"t{i}" for i in range(n)], labels=[None] * n, embeddings=emb)
    scores, flags = found_neighbour_test(ctx, found, ~foreign & ~tested, [tested])
    assert flags[foreign & ~found].all()
    assert not flags[~foreign].any() and not flags[found].any()
    assert ((scores >= 0.5) == flags).all()


def test_odd_rows_of_the_dataset_are_not_a_foreign_topic() -> None:
    """Rows mixing three classes' words under a fourth label: far-ish, scattered, but no cluster."""
    rows, kinds = build(seed=3)
    rng = random.Random(3)
    labels = sorted({lab for _, lab in rows})
    for _ in range(20):
        a, b, c, d = rng.sample(labels, 4)
        words = [f"{lab}w{rng.randrange(20)}" for lab in (a, a, b, b, c, c)]
        rows.append((" ".join(words), d))
        kinds += "d"
    res = get_detector("off_topic").detect(_ctx(rows))
    kind = np.array(list(kinds))
    assert res.flags[kind == "o"].mean() >= 0.7
    # the stop-13 code flagged 0.55 of them here: every scattered row was flagged
    assert res.flags[kind == "d"].mean() <= 0.4


def test_form_features_are_standardised_and_clipped() -> None:
    from sanitas.heal.engine.offtopic_form import FORM_CLIP, FORM_WEIGHT, form_features

    # constant over the dataset: no information, zeroed
    assert np.allclose(form_features(["play some jazz"] * 5), 0.0)
    texts = ["play some jazz"] * 300 + ["PLAY SOME JAZZ?"]
    f = form_features(texts)
    # the one row in capitals stands out, but no more than the clip allows
    assert np.isclose(np.abs(f[-1]).max(), FORM_WEIGHT * FORM_CLIP)
    assert np.abs(f[:300]).max() < 0.1 * FORM_WEIGHT


def test_foreign_source_alike_in_topic_is_found_by_its_form() -> None:
    """A foreign source about the dataset's own topics, in another typography, is learnt as a region."""
    from sanitas.heal.engine.offtopic_form import form_features
    from sanitas.heal.engine.offtopic_topics import foreign_topic_probability

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(400, 16))
    texts = ["what is my balance"] * 340 + ["What is my balance?"] * 60
    seed = np.zeros(400, dtype=bool)
    seed[340:380] = True  # found already; the last 20 foreign rows are not
    confirmed = np.arange(400) < 340
    plain = foreign_topic_probability(emb, seed, confirmed)
    form = foreign_topic_probability(emb, seed, confirmed, form_features(texts))
    rest = np.arange(400) >= 380
    # same meaning everywhere: the embedding alone cannot place them, their form can
    assert plain[rest].mean() < 0.5 < form[rest].mean()
    assert form[confirmed].mean() < 0.2
