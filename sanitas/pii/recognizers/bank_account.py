"""Bank account and routing numbers."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register
from sanitas.pii.validators import digits


@register
class BankAccountRecognizer(KeyedValueRecognizer):
    """Keyed account and routing numbers (6-17 digits)."""

    needs_digit = True
    name = "bank_account"
    label = "bank_account"
    labels = frozenset({"bank_account"})
    keys = r"(?:bank\s?)?account|acct|a/c|routing|sort\s?code|aba"
    triggers = ("account", "acct", "a/c", "routing", "sort", "aba")
    value_pattern = r"\d[\d -]{4,20}\d"

    def validate(self, value: str) -> bool:
        """6-17 digits."""
        return 6 <= len(digits(value)) <= 17
