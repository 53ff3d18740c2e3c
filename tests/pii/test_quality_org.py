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
        ("We shipped to Germany, Spain, and France", "Germany, Spain, and France", False),  # a list
        ("Bids came from Hale, Moreno and Brandt", "Hale, Moreno and Brandt", False),  # people or firms
        ("Hartley and Sons fixed the roof", "Hartley and Sons", True),  # a family firm's form
        ("Bread and Sons", "Bread and Sons", False),  # everyday words, no company form
        # In capitals the name starts after the last closed-class word; joiners stay inside it.
        ("WE PAID TO VELMAR CORPORATION YESTERDAY", "VELMAR CORPORATION", True),
        ("SHE WORKS FOR BANK OF AMERICA", "WORKS FOR BANK", False),  # "Bank" in capitals is no form
        # In mixed case a name may hold closed-class words; only an opening article is cut.
        ("We Are Social Ltd ran the campaign", "We Are Social Ltd", True),
        ("We hired Can Do Solutions for it", "Can Do Solutions", True),
        ("A deal with The Shepherd Ltd. closed", "Shepherd Ltd.", True),
        ("BILLED BY JOHNSON AND JOHNSON INC", "JOHNSON AND JOHNSON INC", True),
        ("WENT TO THE BANK", "THE BANK", False),  # the form word alone names no firm
        ("WENT TO THE BANK", "BANK", False),
        ("REVIEW OF SYSTEMS: NEGATIVE", "REVIEW OF SYSTEMS", False),  # a note's section
        ("My Bank account is locked", "My Bank", False),
        ("I moved my savings to US Bank", "US Bank", True),  # in mixed case, capitals are an acronym
        ("Round Stones Inc. agreed", "Round Stones Inc.", True),  # everyday words with a legal form
    ],
)
def test_organization_pattern(text, value, expected):
    found = {text[e.start : e.end] for e in OrganizationRecognizer().find(text) if e.score >= 0.3}
    assert (value in found) is expected, found
