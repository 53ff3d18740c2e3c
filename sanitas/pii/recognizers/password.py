"""Passwords."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register


@register
class PasswordRecognizer(KeyedValueRecognizer):
    """The value after "password", "passcode", "pwd" or "PIN"."""

    name = "password"
    label = "password"
    labels = frozenset({"password"})
    keys = r"password|passwd|pass\s?word|passcode|pwd|pin(?:\s?code)?"
    triggers = ("pass", "pwd", "pin")
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
