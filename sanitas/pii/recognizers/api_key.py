"""API keys, tokens and secrets."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register

_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-./+=]{16}")


@register
class ApiKeyRecognizer(KeyedValueRecognizer):
    """Provider-prefixed secrets (OpenAI, AWS, GitHub, Slack, Google, Stripe) and keyed long tokens."""

    name = "api_key"
    label = "api_key"
    labels = frozenset({"api_key"})
    keys = r"api[\s_-]?key|access[\s_-]?key|secret(?:[\s_-]?key)?|token|bearer|auth(?:orization)?"
    triggers = ("key", "secret", "token", "bearer", "auth")
    value_pattern = r"[A-Za-z0-9_\-./+=]{16,128}"
    score = 0.85
    bare_patterns = (
        (re.compile(r"\b(?:sk|pk|rk)-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}\b"), 0.9),
        (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0.95),
        (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), 0.95),
        (re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"), 0.95),
        (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), 0.95),
        (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"), 0.95),
        (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"), 0.9),
    )

    def find(self, text: str) -> list[Entity]:
        """Skip texts without any long token: every key shape is at least 16 characters."""
        if not _LONG_TOKEN.search(text):
            return []
        return super().find(text)

    def validate(self, value: str) -> bool:
        """A secret mixes letters and digits; plain words are not keys."""
        return any(map(str.isdigit, value)) and any(map(str.isalpha, value))
