"""Payment card numbers (13-19 digits, Luhn-checked)."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register
from sanitas.pii.validators import digits, luhn


@register
class CreditCardRecognizer(PatternRecognizer):
    """Digit groups separated by spaces or dashes; only Luhn-valid numbers of 13-19 digits survive."""

    needs_digit = True
    name = "credit_card"
    label = "credit_card"
    labels = frozenset({"credit_card"})
    patterns = ((re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])"), 0.25),)
    # Twelve digits at least, each group joined by at most one space or dash.
    hint = re.compile(r"\d(?:[ -]?\d){11}")
    context = ("card", "visa", "mastercard", "amex", "credit", "debit", "cc", "payment")

    def validate(self, value: str) -> bool | None:
        """Luhn over 12-19 digits; 12-digit (Maestro) numbers stay unconfirmed without context."""
        ds = digits(value)
        if not 12 <= len(ds) <= 19 or ds[0] == "0" or len(set(ds)) == 1 or not luhn(ds):
            return False
        return True if len(ds) >= 13 else None
