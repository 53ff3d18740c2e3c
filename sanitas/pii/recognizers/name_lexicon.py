"""Capitalized runs made only of known first/last names (Faker's multi-locale gazetteer).

Runs with the model method only: it catches the names spaCy's small model misses ("Gerth had given
Gerth his address"), and its scores stay low for a lone name that could be an ordinary word.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.registry import register

_RUN = re.compile(
    r"(?:(?<![\w@.\\])|(?<=\\n))[A-ZÀ-ÖØ-Þ][\w'’-]+(?: (?:[A-Z]\.? )?[A-ZÀ-ÖØ-Þ][\w'’-]+){0,3}(?![\w@])"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“>\n]\s*|\\n\W*)$")
# "Maria: Remember me?" - a name as a speaker label.
_SPEAKER = re.compile(r"\s*:")
# "our 3 founders: Kónya, Becker and Vasquez": a list after a plural noun for people names people, even
# when it is shaped like a firm of surnames ("Lopez, Santos and Coleman").
_PEOPLE_CUE = re.compile(
    r"(?i:\b(?:co-?)?(?:founders|children|kids|sons|daughters|friends|siblings|parents|authors|guests|"
    r"employees|members|owners))(?:[ \t]+(?:are|were))?[ \t]*:[ \t]*$"
)
_ITEM = r"[A-ZÀ-ÖØ-Þ][\w'’-]+(?: [A-ZÀ-ÖØ-Þ][\w'’-]+){0,2}"
_PEOPLE_LIST = re.compile(rf"(?P<list>{_ITEM}(?:, {_ITEM})*,? (?:and|&) {_ITEM})")


def after_people_cue(text: str, start: int) -> bool:
    """Whether ``text[start:]`` opens a list introduced by a plural noun for people and a colon."""
    return _PEOPLE_CUE.search(text, max(0, start - 40), start) is not None


def people_list(text: str) -> list[Entity]:
    """Each item of a list of people ("founders: A, B and C") as a person: 0.75, above the place the
    model may see in one item."""
    out: list[Entity] = []
    if ":" not in text:
        return out
    for m in _PEOPLE_LIST.finditer(text):
        if after_people_cue(text, m.start()):
            for item in re.finditer(_ITEM, m.group("list")):
                out.append(Entity(m.start() + item.start(), m.start() + item.end(), "person", 0.75))
    return out


_SURNAME_SHAPE = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]*[a-zß-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?")


def _unknown_surname(lex: Lexicons, token: str) -> bool:
    """A capitalized word shaped like a family name that is no common English word or place."""
    t = token.rstrip(".,")
    return (
        bool(_SURNAME_SHAPE.fullmatch(t))
        and len(t) >= 3
        and not lex.is_common_word(t)
        and t.lower() not in lex.coarse_places
        and t.lower() not in lex.street_words
    )


@register
class NameLexiconRecognizer(GazetteerRecognizer):
    """Two or more known names in a row: 0.7; a speaker label ("Maria: ..."): 0.6; a known given name and
    an unknown family-name-shaped word: 0.55; one name inside a sentence: 0.4; opening a sentence: 0.25."""

    name = "name_lexicon"
    labels = frozenset({"person", "first_name", "last_name"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Runs of capitalized known names (initials allowed inside)."""
        lex = lexicons()
        out: list[Entity] = people_list(text)
        for m in _RUN.finditer(text):
            tokens = [t for t in m.group(0).split() if len(t.rstrip(".")) > 1]
            if not tokens:
                continue
            known = [lex.is_name_token(t) for t in tokens]
            if not all(known):
                # "Halina Zielinska": a known given name, then an unknown family-name-shaped word.
                if 2 <= len(tokens) <= 3 and lex.is_first_name(tokens[0]) and not known[-1]:
                    if all(known[:-1]) and _unknown_surname(lex, tokens[-1]):
                        out.append(Entity(m.start(), m.end(), "person", 0.55))
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
            elif _SPEAKER.match(text, m.end()) and _SENTENCE_START.search(
                text[max(0, m.start() - 4) : m.start()]
            ):
                score = 0.6
            elif _SENTENCE_START.search(text[max(0, m.start() - 4) : m.start()]) or m.start() == 0:
                score = 0.25
            elif not lex.is_first_name(tokens[0]) and lex.is_english_word(tokens[0]):
                # A lone family name that is also a dictionary word ("in English", "Forget it") is
                # the word far more often than the name.
                score = 0.25
            else:
                score = 0.4
            out.append(Entity(m.start(), m.end(), "person", score))
        return out
