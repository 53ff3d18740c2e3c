"""Organizations by their legal or trade form ("Acme Holdings Inc.", "Lopez, Santos and Coleman")."""

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
_SPLIT = re.compile(r",? (?:and|&) |, ")


@register
class OrganizationRecognizer(PatternRecognizer):
    """A capitalized name ending in a company form: 0.7; a firm of surnames ("A, B and C",
    "A and Sons"): 0.65."""

    name = "organization"
    label = "organization"
    labels = frozenset({"organization"})
    patterns = (
        (re.compile(rf"\b{_CAP}(?:[ -](?:{_CAP}|and|&|de|the)){{0,3}},? (?:{_FORMS})(?!\w)"), 0.7),
        (re.compile(rf"\b{_CAP}, {_CAP},? (?:and|&) {_CAP}\b"), 0.65),
        (re.compile(rf"\b{_CAP} (?:and|&) Sons\b"), 0.65),
    )
    # Every pattern needs a form word or an "and" / "&" between names. The form alternation alone opens
    # on a literal, which the regex engine skips to at C speed; joined with " (?:and|&) " in one regex
    # it was tried at every position, so the joiners are substrings.
    hint = re.compile(rf"(?:{_FORMS})(?!\w)")
    hint_words = (" and ", " & ")
    context = ("work for", "works for", "worked at", "work at", "employer", "company", "firm", "joined")
    context_boost = 0.15

    def validate(self, value: str) -> bool | None:
        """Not a list of given names ("Sarah, Tanya and Charles" are people, not a firm) nor of everyday
        words ("Comedy, Kids & Family" is a list of genres)."""
        words = [w for w in _SPLIT.split(value) if w]
        lex = lexicons()
        if len(words) >= 2 and all(lex.is_first_name(w) for w in words):
            return False
        if not _FORM_WORD.search(value) and everyday_words(lex, value):
            return False
        return None

    def find(self, text: str) -> list[Entity]:
        """Firms by form, less lists of people ("our founders: Lopez, Santos and Coleman")."""
        return [e for e in super().find(text) if not after_people_cue(text, e.start)]
