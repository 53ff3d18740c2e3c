"""Capitalized runs made only of known first/last names (Faker's multi-locale gazetteer).

Runs with the model method only: it catches the names spaCy's small model misses ("Gerth had given
Gerth his address"), and its scores stay low for a lone name that could be an ordinary word.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.registry import register

_RUN = re.compile(r"(?<![\w@.])[A-ZÀ-ÖØ-Þ][\w'’-]+(?: (?:[A-Z]\.? )?[A-ZÀ-ÖØ-Þ][\w'’-]+){0,3}(?![\w@])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“>\n]\s*)$")


@register
class NameLexiconRecognizer(Recognizer):
    """Two or more known names in a row: 0.7; one inside a sentence: 0.4; one opening a sentence: 0.25."""

    name = "name_lexicon"
    labels = frozenset({"person", "first_name", "last_name"})
    kind = "model"

    def setup(self) -> None:
        """Build the gazetteer before the first text."""
        lexicons()

    def find(self, text: str) -> list[Entity]:
        """Runs of capitalized known names (initials allowed inside)."""
        lex = lexicons()
        out: list[Entity] = []
        for m in _RUN.finditer(text):
            tokens = [t for t in m.group(0).split() if len(t.rstrip(".")) > 1]
            if not tokens or not all(lex.is_name_token(t) for t in tokens):
                continue
            if (
                any(t.lower() in lex.coarse_places for t in tokens)
                or len(tokens) == 1
                and tokens[0].isupper()
            ):
                # "SWIFT" (a surname too) alone in capitals is an acronym far more often than a name.
                continue
            if len(tokens) >= 2:
                score = 0.7
            elif _SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()]) or m.start() == 0:
                score = 0.25
            else:
                score = 0.4
            out.append(Entity(m.start(), m.end(), "person", score))
        return out
