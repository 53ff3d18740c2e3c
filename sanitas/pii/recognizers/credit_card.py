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
        """Luhn over 12-19 digits, a payment card's first digit, and a card's grouping where the digits
        are grouped; 12-digit (Maestro) numbers stay unconfirmed without context."""
        ds = digits(value)
        issuer = ds[0] in _CARD_MII or ds.startswith(_JCB_1800)
        if not 12 <= len(ds) <= 19 or not issuer or len(set(ds)) == 1 or not luhn(ds):
            return False
        groups = [len(g) for g in _GAP.split(value)]
        if len(groups) > 1 and not _card_grouping(groups):
            return False
        return True if len(ds) >= 13 else None


# ISO/IEC 7812's major industry identifiers of payment cards: 2 (Mastercard's 2-series), 3 (travel and
# entertainment: Amex, JCB, Diners), 4 and 5 (banking: Visa, Mastercard, Maestro), 6 (Discover,
# UnionPay, Maestro). 1 (airlines), 7 (petroleum), 8 (health, telecoms) and 9 (national) are not cards
# a person pays with, and an order or tracking number that passes Luhn by chance (1 in 10) often
# starts with one of them ("order #112-3344556-7788990"). JCB's 15-digit cards of range 1800 are the
# one issuer range under 2.
_CARD_MII = frozenset("23456")
_JCB_1800 = "1800"
_GAP = re.compile(r"[ -]")


def _card_grouping(groups: list[int]) -> bool:
    """How cards print their digits: fours (the last group shorter or not), Amex's 4-6-5, Diners' 4-6-4."""
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4
