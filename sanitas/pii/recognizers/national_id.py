"""National identity numbers (UK NINO and NHS, US ITIN, keyed ids)."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register
from sanitas.pii.validators import nhs_ok

_NHS_SHAPE = re.compile(r"\d{3} \d{3} \d{4}")


@register
class NationalIdRecognizer(KeyedValueRecognizer):
    """UK NINO and NHS numbers (checksum), ITINs and keyed national/tax identity numbers."""

    needs_digit = True
    name = "national_id"
    label = "national_id"
    labels = frozenset({"national_id"})
    keys = r"national\s?(?:id|identity|insurance)|nino|nhs|id\s?card|identity\s?card|tax\s?id|itin|tin|nin"
    triggers = ("national", "nino", "nhs", "id", "itin", "tin", "nin")
    value_pattern = r"[A-Z0-9][A-Z0-9 -]{5,16}[A-Z0-9]"
    # NINO: six digits, optionally spaced in pairs; ITIN: 9dd-dd-dddd; NHS: ddd ddd dddd.
    bare_hint = re.compile(r"\d\d(?: ?\d\d ?\d\d|-\d\d-\d\d\d\d)")
    bare_patterns = (
        (re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"), 0.7),
        (re.compile(r"(?<![\d-])9\d{2}-(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])-\d{4}(?![\d-])"), 0.6),
        (re.compile(r"(?<![\d ])\d{3} \d{3} \d{4}(?![\d ])"), 0.0),
    )

    def validate(self, value: str) -> bool:
        """Enough digits; a bare 3-3-4 group only as a valid NHS number."""
        if _NHS_SHAPE.fullmatch(value):
            return nhs_ok(value)
        return has_digits(value, 5)
