"""US National Provider Identifiers."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register
from sanitas.pii.validators import npi_ok


@register
class NpiRecognizer(KeyedValueRecognizer):
    """US National Provider Identifier: keyed and Luhn-valid (80840 prefix)."""

    needs_digit = True
    name = "npi"
    label = "npi"
    labels = frozenset({"npi"})
    keys = r"npi|national\s?provider(?:\s?identifier)?"
    triggers = ("npi", "provider")
    value_pattern = r"\d{10}"
    score = 0.95

    def validate(self, value: str) -> bool:
        """NPI check digit."""
        return npi_ok(value)
