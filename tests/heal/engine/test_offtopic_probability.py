"""The foreign-topic probability's FDR test: its null leaves out the rows placed in the foreign region.

Hand-made probabilities, as a classifier would give them on a dataset of few classes: the vouched rows
are mostly the dataset's own (low probabilities), but a share of the foreign rows had their arbitrary
label confirmed by chance and sit among them with high probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

from sanitas.heal.engine.offtopic_topics import foreign_probability_test


def _probabilities(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities, vouched rows, rows placed in the foreign region, the foreign rows under test."""
    rng = np.random.default_rng(seed)
    own = rng.beta(1.0, 40.0, size=3000)  # the dataset's rows: probabilities near 0
    chance = rng.uniform(0.55, 0.95, size=60)  # foreign rows confirmed by chance, found already
    tested_own = rng.beta(1.0, 40.0, size=400)  # unconfirmed rows of the dataset's own
    tested_foreign = rng.uniform(0.2, 0.45, size=40)  # the rest of the foreign topic, less certain
    prob = np.concatenate([own, chance, tested_own, tested_foreign])
    n = len(prob)
    vouched = np.arange(n) < 3060
    foreign = np.arange(n) >= n - 40
    return prob, vouched, prob > 0.5, foreign


def test_rows_placed_in_the_foreign_region_do_not_hide_the_rest_of_their_topic() -> None:
    prob, vouched, topic, foreign = _probabilities()
    family = ~vouched
    scores, flags = foreign_probability_test(prob, vouched & ~topic, [family])
    assert flags[foreign].mean() >= 0.9
    assert flags[family & ~foreign].mean() <= 0.02
    assert ((scores >= 0.5) == flags)[family].all()
    # with the chance-confirmed foreign rows in the null its tail is theirs: most of the topic is missed
    _, fat = foreign_probability_test(prob, vouched, [family])
    assert fat[foreign].mean() < 0.5


def test_nothing_foreign_flags_almost_nothing() -> None:
    rng = np.random.default_rng(1)
    prob = rng.beta(1.0, 40.0, size=2000)
    vouched = np.arange(2000) < 1600
    _, flags = foreign_probability_test(prob, vouched & (prob <= 0.5), [~vouched])
    assert flags.sum() <= 2


def test_rows_outside_every_family_score_zero_and_an_empty_null_flags_nothing() -> None:
    prob, vouched, topic, _ = _probabilities(2)
    scores, flags = foreign_probability_test(prob, vouched & ~topic, [~vouched])
    assert not flags[vouched].any() and (scores[vouched] == 0).all()
    scores, flags = foreign_probability_test(prob, np.zeros(len(prob), dtype=bool), [~vouched])
    assert not flags.any() and not scores.any()


def test_a_large_set_learns_from_a_sample_of_its_confirmed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """From the approximate-search size up, the classifier sees every seed row and a weighted sample of
    the confirmed rows, and gives nearly the probabilities the full fit gives."""
    from sanitas.heal.engine import offtopic_topics as ot

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(9, 24))
    which = np.concatenate([rng.integers(0, 8, 4000), np.full(300, 8)])  # eight classes, one foreign topic
    emb = centres[which] + 0.9 * rng.normal(size=(4300, 24))
    confirmed = which < 8
    confirmed[:200] = False  # unconfirmed rows of the dataset's own
    seed = np.zeros(4300, dtype=bool)
    seed[4000:4150] = True  # half the foreign topic found so far; the other half is unseen
    full = ot.foreign_topic_probability(emb, seed, confirmed)
    monkeypatch.setattr(ot, "ANN_MIN_ROWS", 1000)
    monkeypatch.setattr(ot, "CONFIRMED_SAMPLE", 600)
    sampled = ot.foreign_topic_probability(emb, seed, confirmed)
    assert not np.array_equal(full, sampled)  # the sampled path ran
    unseen, own = np.arange(4150, 4300), np.arange(200)
    assert (sampled[unseen] > 0.5).mean() >= 0.8
    assert abs((sampled[unseen] > 0.5).mean() - (full[unseen] > 0.5).mean()) <= 0.05
    assert (sampled[own] > 0.5).mean() <= 0.02
    assert np.corrcoef(full, sampled)[0, 1] > 0.99
