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
        (re.compile(r"(?i)\b(?P<v>\d{1,3})[\s-]*(?:years?|yrs?|y/?o)\b(?:[\s-]*old)?"), 0.6),
        (
            re.compile(
                r"(?i)\b(?:aged?|age of|turned|turn|turning|(?:he|she|they) (?:is|was|were))"
                r"\s+(?P<v>\d{1,3})\b"
            ),
            0.45,
        ),
    )
    context = ("age", "old", "turn", "birthday", "retired")
    context_boost = 0.2

    def validate(self, value: str) -> bool | None:
        """A human age: 0-125."""
        return None if 0 < int(value) <= 125 else False
