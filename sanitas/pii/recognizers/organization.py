"""Organizations by their legal or trade form ("Acme Holdings Inc.", "Hartley and Sons").

A list of capitalized words ("Lopez, Santos and Coleman") is not taken as one firm: that is the shape of
Faker's firm names, but in text people write it is a list of places, people, products or firms
("Germany, Spain, and France"; "Acme Corp, Globex and Initech"), and on the suite's corpora most of its
matches were people or lists. The entity core reads such names from their context instead.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.name_lexicon import after_people_cue
from sanitas.pii.recognizers.org_shape import everyday_words
from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſ][\w&'’-]*"
_FORMS = (
    # Capitals too: registers and security lists write "ZELTRONIKA CO.LTD.", "VELMAR CORPORATION".
    r"Co\.,? ?Ltd\.?|CO\.,? ?LTD\.?|INC\.?|LTD\.?|CORP\.?|CORPORATION|LIMITED|COMPANY|HOLDINGS|GROUP|"
    r"Inc\.?|Incorporated|LLC|L\.L\.C\.|Ltd\.?|Limited|Group|Corp\.?|Corporation|Company|Co\.|PLC|plc|GmbH|AG|"
    r"S\.A\.|SA|BV|NV|Partners|Associates|Holdings|Technologies|Systems|Solutions|Consulting|Industries|"
    r"International|Agency|Labs|Bank|Insurance|Foundation|University|Institute|Hospital|Clinic"
)


_FORM_WORD = re.compile(rf"\b(?:{_FORMS})(?!\w)")


@register
class OrganizationRecognizer(PatternRecognizer):
    """A capitalized name ending in a company form: 0.7; a family firm ("A and Sons"): 0.65."""

    name = "organization"
    label = "organization"
    labels = frozenset({"organization"})
    patterns = (
        (re.compile(rf"\b{_CAP}(?:[ -](?:{_CAP}|and|&|de|the)){{0,3}},? (?:{_FORMS})(?!\w)"), 0.7),
        (re.compile(rf"\b{_CAP} (?:and|&) Sons\b"), 0.65),
    )
    # Every pattern needs a form word or "Sons". The form alternation alone opens on a literal, which the
    # regex engine skips to at C speed; "Sons" is a substring test.
    hint = re.compile(rf"(?:{_FORMS})(?!\w)")
    hint_words = (" Sons",)
    context = ("work for", "works for", "worked at", "work at", "employer", "company", "firm", "joined")
    context_boost = 0.15

    def validate(self, value: str) -> bool | None:
        """Not everyday words without a company form ("Bread and Sons")."""
        if not _FORM_WORD.search(value) and everyday_words(lexicons(), value):
            return False
        return None

    def find(self, text: str) -> list[Entity]:
        """Firms by form, less names a cue says are people ("our founders: Lopez and Santos Partners")."""
        return [e for e in super().find(text) if not after_people_cue(text, e.start)]
