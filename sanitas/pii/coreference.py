"""Later mentions of a person already found in the same text ("Ilvara Quent wrote ... Ilvara said").

A name seen once as a person is that person wherever it recurs in the text, even where nothing around
the second mention says so ("Tormund" alone opening a sentence, "everyone calls me Tormund"). Only
whole words, written the same way, and neither stop words nor dictionary words, are carried over: a
person named "Will Rose" does not turn every "will" or "rose" into a name.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.ner import trim_span
from sanitas.pii.spacy_data import stop_words

# Scores are scaled down a little: a repeat is as sure as the first mention, minus the chance that the
# same word is something else the second time.
_FACTOR = 0.9
_MIN_LEN = 3


def _with(entities: list[Entity], added: list[Entity]) -> list[Entity]:
    """``entities`` and the ``added`` spans, in text order (``entities`` itself when nothing was added)."""
    return sorted([*entities, *added], key=lambda x: x.start) if added else entities


def _words(value: str) -> set[str]:
    """The name itself and each of its words that could stand alone for the person."""
    lex = lexicons()
    out = {value} if len(value) >= _MIN_LEN else set()
    for word in value.split():
        w = word.strip(".,'’")
        if (
            len(w) >= _MIN_LEN
            and w[:1].isalpha()
            and w.lower() not in stop_words()
            and not lex.is_english_word(w)
            and not lex.is_place_word(w, cities=False)
        ):
            out.add(w)
    return out


def repeat_people(text: str, entities: list[Entity], *, min_score: float = 0.0) -> list[Entity]:
    """``entities`` plus person spans for later (or earlier) uncovered repeats of a found person's name
    or of its distinctive words, scored at least ``min_score``; ``entities`` must not overlap."""
    people = [e for e in entities if e.label == "person" and e.score * _FACTOR >= min_score]
    if not people:
        return entities
    taken = sorted((e.start, e.end) for e in entities)
    added: list[Entity] = []
    for e in people:
        value = text[e.start : e.end]
        # Most names occur once: a count is far cheaper than the gazetteer checks and the regex.
        candidates = [w for w in value.split() if text.count(w.strip(".,'’")) > 1]
        if not candidates:
            continue
        for word in sorted(_words(value), key=len, reverse=True):
            if text.count(word) < 2:
                continue
            for m in re.finditer(rf"(?<![\w@.'’-]){re.escape(word)}(?![\w@-])", text):
                a, b = m.start(), m.end()
                if any(a < y and b > x for x, y in taken):
                    continue
                added.append(Entity(a, b, "person", e.score * _FACTOR))
                taken.append((a, b))
    return _with(entities, added)


# A list of two or more capitalized items: "A, B and C", "A and B" (items of up to four words).
# A dot only inside a word or closing it ("Corp.", "U.N."), and no word after one: "Zentrivo. Also"
# is a sentence break.
_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ſ](?:[\w'’&-]|\.(?=\w))*\.?"
_ITEM = rf"{_WORD}(?:(?<!\.) {_WORD}){{0,3}}"
_LIST = re.compile(rf"(?<![\w'’-])(?:{_ITEM}, )*{_ITEM},? (?:and|&) {_ITEM}(?![\w'’-])")
_SPLIT = re.compile(r",? (?:and|&) |, ")
_SIBLING_LABELS = ("person", "organization")
_LONG_LAST = re.compile(r"[^\W\d_]{5,}\.$")


def _sibling_ok(value: str) -> bool:
    """An item that may share its neighbours' type: no everyday words, places or stop words."""
    lex = lexicons()
    words = value.split()
    return not any(
        w.lower() in stop_words()
        or lex.is_common_word(w)
        or w.lower() in lex.coarse_places
        or w.lower() in lex.cities
        for w in words
    ) and not all(lex.is_english_word(w) for w in words)


def list_siblings(text: str, entities: list[Entity], *, min_score: float = 0.0) -> list[Entity]:
    """``entities`` plus the uncovered items of a list ("Quorblex, Zentrivo Labs and Brindle Corp")
    one of whose items was found as a person or a firm: lists name things of one kind."""
    if " and " not in text and " & " not in text:
        return entities
    found = [e for e in entities if e.label in _SIBLING_LABELS]
    if not found:
        return entities
    added: list[Entity] = []
    for m in _LIST.finditer(text):
        pos, items = m.start(), []
        for part in _SPLIT.split(m.group(0)):
            k = text.index(part, pos)
            pos = k + len(part)
            # A dot after a long word closes the sentence; after a short one it may be "Inc." or "Co.".
            if part.endswith(".") and _LONG_LAST.search(part):
                part = part[:-1]
            items.append((k, k + len(part)))
        seeds = [e for e in found if any(e.start == a and b - 1 <= e.end <= b + 1 for a, b in items)]
        labels = {e.label for e in seeds}
        if len(labels) != 1 or min(e.score for e in seeds) * _FACTOR < min_score:
            continue
        label, score = labels.pop(), min(e.score for e in seeds) * _FACTOR
        for a, b in items:
            if label == "person":
                # "Drs Moeser and Gross": an item's title is not the name ("Moeser").
                cut = trim_span(text, a, b, label)
                if cut is None:
                    continue
                a, b = cut
            if any(a < e.end and b > e.start for e in entities) or not _sibling_ok(text[a:b]):
                continue
            added.append(Entity(a, b, label, score))
    return _with(entities, added)


# "GONZALEZ, MARIA", "Doe, Jane": a family name, a comma, then one word and the end of the field (a line
# or text end, two spaces or a tab, a separator, or the next key's colon after one more word).
_INVERTED = re.compile(r", ([^\W\d_][\w'’-]*)(?=\s*$|\s*\n|\s{2}|\t|\s*[|;(]|\s+\w+\s*:)")


def inverted_given_names(text: str, entities: list[Entity], *, min_score: float = 0.0) -> list[Entity]:
    """``entities`` plus the given name of a "Family, Given" field whose family name was found as a
    person: forms, charts and rosters write names that way, and the given name alone after a comma
    reads as a new clause to the model. The word must be a listed given name; the field's end after it
    keeps a clause out ("Gonzalez, Will you call?")."""
    if ", " not in text:
        return entities
    lex = lexicons()
    taken = [(e.start, e.end) for e in entities]
    added: list[Entity] = []
    for e in entities:
        if e.label != "person" or " " in text[e.start : e.end].strip() or e.score * _FACTOR < min_score:
            continue
        m = _INVERTED.match(text, e.end)
        if m is None:
            continue
        a, b = m.span(1)
        word = m.group(1)
        if any(a < y and b > x for x, y in taken) or not lex.is_first_name(word):
            continue
        added.append(Entity(a, b, "person", e.score * _FACTOR))
        taken.append((a, b))
    return _with(entities, added)
