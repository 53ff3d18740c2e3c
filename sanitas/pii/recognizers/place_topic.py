"""Places a sentence is about, not places an errand passes through.

A country named in a request ("send it to Spain", "a transfer from Peru") says little about anyone and
is left to the model's low score. A place the sentence talks about is another matter: after a region
word ("serving Northern Portugal"), as the subject of a clause ("we hear Norway is cutting taxes"),
setting the scene of a sentence ("In Chile, people ..."), named as someone's home city ("his
hometown Tarvisio"), or filling an invitation's place field ("Where: Harrowgate Hall"). Only known
places are taken after the first three cues; a home city or a place field may be any name that does
not open on an everyday word or a given name.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer, hinted_matches
from sanitas.pii.registry import register

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я][\w'’.-]*"
_PLACE = rf"{_CAP}(?: (?:{_CAP}|of|de|del|la|am|an|upon))" + "{0,3}"
_REGION = re.compile(
    rf"\b(?:Southern|Northern|Eastern|Western|Central|South-?[Ee]ast(?:ern)?|North-?[Ee]ast(?:ern)?|"
    rf"South-?[Ww]est(?:ern)?|North-?[Ww]est(?:ern)?|Coastal|Rural|Upstate|Downstate) (?P<v>{_PLACE})"
)
_SUBJECT = re.compile(
    rf"(?<![\w'’-])(?P<v>{_PLACE}) (?:(?:is|was|has|had|will|would|remains|became|leads|led)"
    r" (?!(?:you|your|it|that|this|there|he|she|they|we|i)\b)|(?:leader|leaders|government|president|"
    r"parliament|authorities|officials)\b)"
)
_SCENE = re.compile(
    rf"(?:^|(?<=[.!?] )|(?<=\n))In (?P<v>{_PLACE})(?=,| (?:they|we|people|there|most|many|you|it|the)\b)"
)
_HOME = re.compile(
    rf"\b(?i:home[ -]?town|home city|native (?:city|town|village)|birthplace|place of birth)"
    rf"(?: (?:of|is|was))?:? (?P<v>{_PLACE})"
)
# A form's or an invitation's place field: "Where: Harrowgate Community Hall", "Venue: Tarvisio".
_FIELD = re.compile(
    r"(?:^|(?<=\n))[ \t>]*(?i:where|venue|meeting place|place of meeting)[ \t]*:[ \t]*"
    r"(?P<v>[^\W\d_][^\n:@/]{1,58}?)[ \t.]*(?=\n|$)"
)
_PATTERNS = (
    (_FIELD, re.compile(r"(?i)(?:where|venue|place)[ \t]*:")),
    (_REGION, re.compile(r"(?:ern|ast|est|al|ral|state) [A-ZÀ-Ö]")),
    (
        _SUBJECT,
        re.compile(
            r" (?:is|was|has|had|will|would|remains|became|leads?|led|leaders?|government|president|"
            r"parliament|authorities|officials) "
        ),
    ),
    (_SCENE, re.compile(r"\bIn [A-ZÀ-Ö]")),
    (_HOME, re.compile(r"(?i)home|native|birth")),
)


def _known(lex: Lexicons, value: str) -> str | None:
    """The longest leading run of ``value``'s words that is a known country, state or settlement; a
    single word must be no given name or everyday word ("Victoria was late", "Mobile is down")."""
    words = value.split()
    for n in range(len(words), 0, -1):
        cand = " ".join(words[:n]).rstrip(".,")
        key = cand.lower()
        if n == 1 and (lex.is_first_name(cand) or lex.is_common_word(cand)):
            return None
        if key in lex.coarse_places or key in lex.cities and not lex.is_english_word(cand):
            return cand
    return None


def _any_place(lex: Lexicons, value: str) -> str | None:
    """``value`` itself unless it reads as everyday words, a given name or someone's ("Ana's")."""
    value = value.rstrip(".,")
    words = value.split()
    first = words[0]
    if (
        lex.is_common_word(first)
        or first.endswith(("'s", "’s"))
        or len(words) == 1
        and lex.is_english_word(first)
        or lex.is_first_name(first)
        and value.lower() not in lex.cities
    ):
        return None
    return value


@register
class PlaceTopicRecognizer(GazetteerRecognizer):
    """A known place after a region word, as a clause's subject or opening a sentence with "In": 0.5;
    any name after "hometown" or "home city" or in a "Where:" field: 0.55."""

    name = "place_topic"
    labels = frozenset({"location"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Places the sentence is about (see the module docstring)."""
        lex = lexicons()
        out: list[Entity] = []
        for pattern, m in hinted_matches(text, _PATTERNS):
            value = m.group("v")
            place = _any_place(lex, value) if pattern in (_HOME, _FIELD) else _known(lex, value)
            if place:
                start = m.start("v")
                score = 0.5 if pattern in (_REGION, _SUBJECT, _SCENE) else 0.55
                out.append(Entity(start, start + len(place), "location", score))
        return out
