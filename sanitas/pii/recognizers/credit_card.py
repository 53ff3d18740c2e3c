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
        """Luhn over 12-19 digits. Confirmed by its digits alone only with an international network's first
        digit; otherwise (12-digit Maestro numbers, national schemes) a card only beside a card word."""
        ds = digits(value)
        if not 12 <= len(ds) <= 19 or ds[0] == "0" or len(set(ds)) == 1 or not luhn(ds):
            return False
        if len(ds) < 13 or ds[0] not in _CARD_MII and not ds.startswith(_JCB_1800):
            return None
        return True


# ISO/IEC 7812's major industry identifiers of the international card networks: 2 (Mastercard's
# 2-series), 3 (Amex, JCB, Diners), 4 and 5 (Visa, Mastercard, Maestro), 6 (Discover, UnionPay,
# Maestro), and JCB's 15-digit range 1800. Other first digits are airline (UATP), national (RuPay,
# Troy, Napas, Humo) or no card at all: an order or tracking number passes Luhn by chance one time in
# ten ("order #112-3344556-7788990"), so those need a card word nearby.
_CARD_MII = frozenset("23456")
_JCB_1800 = "1800"
