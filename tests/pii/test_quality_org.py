"""What an ORG span from the model really is (``org_pieces``): firms, people, places, titles.

Each row gives a text, the span the model tagged ORG, and the (value, kind) piece expected above the
default threshold (0.3) or ``None`` when nothing may be reported above it.
"""

from __future__ import annotations

import pytest

from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.org_shape import everyday_words, org_pieces
from sanitas.pii.recognizers.organization import OrganizationRecognizer

ROWS = [
    # firms: a legal form or an institution word keeps the span an organization
    ("I work for Wolfram Research Inc.", "Wolfram Research Inc.", ("Wolfram Research Inc.", "organization")),
    (
        "Google Public Data Explorer has it",
        "Google Public Data Explorer",
        ("Google Public Data Explorer", "organization"),
    ),
    ("We met at Teradata yesterday", "Teradata", ("Teradata", "organization")),
    ("The Garmin Orchestra was founded in 1971", "The Garmin Orchestra", ("Garmin", "organization")),
    # titles, genres and everyday words are no firm
    ("Genres: Comedy, Mystery & Suspense", "Mystery & Suspense", None),
    ("they were singing about Hobbits, felines", "Hobbits", None),
    ("the film Zoolander was long", "Zoolander", None),
    ("Zoolander is a 2010 Czech action-comedy film", "Zoolander", None),
    ("Capitalized words like Wisdom and Discipline", "Wisdom", None),
    # people the model called organizations
    ("Sometimes people call me Lorencz", "Lorencz", ("Lorencz", "person")),
    ("Louelle lives on 883 Karen Street", "Louelle", ("Louelle", "person")),
    ('"It works," says Dolgorukova.', "Dolgorukova", ("Dolgorukova", "person")),
    ("Tomasz Wiśniewski was there", "Tomasz Wiśniewski", ("Tomasz Wiśniewski", "person")),
    ("the verses from Burhan Engel's Tales", "Burhan Engel", ("Burhan Engel", "person")),
    (
        "including Elijah Figueroa of Allot Ltd., and",
        "Elijah Figueroa of Allot Ltd.",
        ("Allot Ltd.", "organization"),
    ),
    (
        "including Elijah Figueroa of Allot Ltd., and",
        "Elijah Figueroa of Allot Ltd.",
        ("Elijah Figueroa", "person"),
    ),
    ("Numedii says it grew", "Numedii", ("Numedii", "organization")),  # "says" follows, not precedes
    # places inside an institution's name, and streets
    ("I studied at the University of Nicosia.", "the University of Nicosia", ("Nicosia", "location")),
    ("Where: Szczecin Country Club.", "Szczecin Country Club", ("Szczecin", "location")),
    ("we returned to Utrecht by helicopter", "Utrecht", ("Utrecht", "location")),
    ("at the corner of Marsh Wall St. and", "Marsh Wall St.", ("Marsh Wall St.", "street_address")),
    (
        "I wrote to the Bank of Utrecht today",
        "the Bank of Utrecht",
        ("Bank of Utrecht", "organization"),
    ),
]


def _pieces(text: str, value: str) -> set[tuple[str, str]]:
    start = text.index(value)
    out = set()
    for a, b, kind, score in org_pieces(text, start, start + len(value)):
        if kind in ("person", "location") or score >= 0.3:
            out.add((text[a:b], kind))
    return out


@pytest.mark.parametrize(("text", "value", "expected"), ROWS)
def test_org_pieces(text, value, expected):
    found = _pieces(text, value)
    if expected is None:
        assert not found, found
    else:
        assert expected in found, found


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mystery & Suspense", True),
        ("Entertainment Weekly", True),
        ("Kids", True),  # a plural of an English word
        ("Golden Helix", False),  # "Golden" is also a name
        ("Teradata", False),
        ("Utrecht", False),  # a place
        ("Optuminsight", False),
    ],
)
def test_everyday_words(value, expected):
    assert everyday_words(lexicons(), value) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Drama, Comedy & Family films", "Drama, Comedy & Family", False),  # a list of genres
        ("Lopez, Santos and Coleman won", "Lopez, Santos and Coleman", True),  # a firm of surnames
        ("Round Stones Inc. agreed", "Round Stones Inc.", True),  # everyday words with a legal form
    ],
)
def test_organization_pattern(text, value, expected):
    found = {text[e.start : e.end] for e in OrganizationRecognizer().find(text) if e.score >= 0.3}
    assert (value in found) is expected, found


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("I used the Notting Hill ATM", "the Notting Hill", "person"),  # a person takes no article
        ("Civic Insight grew", "Civic Insight", "person"),  # everyday words
        ("Golden Helix grew", "Golden Helix", "person"),
        ("I studied at the University of Nicosia.", "the University of Nicosia", "organization"),
    ],
)
def test_org_pieces_not(text, value, kind):
    assert kind not in {k for _, k in _pieces(text, value)}
