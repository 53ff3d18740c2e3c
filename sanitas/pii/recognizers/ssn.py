"""US social security numbers."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register
from sanitas.pii.validators import ssn_ok


@register
class SsnRecognizer(PatternRecognizer):
    """AAA-GG-SSSS (dashes, spaces or dots); nine bare digits only next to a context word."""

    needs_digit = True
    name = "ssn"
    label = "ssn"
    labels = frozenset({"ssn"})
    patterns = (
        (re.compile(r"(?<![\d-])\d{3}([- .])\d{2}\1\d{4}(?![\d-])"), 0.75),
        (re.compile(r"(?<![\d-])\d{9}(?![\d-])"), 0.05),
    )
    # Both shapes hold three digits then either two separated groups (dd, dddd) or six more digits.
    hint = re.compile(r"\d\d\d(?:[- .]\d\d[- .]\d\d\d\d|\d{6})")
    context = ("ssn", "social security", "social sec", "ss#", "ss #", "ss no", "tin")

    def validate(self, value: str) -> bool | None:
        """SSA allocation rules (no 000/666/9xx area, 00 group, 0000 serial)."""
        return None if ssn_ok(value) else False
