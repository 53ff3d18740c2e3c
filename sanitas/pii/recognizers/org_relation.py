"""Firms named by how a sentence relates them to people or calls them firms.

"Ilse Varga of Quorblex", "Tomas Reyes from Zentrivo": a full name, then "of" or "from" and a name
that is no place is where the person works. "Quorblex's Ilse Varga": a name owning a person's full name
is their employer. "Zentrivo is a small design agency": a name the sentence calls a company, a bank,
an agency. "according to the Quorblex website": a name that owns a website. Places and phrases of
everyday words are left alone ("Maria from Lisbon", "Ilse Varga of Accounts Payable").
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer, hinted_matches
from sanitas.pii.recognizers.org_shape import everyday_words
from sanitas.pii.registry import register

# A capitalized word; a dot only inside it or closing it ("Corp.", "U.N."), and no word follows one
# that a dot closes: "Quorblex. We" is a sentence break, not a two-word name.
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſ0-9](?:[\w&'’-]|\.(?=\w))*\.?"
_LINK = rf"(?:(?<!\.)[ -](?:{_CAP}|&|and|of|de|the))"
_ORG = rf"[A-ZÀ-ÖØ-ÞĀ-ſ0-9](?:[\w'’-]|\.(?=\w))*\.?{_LINK}{{0,5}}?"
# The name stops at punctuation, a possessive, a line end or a lowercase word.
_END = r"(?=[ \t]*(?:[.,;:!?)\"]|['’]s\b|$|\n|[ \t]+[a-z(]))"
_NAME = r"[A-ZÀ-ÖØ-ÞĀ-ſ][^\W\d_]+(?:[-'’][^\W\d_]+)?"
_FULL = rf"{_NAME}(?: [A-Z]\.)?(?: {_NAME}){{1,2}}"
_OF = re.compile(rf"(?<![\w'’-])(?P<p>{_FULL}) (?:of|from) (?P<v>{_ORG}){_END}")
_OWNER = re.compile(rf"(?<![\w'’-])(?P<v>{_ORG})['’]s (?P<p>{_FULL})\b")
_KINDS = (
    r"company|firm|agency|bank|startup|start-up|nonprofit|non-profit|charity|corporation|conglomerate|"
    r"manufacturer|retailer|consultancy|brand|business|organi[sz]ation|brainchild|lender|insurer|"
    r"publisher|studio|label|chain|provider|501\(c\)\(?3\)?"
)
_CALLED = re.compile(
    rf"(?:^|(?<=[.!?,]\s)|(?<=\n))(?P<v>{_ORG}) (?:is|was) (?:a|an|the) (?:[\w-]+ ){{0,3}}?(?:{_KINDS})"
    r"(?![\w-])"
)
_SITE = re.compile(rf"\b(?:the|The) (?P<v>{_ORG}) (?:website|web site|homepage|web page|portal)\b")
# Each pattern with a cheap necessary condition.
_PATTERNS = (
    (_OF, (" of ", " from ")),
    (_OWNER, ("'s ", "’s ")),
    (_CALLED, (" is a", " was a", " is the", " was the")),
    (_SITE, ("website", "web site", "homepage", "web page", "portal")),
)


# How town names are built ("Port Elmsby", "Harrowton", "Lake Verrin"): after "of" or "from" a
# person's name, such a name is where they live, not where they work.
_TOWN_HEAD = frozenset(
    "lake port new north south east west mount fort st saint san santa upper lower".split()
)
_TOWN_TAIL = re.compile(
    r"(?:town|ton|ville|burg|burgh|borough|haven|berg|field|ford|port|mouth|chester|land|side|view|"
    r"wood|dale|bury|stad|heim|holm|by|hamn|minster|worth|stead)$"
)


def _town_shaped(value: str) -> bool:
    """Whether ``value`` is built like a town name."""
    words = value.split()
    return words[0].lower().rstrip(".") in _TOWN_HEAD or bool(_TOWN_TAIL.search(words[-1].lower()))


def _is_person(lex: Lexicons, value: str) -> bool:
    """A given name, alone or followed by other names ("Maria", "Maria Lopez")."""
    words = value.split()
    return lex.is_first_name(words[0]) and all(lex.is_name_token(w) for w in words)


def _firm(lex: Lexicons, value: str) -> bool:
    """Whether ``value`` may name a firm: no place, person or phrase of everyday words."""
    key = value.lower().removeprefix("the ")
    return not (
        len(key) < 2
        or key in lex.cities
        or key in lex.coarse_places
        or everyday_words(lex, value)
        or _is_person(lex, value)
    )


def _person(lex: Lexicons, value: str) -> bool:
    """A full name: a known given name first, or a rare given name and a known family name; no word
    of it an everyday word or a place."""
    words = [w for w in value.split() if len(w.rstrip(".")) > 1]
    if len(words) < 2 or any(w.lower() in lex.coarse_places or lex.is_common_word(w) for w in words):
        return False
    if lex.is_first_name(words[0]):
        return True
    return lex.is_name_token(words[-1]) and not any(lex.is_english_word(w) for w in words)


@register
class OrganizationRelationRecognizer(GazetteerRecognizer):
    """A firm by its relation to a person ("X of Y", "Y's X") or by what the sentence calls it: 0.5."""

    name = "organization_relation"
    labels = frozenset({"organization"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Firms named by relation (see the module docstring)."""
        lex = lexicons()
        out: list[Entity] = []
        for pattern, m in hinted_matches(text, _PATTERNS):
            if "p" in pattern.groupindex and not _person(lex, m.group("p")):
                continue
            if pattern is _OF and _town_shaped(m.group("v")):
                continue
            start, value = m.start("v"), m.group("v").rstrip(".")
            if value.startswith(("The ", "the ")) and pattern is not _CALLED:
                start, value = start + 4, value[4:]
            if _firm(lex, value):
                out.append(Entity(start, start + len(value), "organization", 0.5))
        return out
