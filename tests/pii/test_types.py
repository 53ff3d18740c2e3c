"""The pii_type vocabulary, Presidio aliases and detection-method names."""

from __future__ import annotations

import pytest

from sanitas.pii.types import (
    PII_TYPES,
    UnknownMethodError,
    UnknownPiiTypeError,
    normalize_method,
    normalize_type,
    normalize_types,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("PERSON", "person"),
        ("US_SSN", "ssn"),
        ("IBAN_CODE", "iban"),
        ("DATE_TIME", "date"),
        ("credit_card", "credit_card"),
        ("CREDIT_CARD", "credit_card"),
    ],
)
def test_type_aliases(name, expected):
    assert normalize_type(name) == expected


@pytest.mark.parametrize("name", ["emails", "SOCIAL", "", "Person Name"])
def test_unknown_type_lists_valid_ones(name):
    with pytest.raises(UnknownPiiTypeError) as err:
        normalize_type(name)
    assert isinstance(err.value, ValueError)
    assert all(t in str(err.value) for t in PII_TYPES)


def test_normalize_types_dedupes_and_defaults_to_all():
    assert normalize_types(["EMAIL_ADDRESS", "email", "PERSON"]) == ["email", "person"]
    assert normalize_types(None) == list(PII_TYPES)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pii_m1", "aimon_pii_m1"),
        ("model", "aimon_pii_m1"),
        ("aimon_pii_m1", "aimon_pii_m1"),
        ("heuristics", "heuristics"),
        ("llm+heuristics", "llm+heuristics"),
        ("ALL", "all"),
    ],
)
def test_method_aliases(name, expected):
    assert normalize_method(name) == expected


@pytest.mark.parametrize("name", ["regex", "pii_m2", "llm+model+x"])
def test_unknown_method(name):
    with pytest.raises(UnknownMethodError, match="valid methods"):
        normalize_method(name)
