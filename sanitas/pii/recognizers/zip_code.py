"""Postal codes: US ZIP (keyed or after a state), UK and Canadian postcodes by shape."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register


@register
class ZipCodeRecognizer(KeyedValueRecognizer):
    """ "ZIP: 02110", "MA 02110", "SW1A 1AA", "B0J 2H0"."""

    needs_digit = True
    name = "zip_code"
    label = "zip_code"
    labels = frozenset({"zip_code"})
    keys = r"zip(?:\s?code)?|postal\s?code|post\s?code|postcode|plz|cap"
    triggers = ("zip", "postal", "post", "plz", "cap")
    value_pattern = r"[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?"
    # A ZIP after a state holds "<capital> <digit>" and four more digits; UK and Canadian postcodes a
    # digit right before a capital.
    bare_hint = re.compile(r"\d(?:[A-Z]|(?<=[A-Z] \d)\d{4})")
    bare_patterns = (
        (re.compile(r"(?<=\b[A-Z]{2} )\d{5}(?:-\d{4})?\b"), 0.55),
        (re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b"), 0.55),
        (re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b"), 0.5),
    )

    def validate(self, value: str) -> bool:
        """Postal codes carry digits."""
        return any(c.isdigit() for c in value)
