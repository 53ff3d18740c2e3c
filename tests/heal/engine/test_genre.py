"""The out-of-fold language models that say how much a row reads like the rest of its dataset."""

from __future__ import annotations

import itertools

import numpy as np

from sanitas.heal.engine.genre import (
    CHAR_ORDER,
    WORD_ORDER,
    char_sequences,
    surprise,
    surprise_z,
    word_sequences,
)

# A small dataset of household-chore reminders, written for this test.
_VERBS = ["remind me to", "please remind me to", "don't let me forget to", "can you remind me to"]
_CHORES = ["water the ferns", "take out the recycling", "feed the cat", "defrost the freezer", "call grandma"]
_WHEN = ["tonight", "on sunday", "after lunch", "before work", "at six"]


def _dataset() -> list[str]:
    return [f"{v} {c} {w}" for v, c, w in itertools.product(_VERBS, _CHORES, _WHEN)]


def _char_z(texts: list[str]) -> np.ndarray:
    return surprise_z(surprise(char_sequences(texts), CHAR_ORDER))


def _word_z(texts: list[str]) -> np.ndarray:
    return surprise_z(surprise(word_sequences(texts), WORD_ORDER))


def test_rows_written_otherwise_stand_out_by_characters() -> None:
    base = _dataset()
    odd = [
        "Der Kühlschrank summt seit gestern ununterbrochen.",
        "q7Zp0xWv3LrT9kB2mN8cY4hJ6dF1sG5a",
        '<td align="left">&nbsp;</td>',
    ]
    z = _char_z(base + odd)
    # every odd row reads less like the dataset than any of its own rows
    assert z[len(base) :].min() > z[: len(base)].max()


def test_a_row_is_scored_without_its_own_counts() -> None:
    base = _dataset()
    odd = "xylophone quartz jukebox"
    alone = surprise(char_sequences([*base, odd]), CHAR_ORDER)[-1].mean()
    # a second copy is the only thing that can explain the first one
    twice = surprise(char_sequences([*base, odd, odd]), CHAR_ORDER)
    assert twice[-1].mean() < alone / 2


def test_phrasing_not_topic_drives_the_word_model() -> None:
    base = _dataset()
    new_topic = "remind me to polish the banister tonight"  # unseen chore, the dataset's phrasing
    prose = "the banister was polished by the butler in 1907"  # unseen phrasing
    z = _word_z([*base, new_topic, prose])
    assert z[-1] > z[-2]
    # words the other rows never use are reduced to their shape
    seqs = word_sequences([*base, new_topic])
    assert seqs[-1][:3] == ["remind", "me", "to"] and "<w>" in seqs[-1]


def test_evidence_grows_with_length() -> None:
    bits = [np.full(4, 3.0), np.full(16, 3.0), np.full(40, 1.0), np.full(40, 1.0)]
    z = surprise_z(bits, null=np.array([False, False, True, True]))
    # the same excess surprise per symbol is twice the evidence over four times the symbols
    assert z[1] > z[0] > 0
    assert np.isclose(z[1] / z[0], 2.0)
