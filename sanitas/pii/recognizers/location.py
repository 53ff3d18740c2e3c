"""Places introduced by a whereabouts cue ("lives in", "flew to", "I am in ... for a business trip")."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.registry import register

_CUES = (
    "lives in",
    "live in",
    "living in",
    "lived in",
    "moved to",
    "moved here from",
    "based in",
    "located in",
    "i am in",
    "i'm in",
    "grew up in",
    "born in",
    "arrived at",
    "arrived in",
    "flew to",
    "travelling to",
    "traveling to",
    "trip to",
    "relocated to",
    "resident of",
    "originally from",
    "i'm from",
    "i am from",
    "hometown is",
    "address is in",
    "coming to",
    "returned to",
    "back to",
    "moving to",
    "here from",
)
# Cues too common to take any capitalized word after them for a place ("back to Work").
_KNOWN_ONLY = {"coming to", "returned to", "back to", "moving to", "here from"}
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я][\w'’-]{2,}"
_PLACE = re.compile(rf"[ \t]+(?P<v>{_CAP}(?:[ -](?:{_CAP}|(?:de|del|la|le|upon|sur|nad)\b)){{0,3}})")
# Cues that say where someone lives or comes from: even a country is personal there.
_RESIDENCE = {
    "lives in",
    "live in",
    "living in",
    "lived in",
    "moved to",
    "moved here from",
    "grew up in",
    "born in",
    "resident of",
    "originally from",
    "i'm from",
    "i am from",
    "hometown is",
    "relocated to",
}
_NOT_PLACE = {
    "the",
    "a",
    "you",
    "we",
    "they",
    "he",
    "she",
    "it",
    "i",
    "me",
    "us",
    "them",
    "an",
    "my",
    "your",
    "his",
    "her",
    "their",
    "our",
    "this",
    "that",
    "town",
    "city",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "english",
    "order",
    "need",
    "charge",
    "debt",
    "love",
    "trouble",
}


def _score(cue: str, value: str) -> float:
    """0.6 for a place after a whereabouts cue, a country or state included (the score is how likely the
    span is a place, not how much it says about someone); a capitalized word after "back to" or
    "coming to" that is no known place 0."""
    lex = lexicons()
    key = value.lower()
    if cue in _KNOWN_ONLY and key not in lex.cities and key not in lex.coarse_places:
        return 0.0
    return 0.6


# Up to three uncased words after a residence cue, a place only when the gazetteer knows it (not after a
# trip cue: "travelling to japan" says little about who someone is).
_LOWER = re.compile(r"[ \t]+([^\W\d_][\w'’-]+)(?:([ -])([^\W\d_][\w'’-]+))?(?:([ -])([^\W\d_][\w'’-]+))?")


def _lower_place(text: str, pos: int) -> tuple[int, str] | None:
    """Start and text of the longest uncased run after ``pos`` that is a known settlement, country or
    state ("moved here from lisbon", "lives in new york now")."""
    m = _LOWER.match(text, pos)
    if m is None or not text[m.start(1) : m.end()].islower():
        return None
    lex = lexicons()
    ends = [m.end(k) for k in (1, 3, 5) if m.group(k)]
    for end in reversed(ends):
        value = text[m.start(1) : end]
        if value.replace("-", " ") in lex.cities or value in lex.coarse_places:
            return m.start(1), value
    return None


@register
class LocationCueRecognizer(GazetteerRecognizer):
    """A capitalized place right after a whereabouts cue: 0.6; an uncased one ("moved here from lisbon")
    only after a residence cue and when the gazetteer knows it."""

    name = "location_cue"
    labels = frozenset({"location"})

    def find(self, text: str) -> list[Entity]:
        """Places after whereabouts cues, found with str.find then one anchored regex each."""
        lower = text.lower()
        out: list[Entity] = []
        for cue in _CUES:
            i = lower.find(cue)
            while i >= 0:
                if i == 0 or not lower[i - 1].isalnum():
                    m = _PLACE.match(text, i + len(cue))
                    found = (m.start("v"), m.group("v").rstrip(".")) if m is not None else None
                    if found is None and cue in _RESIDENCE:
                        found = _lower_place(text, i + len(cue))
                    if found is not None and found[1].split()[0].lower() not in _NOT_PLACE:
                        start, value = found
                        score = _score(cue, value)
                        if score:
                            out.append(Entity(start, start + len(value), "location", score))
                i = lower.find(cue, i + 1)
        return out
