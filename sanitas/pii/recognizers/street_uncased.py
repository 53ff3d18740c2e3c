"""Street addresses in texts typed without any capital ("meet me at 412 juniper court", "send it to 18
rue des lilas 4, valmont").

The cased forms of ``street_address`` lean on a capitalized street name; without capitals this
recognizer asks for stronger shape instead, a house number then one to four words that are no
English stop words, and one of: a street-type word closing them ("court", "avenue"), a foreign
street word opening them ("rue", "calle", "ul."), or a second number after a street word or a word
with a street ending ("hagavej 12", "lindengasse 3"). A number-and-suffix form also needs an address
cue before it ("at", "address", "deliver to") or a place after it, so "table for 4 at olive garden"
stays text (stop words never sit inside the name). The place, region and postcode after the street
are taken as in ``street_address``.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.recognizers.street_address import _GLUED_KEYS, StreetAddressRecognizer
from sanitas.pii.registry import register
from sanitas.pii.spacy_data import stop_words

_WORD = r"[^\W\d_][\w'’.-]*"
# A numbered street's name is an ordinal ("3021 w 43rd st"), as in the cased form.
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th)\b"
_FORM = re.compile(
    rf"(?<![\w.,-])\d{{1,6}}(?:[ -]\d{{1,5}})?(?P<words>(?:[ \t]+(?:{_WORD}|{_ORDINAL})){{1,4}})"
    r"(?P<num>[ \t]+\d{1,5}[a-z]?\b\.?)?(?P<st>[ \t]+(?:st\b\.?|street\b))?"
)
_FOREIGN = frozenset(
    "rue calle avenida avda. av. rua rúa ul. ulica piazza carrer chemin strada corso largo travessa "
    "praça alameda paseo camino carretera allée impasse plac aleja viale via".split()
)
_CUE = re.compile(
    r"(?:\b(?:at|on|to|address(?:\s+is)?|lives?|located|deliver(?:ed)?|ship(?:ped)?|send|sent|is)"
    r"|[:\n])[ \t]*$"
)
_CALENDAR = frozenset(
    "january february march april may june july august september october november december jan feb "
    "mar apr jun jul aug sep sept oct nov dec".split()
)


def _street_word(word: str) -> bool:
    low = word.lower()
    return low in lexicons().street_words or (low.endswith(_GLUED_KEYS) and len(low) >= 5)


def _name_end(words: list[str], has_num: bool, has_st: bool) -> int:
    """How many of ``words`` make the street name (0: no street)."""
    lex = lexicons()
    suffixes = {s.lower() for s in lex.street_suffixes}
    if any(w in stop_words() or w.rstrip(".") in _CALENDAR for w in words):
        # A clause, not a name: cut before the first stop word.
        cut = next(k for k, w in enumerate(words) if w in stop_words() or w.rstrip(".") in _CALENDAR)
        words, has_num, has_st = words[:cut], False, False
    if not words:
        return 0
    if words[0] in _FOREIGN and len(words) >= 2:
        return len(words)
    if has_num and (has_st or any(_street_word(w) for w in words)):
        return len(words)
    for k in range(len(words) - 1, 0, -1):
        if words[k].rstrip(".") in suffixes:
            return k + 1
    return 0


@register
class UncasedStreetRecognizer(GazetteerRecognizer):
    """A street address in a text with no capital letter: 0.6, 0.75 with a place or unit after it."""

    needs_digit = True
    name = "street_uncased"
    labels = frozenset({"street_address"})

    def find(self, text: str) -> list[Entity]:
        """Addresses by shape in uncased texts only (cased ones are ``street_address``'s)."""
        if any(c.isupper() for c in text):
            return []
        street = StreetAddressRecognizer()
        out: list[Entity] = []
        for m in _FORM.finditer(text):
            words = m.group("words").split()
            n = _name_end(words, m.group("num") is not None, m.group("st") is not None)
            if not n:
                continue
            if n == len(words):
                end = m.end()
            else:
                end = m.start("words") + _words_len(m.group("words"), n)
            full = street._trim(text, m.start(), street._tail(text, end))
            cue = _CUE.search(text, max(0, m.start() - 24), m.start()) is not None
            foreign = words[0] in _FOREIGN
            if not (cue or foreign or full > end or m.group("num")):
                continue
            score = 0.75 if full > end else 0.6
            out.append(Entity(m.start(), full, "street_address", score))
        return out


def _words_len(words: str, n: int) -> int:
    """Length of the first ``n`` words of ``words`` (leading blanks included)."""
    ends = [mm.end() for mm in re.finditer(r"\S+", words)]
    return ends[n - 1]
