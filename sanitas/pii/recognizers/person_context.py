"""People found by what surrounds a name rather than by the name itself.

spaCy's small model and the name gazetteer miss rare and foreign names ("Oyelaran", "Tavrik") and a
known name opening a sentence is scored low, since it is as often an ordinary word. The context
settles it: the word is the subject of a verb only people take ("Quillon lives on ...") or follows a
speech verb ("says Oyelaran."), it follows words only said of people ("my son Tavrik", "directed by
...") or owns a relative ("Brisela's daughter") or, for a known name, a phone number or an address
("Marit's address"), it is addressed before a request ("Orvenka, can you ...?"), it labels a speaker in a
dialogue ("Orvena: Are you there?" then "Paul: Yes."), or it is an item in a list of given names
("Jorunn, Peter, Clara and Anna"). Every word is checked against the dictionary, places and months,
so a capitalized ordinary word in the same spot is not taken."""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer, hinted_matches
from sanitas.pii.registry import register

# A capitalized word of two letters or more before any apostrophe or hyphen ("I'm" is no name).
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſ][^\W\d_]+(?:['’-][^\W\d_]+)?"
# Verbs (and verb phrases) whose subject is a person.
_HUMAN_VERB = (
    r"(?:lives|lived|was\s+born|grew\s+up|got\s+married|married|died|shouted|whispered|smiled|laughed|"
    r"cried|replied|wrote\s+(?:to|his|her)|sang|works\s+as|worked\s+as|is\s+the\s+(?:ceo|founder)|"
    r"began\s+(?:writing|singing|working|studying|teaching|painting)|told\s+(?:me|us|him|her)|"
    r"spent\s+(?:a|one|two|three|\d+)\s+(?:years?|months?|weeks?)\s+(?:at|in|with)|graduated|retired)\b"
)
_SUBJECT = re.compile(rf"(?<![\w@.])(?P<v>{_CAP}(?: (?:[A-Z]\.? )?{_CAP}){{0,2}})(?:'s|’s)? {_HUMAN_VERB}")
# "..., says Oyelaran." / "said Tallqvist," / "said Orm to Tallqvist.": a speech verb, then a name
# closing the clause or followed by whom it was said to.
_SPEAKER_AFTER = re.compile(
    rf"\b(?:says|said|asks|asked|replied)\s+(?:(?i:to)\s+)?(?P<v>{_CAP}(?: {_CAP})?)(?=[.,;!?]|$| to\b)"
)
# Words only a person takes just before or after: "my son Tavrik", "directed by Ludovica Fernsby",
# "was called Zolvan Aritzeta", "I'm Daniel's daughter".
_BEFORE = re.compile(
    rf"\b(?i:my\s+(?:kid|son|daughter|wife|husband|mother|father|brother|sister|friend|boss|partner|uncle|"
    rf"aunt|cousin|grandson|granddaughter|grandmother|grandfather)|directed\s+by|starring|written\s+by|"
    rf"produced\s+by|(?:was|is|were)\s+called|named):?\s+(?P<v>{_CAP}(?: (?:[A-Z]\.? )?{_CAP}){{0,2}})"
)
_OWNER = re.compile(
    rf"(?<![\w@.])(?P<v>{_CAP}(?: {_CAP})?)(?:'s|’s)\s+(?:daughter|son|wife|husband|mother|father|kids?|"
    rf"children|parents|brother|sister|birthday|funeral|date\s+of\s+birth|maiden\s+name)\b"
)
# "Marit's address", "Jonas's phone number": firms have those too, so only a known name is taken.
_OWNER_CONTACT = re.compile(
    rf"(?<![\w@.])(?P<v>{_CAP}(?: {_CAP})?)(?:'s|’s)\s+(?:home\s+|e-?mail\s+|postal\s+)?"
    rf"(?:address|phone\s+number|mobile\s+number|cell\s+number)\b"
)
# "Orvenka, can you call me back?": one word opening a sentence, addressed before a question or request.
_VOCATIVE = re.compile(
    rf"(?:^|(?<=[.!?]\s)|(?<=\n))(?P<v>{_CAP}), (?=(?:can|could|would|will|do|did|please|are|have)\b)"
)
# Each pattern with a cheap necessary condition: most texts skip the patterns that open on a capital.
_PATTERNS = (
    (_SUBJECT, re.compile(_HUMAN_VERB)),
    (_SPEAKER_AFTER, re.compile(r"\b(?:says|said|asks|asked|replied)\s")),
    (_BEFORE, re.compile(r"(?i)\b(?:my|by|starring|called|named)\b")),
    (_OWNER, re.compile(r"['’]s\s")),
    (_OWNER_CONTACT, re.compile(r"['’]s\s")),
    (_VOCATIVE, re.compile(r", (?:can|could|would|will|do|did|please|are|have)\b")),
)
# A speaker label opening a line: "Orvena: ...", ">Paul: \"Who is it?\"" (real or escaped breaks).
_LABEL = re.compile(r"(?:^|\n|\\n)[ \t>]*(?P<v>[^\W\d_][\w'’-]+)[ \t]*:(?=[ \t]*\S)")
_ITEM = r"[^\W\d_][\w'’-]+"
_LIST = re.compile(rf"(?<![\w,] )(?P<list>{_ITEM}(?:, {_ITEM}){{1,9}},? (?:and|&) {_ITEM})(?![\w-])")
_SPLIT = re.compile(r",? (?:and|&) |, ")
_CALENDAR = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)


def _unknown_name(lex: Lexicons, word: str) -> bool:
    """A capitalized word that may be a rare name: no English word, place, month or acronym."""
    key = word.lower().strip("'’")
    return (
        not word.isupper()
        and key not in _CALENDAR
        and key not in STOP_WORDS
        and not lex.is_english_word(word)
        and not lex.is_place_word(key)
    )


def _person_words(lex: Lexicons, value: str) -> float:
    """0.6 when the words hold a known name and no place, 0.5 when all may be rare names, else 0."""
    words = [w for w in value.split() if len(w.rstrip(".")) > 1]
    if not words or any(
        w.lower() in lex.coarse_places or w.lower() in _CALENDAR or w.lower() in STOP_WORDS for w in words
    ):
        return 0.0
    if any(lex.is_name_token(w) for w in words) and all(
        lex.is_name_token(w) or _unknown_name(lex, w) for w in words
    ):
        return 0.6
    return 0.5 if all(_unknown_name(lex, w) for w in words) else 0.0


def _speakers(lex: Lexicons, text: str) -> list[Entity]:
    """Speaker labels, when at least two lines of the text open with one (a dialogue)."""
    found = [m for m in _LABEL.finditer(text)]
    if len(found) < 2:
        return []
    out = []
    for m in found:
        word = m.group("v")
        known = lex.is_first_name(word) or lex.is_name_token(word)
        if known or word[0].isupper() and _unknown_name(lex, word):
            out.append(Entity(m.start("v"), m.end("v"), "person", 0.6 if known else 0.5))
    return out


def _lists(lex: Lexicons, text: str) -> list[Entity]:
    """Items of a list of three or more single words, two thirds of them known given names."""
    out: list[Entity] = []
    for m in _LIST.finditer(text):
        body = m.group("list")
        items = [w for w in _SPLIT.split(body) if w]
        if len(items) < 3:
            continue
        known = [lex.is_first_name(w) and w.lower() not in _CALENDAR for w in items]
        if 3 * sum(known) < 2 * len(items):
            continue
        pos = 0
        for word, is_known in zip(items, known, strict=True):
            k = body.index(word, pos)
            pos = k + len(word)
            if is_known or _unknown_name(lex, word):
                start = m.start("list") + k
                out.append(Entity(start, start + len(word), "person", 0.6 if is_known else 0.5))
    return out


@register
class PersonContextRecognizer(GazetteerRecognizer):
    """A name as the subject of a verb people take or after a speech verb: 0.6 with a known name, 0.5
    for a rare word; a dialogue's speaker labels and the items of a list of given names: the same."""

    name = "person_context"
    labels = frozenset({"person", "first_name", "last_name"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """People by their context (see the module docstring)."""
        lex = lexicons()
        out: list[Entity] = []
        for pattern, m in hinted_matches(text, _PATTERNS):
            score = _person_words(lex, m.group("v"))
            if pattern is _VOCATIVE and score < 0.6 and len(m.group("v")) < 5:
                # A short rare word opening a sentence is as often a typo or a brand.
                continue
            if score and (score >= 0.6 or pattern is not _OWNER_CONTACT):
                out.append(Entity(m.start("v"), m.end("v"), "person", score))
        if ":" in text:
            out.extend(_speakers(lex, text))
        if " and " in text or " & " in text:
            out.extend(_lists(lex, text))
        return out
