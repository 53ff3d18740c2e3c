"""Checksums and structural rules, valid and invalid rows for each."""

from __future__ import annotations

import pytest

from sanitas.pii.validators import iban_ok, luhn, nhs_ok, npi_ok, ssn_ok


@pytest.mark.parametrize(
    ("fn", "value", "ok"),
    [
        (luhn, "4111 1111 1111 1111", True),
        (luhn, "4111 1111 1111 1112", False),
        (luhn, "5", False),
        (iban_ok, "GB82 WEST 1234 5698 7654 32", True),
        (iban_ok, "GB82 WEST 1234 5698 7654 33", False),
        (iban_ok, "DE89370400440532013000", True),
        (iban_ok, "DE8937040044053201300", False),  # wrong length for DE
        (iban_ok, "XX89370400440532013000", False),  # unknown country
        (ssn_ok, "123-45-6780", True),
        (ssn_ok, "000-45-6789", False),
        (ssn_ok, "666-45-6789", False),
        (ssn_ok, "912-45-6789", False),
        (ssn_ok, "123-00-6789", False),
        (ssn_ok, "123-45-0000", False),
        (ssn_ok, "111-11-1111", False),
        (nhs_ok, "943 476 5919", True),
        (nhs_ok, "943 476 5918", False),
        (npi_ok, "1234567893", True),
        (npi_ok, "1234567890", False),
        (npi_ok, "3234567893", False),
    ],
)
def test_validators(fn, value, ok):
    assert fn(value) is ok
