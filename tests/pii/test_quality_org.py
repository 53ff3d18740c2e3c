"""Organizations by legal or trade form, and phrases of everyday words that name no firm."""

from __future__ import annotations

import pytest

from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.org_shape import everyday_words
from sanitas.pii.recognizers.organization import OrganizationRecognizer


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
