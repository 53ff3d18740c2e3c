"""A regex recognizer with an optional validator and context words, the base of most heuristics."""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer, contains_any

CONTEXT_WINDOW = 48


@functools.lru_cache(maxsize=64)
def context_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """``words`` as whole words (a verb's "-ed"/"-ing" allowed): "cell" is not in "excellent" or
    "cells", "call" not in "recall", "age" not in "page", "tin" not in "getting"."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:ed|ing)?(?![a-z0-9])")


def has_context(text: str, start: int, end: int, words: tuple[str, ...], *, after: int = 16) -> bool:
    """Whether one of ``words`` occurs, as a word, shortly before (or just after) ``text[start:end]``."""
    if not words:
        return False
    before = text[max(0, start - CONTEXT_WINDOW) : start].lower()
    tail = text[end : end + after].lower()
    pattern = context_pattern(words)
    return pattern.search(before) is not None or pattern.search(tail) is not None


class PatternRecognizer(Recognizer):
    """Matches ``patterns`` (each with a base score); a named group ``v`` narrows the span.

    ``validate`` returns True (checksum passed: score lifted), False (reject) or None (no opinion).
    A context word near the match adds ``context_boost``.
    """

    label: ClassVar[str]
    patterns: ClassVar[tuple[tuple[re.Pattern[str], float], ...]]
    context: ClassVar[tuple[str, ...]] = ()
    context_boost: ClassVar[float] = 0.35
    valid_score: ClassVar[float] = 0.95
    # Only a hint at the regex cost: skip the scan when none of these characters occur.
    requires: ClassVar[str] = ""
    # A cheap necessary condition for any pattern to match (one scan instead of one per pattern).
    hint: ClassVar[re.Pattern[str] | None] = None
    # Substrings that satisfy the hint as well (a regex that alternates a literal with another branch
    # is tried at every position; a substring test is not).
    hint_words: ClassVar[tuple[str, ...]] = ()

    def validate(self, value: str) -> bool | None:
        """Checksum or structural check of a matched value; None when the type has none."""
        return None

    def find(self, text: str) -> list[Entity]:
        """Scan ``text`` with every pattern, validating and context-scoring each match."""
        if self.requires and not contains_any(text, self.requires):
            return []
        hint = self.hint
        if hint is not None and hint.search(text) is None and not contains_any(text, self.hint_words):
            return []
        out: list[Entity] = []
        seen: set[tuple[int, int]] = set()
        for pattern, base in self.patterns:
            narrows = "v" in pattern.groupindex
            for m in pattern.finditer(text):
                if narrows and m.group("v") is not None:
                    start, end = m.span("v")
                else:
                    start, end = m.span()
                if (start, end) in seen or end <= start:
                    continue
                verdict = self.validate(text[start:end])
                if verdict is False:
                    continue
                score = max(base, self.valid_score) if verdict else base
                if has_context(text, start, end, self.context):
                    score = min(1.0, score + self.context_boost)
                seen.add((start, end))
                out.append(Entity(start, end, self.label, score))
        return out
