"""A regex recognizer with an optional validator and context words, the base of most heuristics."""

from __future__ import annotations

import re
from typing import ClassVar

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer

CONTEXT_WINDOW = 48


def has_context(text: str, start: int, end: int, words: tuple[str, ...], *, after: int = 16) -> bool:
    """Whether one of ``words`` occurs shortly before (or just after) ``text[start:end]``."""
    if not words:
        return False
    before = text[max(0, start - CONTEXT_WINDOW) : start].lower()
    tail = text[end : end + after].lower()
    return any(w in before or w in tail for w in words)


def _has_any(text: str, chars: str) -> bool:
    # A plain loop rather than any() over a generator: it runs for every text and recognizer.
    for c in chars:
        if c in text:
            return True
    return False


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

    def validate(self, value: str) -> bool | None:
        """Checksum or structural check of a matched value; None when the type has none."""
        return None

    def find(self, text: str) -> list[Entity]:
        """Scan ``text`` with every pattern, validating and context-scoring each match."""
        if self.requires and not _has_any(text, self.requires):
            return []
        if self.hint is not None and self.hint.search(text) is None:
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
