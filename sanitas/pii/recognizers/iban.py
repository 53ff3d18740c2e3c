"""International bank account numbers (mod 97)."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register
from sanitas.pii.validators import iban_ok


@register
class IbanRecognizer(PatternRecognizer):
    """Country code, check digits, then 11-30 alphanumerics, optionally in groups of four."""

    needs_digit = True
    name = "iban"
    label = "iban"
    labels = frozenset({"iban"})
    patterns = (
        (re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b"), 0.3),
        (re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b"), 0.3),
        # Typed in lowercase ("my iban is de89..."): only the checksum tells it from a random string.
        (re.compile(r"\b[a-z]{2}\d{2}[a-z0-9]{11,30}\b"), 0.0),
    )
    # Every shape: two letters, two digits, then eight or more letters or digits (optionally grouped).
    # It opens on the digit, which the regex engine skips to at C speed; the letters are looked behind.
    hint = re.compile(r"\d(?<=[A-Za-z][A-Za-z]\d)\d(?:[ -]?[A-Za-z0-9]){8}")
    context = ("iban", "account", "bank", "transfer", "wire")

    def validate(self, value: str) -> bool | None:
        """Country length table plus mod 97."""
        return iban_ok(value) or False
