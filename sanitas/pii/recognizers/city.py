"""Cities after a place preposition, found in a gazetteer of ~35k settlements from Faker's locales.

spaCy's small model misses towns it never saw and anything in capitals ("in BRIVE-LA-GAILLARDE"); a
gazetteer hit right after "in / to / from / near ..." is a place far more often than not.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.registry import register

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я][\w'’.-]*"
_CANDIDATE = re.compile(
    r"(?i:\b(?:in|to|from|near|around|outside|visit(?:ing|ed)?|toward|towards|via|serving|at|of))\s+"
    rf"(?P<v>{_CAP}(?:[ -](?:{_CAP}|(?:de|del|la|le|nad|am|an|upon|sur|en|di)(?= ))){{0,4}})"
)
_TRIGGERS = (
    " in ",
    " to ",
    " from ",
    " near ",
    "around ",
    "outside ",
    "visit",
    "toward",
    " via ",
    "serving ",
)
_TRIGGERS_AT = (" at ", " of ")


def _place_score(lex: Lexicons, value: str) -> float:
    """0.55 for a known settlement, 0.45 for an unknown single name in capitals that is no acronym."""
    key = value.lower()
    if key in lex.coarse_places or lex.is_common_word(value) or lex.is_first_name(value):
        return 0.0
    if key in lex.cities:
        return 0.55
    letters = value.replace("-", "").replace(" ", "")
    if value.isupper() and letters.isalpha() and " " not in value and (len(letters) >= 6 or "-" in value):
        return 0.45
    return 0.0


@register
class CityRecognizer(GazetteerRecognizer):
    """A known city (or a long name in capitals) after a place preposition: 0.45-0.55."""

    name = "city"
    labels = frozenset({"location"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """The longest run of capitalized words after a preposition that is a known place."""
        lower = text.lower()
        if not any(t in lower for t in _TRIGGERS) and not any(t in lower for t in _TRIGGERS_AT):
            return []
        lex = lexicons()
        # In a text written in capitals, a word in capitals says nothing.
        shouting = not any(map(str.islower, text))
        out: list[Entity] = []
        for m in _CANDIDATE.finditer(text):
            words = m.group("v").rstrip(".,").split(" ")
            start = m.start("v")
            for n in range(len(words), 0, -1):
                value = " ".join(words[:n]).rstrip(".,")
                score = _place_score(lex, value)
                if score and not (shouting and value.isupper() and value.lower() not in lex.cities):
                    out.append(Entity(start, start + len(value), "location", score))
                    break
        return out
