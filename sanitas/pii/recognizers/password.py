"""Passwords."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register


@register
class PasswordRecognizer(KeyedValueRecognizer):
    """The value after "password", "passcode" or "pwd". A card PIN is not a password and no pii_type
    covers it, so "my PIN is 4821" is not reported as one."""

    name = "password"
    label = "password"
    labels = frozenset({"password"})
    keys = r"password|passwd|pass\s?word|passcode|pwd"
    triggers = ("pass", "pwd")
    value_pattern = r"\S{4,64}"
    score = 0.8

    def validate(self, value: str) -> bool:
        """Not an English filler word picked up after the key ("password is not working")."""
        return value.lower() not in {
            "not",
            "incorrect",
            "wrong",
            "reset",
            "expired",
            "invalid",
            "change",
            "changed",
            "still",
            "working",
            "please",
            "again",
            "forgot",
            "correct",
            "does",
            "doesn't",
            "isn't",
            "was",
            "that",
            "this",
            "the",
            "and",
        }
