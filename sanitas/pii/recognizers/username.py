"""Usernames and handles."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register

# A value shaped like a numeric date ("last login 2023-11-02", "login 02.11.2023") records when, not who:
# the key word "login" also heads timestamps.
_DATE_SHAPE = re.compile(r"\d{4}([.-])\d{1,2}\1\d{1,2}|\d{1,2}([.-])\d{1,2}\2(?:\d{4}|\d{2})")


@register
class UsernameRecognizer(KeyedValueRecognizer):
    """ "username: jdoe42", "login is jdoe42"; a bare @handle is weak evidence."""

    name = "username"
    label = "username"
    labels = frozenset({"username"})
    keys = r"user\s?name|user\s?id|login|handle|screen\s?name|nickname"
    triggers = ("user", "login", "handle", "screen", "nick")
    # not followed by "/": "2023/11/02" is no handle "2023"
    value_pattern = r"@?[A-Za-z0-9][\w.-]{2,31}(?!/)"
    score = 0.75
    words_need_separator = True
    bare_hint = re.compile(r"@[A-Za-z]")
    bare_patterns = ((re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{2,14}\b(?!\.\w)"), 0.35),)

    def validate(self, value: str) -> bool:
        """A handle is not a numeric date."""
        return _DATE_SHAPE.fullmatch(value) is None
