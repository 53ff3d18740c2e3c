"""Capitalized runs made only of known first/last names (Faker's multi-locale gazetteer).

Runs with the model method only: it catches the names spaCy's small model misses ("Gerth had given
Gerth his address"), and its scores stay low for a lone name that could be an ordinary word.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer, without_next_key
from sanitas.pii.registry import register

_RUN = re.compile(
    r"(?:(?<![\w@.\\])|(?<=\\n))[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+(?: (?:[A-Z]\.? )?[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+){0,3}(?![\w@])"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:\"“>\n]\s*|\\n\W*)$")
# "Maria: Remember me?" - a name as a speaker label.
_SPEAKER = re.compile(r"\s*:")
# "our 3 founders: Kónya, Becker and Vasquez": a list after a plural noun for people names people, even
# when its items are family names, as firms are named ("Lopez, Santos and Coleman").
_PEOPLE_CUE = re.compile(
    r"(?i:\b(?:co-?)?(?:founders|children|kids|sons|daughters|friends|siblings|parents|authors|guests|"
    r"employees|members|owners))(?:[ \t]+(?:are|were))?[ \t]*:[ \t]*$"
)
_ITEM = r"[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+(?: [A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+){0,2}"
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


# Letters of any Latin script ("Stanković", "Żółkiewski"), one capital first, lowercase after it but for
# a capital after a hyphen or apostrophe ("Nowak-Lis", "O'Dare").
_SURNAME_SHAPE = re.compile(r"[^\W\d_a-zß-ÿ][^\W\d_A-ZÀ-ÖØ-Þ]*(?:['’-][^\W\d_][^\W\d_A-ZÀ-ÖØ-Þ]*)?")


# The score of weak gazetteer evidence: under the default threshold, kept by a lower one.
_WEAK = 0.25

# Address unit words that follow a name on an address line ("Vera Lind Suite 4").
_UNIT_WORDS = frozenset(("apt", "apartment", "suite", "unit", "flat", "room"))


def _unknown_surname(lex: Lexicons, token: str) -> bool:
    """A capitalized word shaped like a family name that is no common English word or place."""
    t = token.rstrip(".,")
    return (
        bool(_SURNAME_SHAPE.fullmatch(t))
        and any(c.islower() for c in t)
        and len(t) >= 3
        and not lex.is_common_word(t)
        and not lex.is_place_word(t, cities=False)
        and t.lower() not in _UNIT_WORDS
    )


def _given_then_family(lex: Lexicons, text: str, start: int, run: str) -> Entity | None:
    """A known given name, other known names, then an unknown family-name-shaped word ("Halina
    Zielinska"): 0.25, under the default threshold; the run may open on words that are not names
    ("The Halina Zielinska show", "Producer Halina Zielinska"), which are left out (then known names
    only: 0.6); a rare word and a known family name: 0.5."""
    words = [(w.start(), w.group(0)) for w in re.finditer(r"\S+", run)]
    tokens = [w for _, w in words if len(w.rstrip(".")) > 1]
    if (
        2 <= len(tokens) <= 3
        and lex.is_name_token(tokens[-1])
        and not lex.is_english_word(tokens[-1])
        and all(not lex.is_name_token(t) and _unknown_surname(lex, t) for t in tokens[:-1])
        and not any(lex.is_english_word(t) for t in tokens[:-1])
    ):
        # "Vostrid Halvorsen": a given name too rare for the gazetteer, then a known family name.
        return Entity(start, start + len(run), "person", 0.5)
    for k, (offset, word) in enumerate(words):
        if not lex.is_first_name(word):
            if lex.is_name_token(word) or k >= len(words) - 2:
                return None
            continue
        tokens = [w for _, w in words[k:] if len(w.rstrip(".")) > 1]
        known = [lex.is_name_token(t) for t in tokens]
        if not 2 <= len(tokens) <= 3 or not all(known[:-1]):
            return None
        if (
            known[-1]
            and k
            and not lex.is_english_word(tokens[-1])
            and not any(t.lower() in lex.coarse_places or lex.is_common_word(t) for t in tokens)
        ):
            return Entity(start + offset, start + len(run), "person", 0.6)
        if not known[-1] and _unknown_surname(lex, tokens[-1]):
            # A known given name before a capitalized word nobody lists ("Halina Zielinska", but also
            # "Paw Patrol", "Park Boys", "Boston Children's", "Male Sprague-Dawley"): on wnut17/dev none
            # of the 7 the model did not take was a person. Weak evidence: the model decides (it finds
            # "Halina Zielinska" by itself).
            return Entity(start + offset, start + len(run), "person", _WEAK)
        return None
    return None


@register
class NameLexiconRecognizer(GazetteerRecognizer):
    """Two or more known names in a row: 0.7; a speaker label ("Maria: ..."): 0.6; a known given name and
    an unknown family-name-shaped word, or one name alone: 0.25 (the model decides those)."""

    name = "name_lexicon"
    labels = frozenset({"person", "first_name", "last_name"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Runs of capitalized known names (initials allowed inside)."""
        lex = lexicons()
        out: list[Entity] = people_list(text)
        for m in _RUN.finditer(text):
            run_end = without_next_key(text, m.start(), m.end())
            run = text[m.start() : run_end]
            tokens = [t for t in run.split() if len(t.rstrip(".")) > 1]
            if not tokens:
                continue
            known = [lex.is_name_token(t) for t in tokens]
            if not all(known):
                found = _given_then_family(lex, text, m.start(), run)
                if found is not None:
                    out.append(found)
                continue
            # "Noor K Paris": a given name, an initial and a family name are a person's, even when
            # the family name is also a place.
            initial = len(tokens) < len(run.split()) and lex.is_first_name(tokens[0])
            if (
                any(t.lower() in lex.coarse_places for t in tokens)
                and not initial
                or len(tokens) == 1
                and tokens[0].isupper()
            ):
                # "SWIFT" (a surname too) alone in capitals is an acronym far more often than a name.
                continue
            if len(tokens) >= 2:
                score = 0.7
            elif (
                _SPEAKER.match(text, run_end)
                and _SENTENCE_START.search(text[max(0, m.start() - 4) : m.start()])
                # "Date:", "Status:", "Price:": a dictionary word before a colon is a form's key; a
                # speaker is named by a given name or a word no dictionary holds
                and (lex.is_first_name(tokens[0]) or not lex.is_english_word(tokens[0]))
            ):
                score = 0.6
            elif _SENTENCE_START.search(text[max(0, m.start() - 4) : m.start()]) or m.start() == 0:
                score = 0.25
            elif not lex.is_first_name(tokens[0]) and lex.is_english_word(tokens[0]):
                # A lone family name that is also a dictionary word ("in English", "Forget it") is
                # the word far more often than the name.
                score = 0.25
            else:
                # One known name alone ("French", "Orange", "Miles", "Justice"): on real text the
                # gazetteer's lone names the model did not take were people 10 times in 32 on wnut17/dev
                # and less often on its train split: under the default threshold's estimated precision.
                score = _WEAK
            out.append(Entity(m.start(), run_end, "person", score))
        return out
