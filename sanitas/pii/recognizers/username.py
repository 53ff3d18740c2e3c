"""Usernames and handles."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register


@register
class UsernameRecognizer(KeyedValueRecognizer):
    """ "username: jdoe42", "login is jdoe42"; a bare @handle is weak evidence."""

    name = "username"
    label = "username"
    labels = frozenset({"username"})
    keys = r"user\s?name|user\s?id|login|handle|screen\s?name|nickname"
    triggers = ("user", "login", "handle", "screen", "nick")
    value_pattern = r"@?[A-Za-z0-9][\w.-]{2,31}"
    score = 0.75
    bare_hint = re.compile(r"@[A-Za-z]")
    bare_patterns = ((re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{2,14}\b(?!\.\w)"), 0.35),)
