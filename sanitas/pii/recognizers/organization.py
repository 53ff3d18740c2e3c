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
# In capitals nothing shows where a firm's name starts ("WE PAID TO VELMAR CORPORATION"): it starts after
# the last closed-class word (pronouns, prepositions, determiners, auxiliaries, conjunctions) but for
# the few that join a name's words ("BANK OF AMERICA", "JOHNSON AND JOHNSON"). In mixed case the capitals
# show it, and a name may hold such words ("We Are Social Ltd", "Can Do Solutions"): only an article or a
# possessive opening the match is cut ("The Shepherd Ltd." is "Shepherd Ltd.").
_OPENERS = frozenset("the a an this that these those my our your his her their its".split())
_CLOSED = frozenset(
    "i we you he she they it me us them my our your his her their its a an the this that these those "
    "to at from in on into onto by with via per about after before since until through over under near "
    "is are was were be been am has have had do does did will would can could should may might must "
    "not no or nor but if then than so as".split()
)
_JOINERS = frozenset(("of", "and", "&", "for", "de"))
_WORDS = re.compile(r"\S+")


_FORM_WORD = re.compile(rf"\b(?:{_FORMS})(?!\w)")


@register
class OrganizationRecognizer(PatternRecognizer):
    """A capitalized name ending in a company form: 0.7; a family firm ("A and Sons"): 0.65."""

    name = "organization"
    label = "organization"
    labels = frozenset({"organization"})
    patterns = (
        # "Smith, Jones & Associates": partners' names may be listed before the form
        (re.compile(rf"\b{_CAP}(?:(?:[ -]|, )(?:{_CAP}|and|&|de|the)){{0,3}},? (?:{_FORMS})(?!\w)"), 0.7),
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
        """Firms by form, without the words before their name (``_name_start``), less names a cue says
        are people ("our founders: Lopez and Santos Partners")."""
        out = []
        for e in super().find(text):
            start = _name_start(text, _after_apposition(text, e.start, e.end), e.end)
            if start is not None and not after_people_cue(text, start):
                out.append(Entity(start, e.end, e.label, e.score))
        return out


_PARTNERS_JOIN = re.compile(r"\s(?:and|&)\s|&")


def _after_apposition(text: str, start: int, end: int) -> int:
    """Where the firm's name starts when words before a comma are not its partners: "Dr. Elena Petrova,
    Mount Sinai Hospital" is a person and her hospital, "Smith, Jones & Associates" one firm. Names listed
    with commas are partners only when a conjunction joins the last of them to the list."""
    forms = list(_FORM_WORD.finditer(text, start, end))
    if not forms:
        return start
    name_end = forms[-1].start()
    comma = text.rfind(", ", start, name_end - 1)
    if comma < 0 or _PARTNERS_JOIN.search(text, comma, name_end):
        return start
    return comma + 2


def _name_start(text: str, start: int, end: int) -> int | None:
    """Where the firm's name in ``text[start:end]`` begins (see ``_CLOSED``; None when only the form
    word is left: "The Bank" names no firm)."""
    words = list(_WORDS.finditer(text, start, end))
    cut = 0
    if text[start:end].isupper():
        for k, w in enumerate(words[:-1]):
            if w.group().lower().rstrip(",") in _CLOSED:
                cut = k + 1
        while cut < len(words) - 1 and words[cut].group().lower().rstrip(",") in _JOINERS:
            cut += 1
    else:
        # a word in capitals is an acronym here ("US Bank"), not a pronoun
        while (
            cut < len(words) - 1
            and not words[cut].group().isupper()
            and words[cut].group().lower() in _OPENERS
        ):
            cut += 1
    if cut >= len(words) - 1:
        return None
    return words[cut].start()
