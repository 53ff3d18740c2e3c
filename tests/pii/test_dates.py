"""Dates in every common shape, and numbers that only look like dates or phones (invented text)."""

from __future__ import annotations

import pytest

from sanitas.pii.engine import PiiEngine


@pytest.fixture(scope="module")
def heuristics():
    engine = PiiEngine(method="heuristics", processes=1)
    engine.setup()
    return engine


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("PT SEEN ON 7/22 FOR F/U", "7/22", True),  # month/day without a year
        ("follow-up booked for 12/03/2025", "12/03/2025", True),
        ("we met on March 3rd at the café", "March 3rd", True),
        ("arrived 3 March, left soon after", "3 March", True),
        ("add 1/2 cup of flour", "1/2", False),  # a fraction
        ("the pump runs 24/7", "24/7", False),  # no month 24
        ("we met on ſep 5, 1990 there", "ſep 5, 1990", True),  # long s: "s" to the patterns' (?i)
    ],
)
def test_date_shapes(heuristics, text, value, expected):
    found = {(text[e.start : e.end], e.label) for e in heuristics.analyze(text)}
    assert ((value, "date") in found) is expected, found


def test_year_range_is_not_a_phone(heuristics):
    text = "I worked at the depot 2019-2021 and again 2022 - 2023."
    assert not [e for e in heuristics.analyze(text) if e.label == "phone_number"]


@pytest.mark.parametrize(
    ("text", "birth", "other"),
    [
        ("PATIENT DOB: 3/14/62 MRN 99321 ADM 7/22 DC 7/25", "3/14/62", ["7/22", "7/25"]),
        ("born 04/11/1957, admitted 12/03/2025 for review", "04/11/1957", ["12/03/2025"]),
        ("Date of birth: March 3, 1990. Seen on June 5, 2019.", "March 3, 1990", ["June 5, 2019"]),
        # a time, a weight or an age between the word and the date leaves the cue in place
        ("Baby girl born at 23:15 on 03/14/2024, home 03/16/2024", "03/14/2024", ["03/16/2024"]),
        ("DOB (age 62): 03/14/1962", "03/14/1962", []),
    ],
)
def test_birth_word_labels_only_the_date_after_it(heuristics, text, birth, other):
    found = {text[e.start : e.end]: e.label for e in heuristics.analyze(text)}
    assert found.get(birth) == "date_of_birth", found
    for value in other:
        assert found.get(value) == "date", found
