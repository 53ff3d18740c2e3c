"""Employers after a cue: "I work for Quorblex", "spent a year at Pardoe-Lindqvist", "employed by ...";
firms by what they own: "the address of Quorblex is ...", "the Zentrivo office".

A one-word trade name ("Quorblex", "Zentrivo") carries no legal form and spaCy's small model rarely
knows it; the cue says it is an employer. Places are left to the place recognizers.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.recognizers.org_shape import everyday_words
from sanitas.pii.registry import register

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſ0-9][\w&'’.-]*"
_CUE = re.compile(
    r"\b(?:(?:I|we|she|he|they)\s+(?:used\s+to\s+)?(?:work|works|worked|am\s+working|is\s+working)\s+(?:for|at)|"
    r"(?i:the\s+)?address\s+of|"
    r"employed\s+by|employee\s+of|intern(?:ed|ing)?\s+at|job\s+at|joined|spent\s+(?:a|one|two|\d+)\s+"
    r"(?:year|years|months?)\s+at|(?:CEO|CTO|CFO|founder|head|director)\s+of)\s+"
    rf"(?P<v>{_CAP}(?:[ -](?:{_CAP}|&|and|of|de|the)){{0,5}}?)(?=[ \t]*(?:[.,;:!?)'’]|$|\n|\\n|[ \t]+[a-z]))"
)


# "The Quorblex office is at ...", "Zentrivo's headquarters": a name that owns an office is a firm.
_OFFICE = re.compile(
    rf"\b(?:The|the|Our|our)\s+(?P<v>{_CAP}(?:[ -](?:{_CAP}|&|and|of)){{0,4}}?)(?:'s|’s)?\s+"
    r"(?:office|offices|headquarters|HQ|branch|factory|store)\b"
)

# "I work for NATO": an acronym after an employment cue is the employer even when the dictionary
# lists it as a word.
_ACRONYM = re.compile(r"[A-Z]{3,6}")
_OFFICE_HINT = re.compile(r"office|headquarters|HQ|branch|factory|store")


@register
class OrganizationCueRecognizer(GazetteerRecognizer):
    """A capitalized name after an employment or address cue, or owning an office: 0.5 (0 for a place,
    a person or a phrase of everyday words)."""

    name = "organization_cue"
    labels = frozenset({"organization"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Employers named after employment cues."""
        lex = lexicons()
        out: list[Entity] = []
        matches = list(_CUE.finditer(text))
        if _OFFICE_HINT.search(text):
            matches.extend(_OFFICE.finditer(text))
        for m in matches:
            value = m.group("v").rstrip(".")
            key = value.lower().removeprefix("the ")
            words = value.split()
            if (
                key in lex.cities
                or key in lex.coarse_places
                or everyday_words(lex, value)
                and not _ACRONYM.fullmatch(value)
                or all(lex.is_name_token(w) for w in words)
                and lex.is_first_name(words[0])
            ):
                # A place, a phrase of everyday words, or a person ("the address of Maria Lopez").
                continue
            out.append(Entity(m.start("v"), m.start("v") + len(value), "organization", 0.5))
        return out
