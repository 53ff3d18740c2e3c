"""Ages stated with an age phrase ("42 years old", "aged 42", "turned 42")."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register


@register
class AgeRecognizer(PatternRecognizer):
    """The number of an age phrase; a bare number is never an age."""

    needs_digit = True
    name = "age"
    label = "age"
    labels = frozenset({"age"})
    patterns = (
        # "years" alone is a duration ("a customer for 5 years", "smoker x 20 yrs"): an age says "old" or
        # "of age", or is written "y/o", "yo", "y.o." (years old).
        (
            re.compile(
                r"(?i)\b(?P<v>\d{1,3})[\s-]*(?:(?:years?|yrs?)(?:[\s-]*old\b|\s+of\s+age\b)|y/o\b|y\.o\.|yo\b)"
            ),
            0.6,
        ),
        (
            # "aged 42", "turned 42", and "Age: 42" (a form's key)
            re.compile(
                r"(?i)\b(?:(?:aged?|age of|turned|turn|turning|(?:he|she|they) (?:is|was|were))\s+"
                r"|(?<![-\w])age\s*[:=]\s*)(?P<v>\d{1,3})\b"  # not a header's "max-age=60"
            ),
            0.45,
        ),
    )
    context = ("age", "old", "turn", "birthday", "retired")
    context_boost = 0.2

    def validate(self, value: str) -> bool | None:
        """A human age: 0-125."""
        return None if 0 < int(value) <= 125 else False
