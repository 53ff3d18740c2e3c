"""Passport numbers."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register


@register
class PassportRecognizer(KeyedValueRecognizer):
    """ "passport number X12345678"."""

    needs_digit = True
    name = "passport_number"
    label = "passport_number"
    labels = frozenset({"passport_number"})
    keys = r"passport"
    triggers = ("passport",)
    value_pattern = r"[A-Z0-9]{6,10}"

    def validate(self, value: str) -> bool:
        """At least five digits."""
        return has_digits(value, 5)
