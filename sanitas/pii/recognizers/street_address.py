"""Street addresses: "<number> <name> <suffix>", "<prefix> <name> <number>", "<name>straße 12", PO and
military boxes; a match grows over the unit, city, region, postcode and country that follow it."""

from __future__ import annotations

import re
from functools import cached_property

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.address_block import split_blocks
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.registry import register
from sanitas.pii.spacy_data import stop_words

_PREFIXES = (
    r"Rue|Via|Viale|Calle|Avda\.|Avenida|Av\.|Rua|ul\.|ulica|Piazza|Plaza|Carrer|Chemin|Route|Strada|"
    r"Corso|Largo|Travessa|Praça|Alameda|Paseo|Camino|Carretera|Boulevard|Avenue|Allée|Impasse|Place|"
    r"Λεωφόρος|Οδός|Plac|Aleja|al\.|os\.|Via|Str\.|Strasse"
)
_PREFIX_KEYS = tuple({w.replace("\\", "").lower() for w in _PREFIXES.split("|")})
_GLUED = (
    r"straße|strasse|str\.|weg|laan|straat|gade|gatan|vej|veien|vegen|katu|tie|kuja|gasse|platz|allee|"
    r"plein|dreef|kade|väg|vägen|gata|utca|polku|rinne|ranta|stræde|torv|plads|vei|steig|ring|damm|ufer|"
    r"markt|park|hof|stieg|bahn|brücke|berg|gränd|backe|stigen|kaari|raitti|tori|aukio"
)
_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я][\w'’.-]*"
# Particles inside street and place names across Romance, Germanic and Slavic languages.
_LOWER_WORD = (
    r"(?:de|del|della|delle|dello|degli|dei|la|le|les|du|des|da|do|dos|das|van|von|der|den|di|of|the|y|e|"
    r"al|el|am|an|im|zum|zur|op|ter|te|sur|sous|nad|pod|u|v|na)"
)
_UNIT = r"(?:,?\s*(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm)\b\.?|#)\s*[\w-]{1,6})"
# "(?<=\\n)": a box right after an escaped line break ("PLC\\nUSNV Tarrant") has no word boundary.
_BOX_START = r"(?:\b|(?<=\\n))"
_PO_BOX = re.compile(
    rf"(?i){_BOX_START}P\.?\s?O\.?\s+Box\s+\d{{1,6}}\b|{_BOX_START}(?:PSC|Unit|CMR)\s+\d{{3,5}},?\s+Box\s+\d{{3,5}}"
    r"(?:\s*(?:\n|\\n)?\s*(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5})?"
    rf"|{_BOX_START}(?:USNS|USS|USNV|USCGC)\s+\w+"
    r"(?:\s*(?:\n|\\n)?\s*(?:FPO)\s+A[AEP]\s+\d{5})?"
)
# Every form of _PO_BOX holds "box" or a ship prefix (USNS, USS, USNV, USCGC): one cheap scan tells
# whether the costlier alternation can match at all. The case folding is spelled out (under IGNORECASE
# "s" also matches the long s "ſ") so that the scan opens on a character class, which the regex engine
# skips to at C speed, where "(?i)box|us[snc]" was tried at every position.
_PO_BOX_HINT = re.compile(r"[bBuU](?:(?<=[bB])[oO][xX]|(?<=[uU])[sSſ][sSſnNcC])")
_TOKEN = r"[^\W\d_][\w'’.-]*"
_CALENDAR = set(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday page chapter "
    "room gate terminal level step version section item part number no table figure".split()
)
# "the corner of 92 Circle Way and Paterson Pass"
_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я][\w'’-]*"
_ANY_LOWER = r"[^\W\d_A-Z][\w'’-]*\.?"
_CORNER = re.compile(
    rf"\b(?:the )?corner of (?:\d{{1,6}} )?(?:{_ANY_LOWER} )?{_NAME_WORD}"
    rf"(?: (?:{_NAME_WORD}\.?|{_ANY_LOWER}|\d{{1,5}}\.?)){{0,4}} "
    rf"(?:and|&) (?:\d{{1,6}} )?(?:{_ANY_LOWER} )?{_NAME_WORD}(?: (?:{_NAME_WORD}|\d{{1,5}})){{0,3}}"
)
# "512 9 Rue Ibn Khaldoun El Wardi,", "318 4 rue des tanneurs Vieux": a number and a foreign street
# word (never an English one: "take 5 route changes") may head a name without a house number after it.
_FOREIGN_PREFIX = (
    r"(?i:rue|calle|avenida|avda\.|av\.|rua|rúa|ul\.|ulica|piazza|carrer|chemin|strada|corso|largo|"
    r"travessa|praça|alameda|paseo|camino|carretera|allée|impasse|plac|aleja|al\.|viale|avenue)"
)
# One scan of the lowercased text for those words first (the form starts at every number otherwise).
_HEADED_HINT = re.compile(r"\b" + _FOREIGN_PREFIX.replace("(?i:", "(?:").replace(r"\.", "") + r"\b")
_HEADED = re.compile(
    rf"(?<![\w.,-])\d{{1,6}}(?:\s+\d{{1,5}})?\s+{_FOREIGN_PREFIX}\s+(?:[^\W\d_][\w'’-]*\s+){{0,4}}"
    rf"{_NAME_WORD}(?=[ \t]*(?:[.,;!?)]|$|\n|\\n|[ \t]+(?:street|St\b)))"
)
_PREFIX_HINT = re.compile("|".join(re.escape(k) for k in sorted(_PREFIX_KEYS, key=len, reverse=True)))
_GLUED_KEYS = tuple({w.replace("\\", "") for w in _GLUED.split("|")})
_SPACE_DIGIT = re.compile(r"\s+\d")


def _glued_possible(lower: str) -> bool:
    """Whether one of the glued endings (lowercased) sits right before spaces and a number: the glued
    form rejects every match otherwise. Scans for the spaces (a class the regex engine skips to) and
    tests the endings with ``str.endswith``, not an alternation of them tried at every letter."""
    for m in _SPACE_DIGIT.finditer(lower):
        if lower.endswith(_GLUED_KEYS, 0, m.start()):
            return True
    return False


_DIGIT = re.compile(r"\d")
# The "<number> <name> <suffix>" form keeps a match only when a word after its first (each one follows
# whitespace, a capitalized word runs to the first character outside the word class) is a street
# suffix once trailing dots are dropped: these are all the words it could be.
_SPACED_WORD = re.compile(rf"\s({_WORD})")
_LINE_END = re.compile(r"[ \t.,;?!)>]*(?:\n|\\n|$)")
# A line that ends in a postcode ("Cyprus 36903? I am ...") closes the address whatever follows it.
_ENDS_POSTCODE = re.compile(r"\s\d{4,6}(?:-\d{3,4})?$")
_ANY_WORD = r"[^\W\d_][\w'’.-]*"
# Words that start a new clause, not the next part of an address.
_STOP = {
    "and",
    "or",
    "but",
    "i",
    "please",
    "so",
    "which",
    "for",
    "in",
    "to",
    "the",
    "thanks",
    "thank",
    "is",
    "it",
    "we",
    "he",
    "she",
    "they",
    "my",
    "if",
    "when",
    "then",
    "this",
    "that",
    "with",
    "from",
    "on",
    "at",
}
_CONTEXT = ("live at", "address", "located at", "lives at", "send", "deliver", "moved to", "meet", "at ")


# What exports write for an empty field ("Toronto, nan 12345": the region was missing).
_EMPTY = r"(?:nan|NaN|null|N/A|n/a)(?![\w/])"
# A British postcode, outward and inward code ("LS6 2QT", "SW1A 1AA", "M1 1AE"): the outward code reads
# as a word of the town, so without this the tail stopped there and left the inward code out.
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2}\b"
# A postal code closing an address: US ZIP (and ZIP+4), British, Canadian.
_POSTCODE_END = re.compile(rf"(?:\b\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d)\Z")


def _tail_pattern(word: str) -> re.Pattern[str]:
    part = (
        rf"(?:{_UNIT}|{_EMPTY}(?:\s+\d{{3,6}}(?:[ -]\d{{2,4}})?)?|"
        rf"\d{{2,6}}(?:[ -]\d{{2,4}})?(?![ -]?\d)(?:\s[A-Z]{{2}}\b)?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|{_UK_POSTCODE}|"
        rf"{word}(?:[ -](?!{_UK_POSTCODE})(?:{word}|{_LOWER_WORD}\b)){{0,3}}(?:\s*\([\w ]+\))?"
        rf"(?:,?\s+(?:[A-Z]{{2}}\b|{_EMPTY}))?"
        rf"(?:\s+(?:\d{{3,6}}(?:-\d{{3,4}})?|{_UK_POSTCODE}))?)"
    )
    return re.compile(
        # A line break may also arrive escaped (a backslash and "n") from CSV or JSON exports.
        rf"(?:\s*,\s*|(?:[ \t]*(?:\n|\\n)){{1,2}}[ \t]*(?:[>?|}}*•·][ \t]*){{0,3}}(?:,[ \t]*)?|"
        rf"\s+(?=\d|[A-Z]{{2}}\b|{_UK_POSTCODE}|{_UNIT}))({part})"
    )


_TAIL_CAPS = _tail_pattern(_WORD)
_TAIL_ANY = _tail_pattern(_ANY_WORD)
# "... Suite 207 Ashgrove New Zealand", "... Apt. 61 Borgo Lario Como. It opens ...": after a
# unit, capitalized words up to the clause's end are the town, region and country of that address.
_UNIT_END = re.compile(rf"{_UNIT}$", re.IGNORECASE)


def _place_run(word: str) -> re.Pattern[str]:
    return re.compile(
        rf"[ \t]+({word}(?:[ -](?:{word}|{_LOWER_WORD}\b)){{0,4}}(?:,?[ \t]+(?:[A-Z]{{2,3}}|{_EMPTY}))?"
        rf"(?:[ \t]+\d{{3,6}}(?:[ -]\d{{2,4}})?)?)(?=[ \t]*(?:[.,;:?!)]|\n|\\n|$|[ \t]+[a-z]))"
    )


_PLACE_RUN = _place_run(_WORD)
# "... 43rd st los angeles ca 90008": a town, a US state's postal code and a ZIP closing a street with no
# comma before them, in a text without capitals (with capitals the cased tail reads them). Only the
# USPS codes of states and territories: "order no 48213" and "id is 40219" are no state and ZIP.
_US_STATES = (
    "al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|nc|"
    "nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|pr|gu|vi|as|mp"
)
_CITY_STATE_ZIP_ANY = re.compile(
    rf"[ \t]+((?:[^\W\d_][\w'’-]*[ \t]+){{1,3}}(?:{_US_STATES})[ \t]+\d{{5}}(?:-\d{{4}})?)\b"
)
# In a text without capitals every word may be a place: the run then goes to the clause's end.
_PLACE_RUN_ANY = re.compile(
    rf"[ \t]+({_ANY_WORD}(?:[ -]{_ANY_WORD}){{0,5}}(?:[ \t]+\d{{3,6}})?)(?=[ \t]*(?:[.,;:?!)]|\n|$))"
)
# "947 trg revolucije 17 apt. 858", "3747 3911 fourth avenue suite 112": in a text without capitals only
# a number, words and a unit number (an apartment, a suite) are evidence enough of an address.
_UNCASED = re.compile(
    r"(?<![\w.,-])\d{1,6}(?:[ -]\d{1,5})?(?: [^\W\d_][\w'’.-]*){1,5}(?: \d{1,5}[a-z]?\.?)?"
    r",? (?:apt|apartment|suite|unit|flat)\.? ?#?\d{1,5}\b"
)
_AFTER_SUFFIX = re.compile(rf"\.?(?:\s+[NSEW]{{1,2}}\b\.?)?{_UNIT}?")
_UNIT_RE = re.compile(_UNIT)
# A short all-capital part of a hyphenated word ("VLA-alpha", "CBZ-therapy"): an acronym.
_ACRONYM_PART = re.compile(r"(?:^|-)[A-Z]{2,4}(?=-)|-[A-Z]{2,4}$")
_ARTICLES = frozenset({"the", "a", "an"})
# A capitalized word right after a street suffix that is a function word ("Union Against Cancer",
# "Park Of Science"): the phrase goes on in title case, the name of a body or a work; an address
# goes on with a unit, a comma, a line break, a town or a lowercase clause.
_TITLE_WORD = re.compile(r"[ \t]+([A-Z][a-z]+)\b")
_LOWER_WORD_RE = re.compile(_LOWER_WORD)
_NON_SPACE = re.compile(r"\S+")
# Base score of each form (index into ``_patterns``); the others score 0.7.
_FORM_SCORE = {3: 0.5, 4: 0.4, 6: 0.6}


# A stop after a word of four letters or more, then a space and a word: a sentence end ("springfield.
# text me at"), not an abbreviation's stop ("St. Louis", "Mt. Vernon", "D.C.", "Mass. 01101"). An address
# part ends there. The lookbehind starts a match only at a word's start (linear in a long run of letters).
_SENTENCE_END = re.compile(r"(?<![^\W\d_])([^\W\d_]{4,})\.(?=\s+[^\W\d_])")
# Abbreviations of four letters or more that end a part of an address without ending its sentence: the
# Associated Press's state abbreviations ("Springfield, Mass.") beside the street suffixes (below).
_LONG_ABBREVIATIONS = frozenset("ariz calif colo conn mass mich minn miss mont okla penn tenn wash".split())


def _title_goes_on(text: str, end: int) -> bool:
    """Whether a capitalized function word follows ``text[:end]`` (see ``_TITLE_WORD``)."""
    m = _TITLE_WORD.match(text, end)
    return m is not None and m.group(1).lower() in stop_words()


@register
class StreetAddressRecognizer(Recognizer):
    """Scores: suffix/prefix/glued form and street corners 0.7, number-name-number 0.5, a name and a
    number after "on / at / of" 0.4, +0.15 with a unit or city tail; PO and military boxes 0.8."""

    needs_digit = True
    name = "street_address"
    labels = frozenset({"street_address"})

    @cached_property
    def _suffixes(self) -> frozenset[str]:
        return lexicons().street_suffixes

    @cached_property
    def _patterns(self) -> list[re.Pattern[str]]:
        number = r"(?:(?<![\w.,-])|(?<=\\n))\d{1,6}[A-Za-z]?(?:[ -]\d{1,5}[A-Za-z]?)?"
        word = rf"(?:{_WORD}|{_LOWER_WORD}|\d{{1,3}}(?:st|nd|rd|th)?)"
        # The suffix is checked against the gazetteer in Python: an alternation of ~400 suffixes inside
        # the regex made this the slowest recognizer.
        us = rf"{number}\s+(?:[NSEW]\.?\s+)?(?P<words>{word}(?:\s+{word}){{1,4}})"
        prefixed = (
            rf"(?<![\w.,-])(?:\d{{1,6}}\s+)?(?:{_PREFIXES})\s+(?:(?:{_WORD}|{_LOWER_WORD})\s+){{0,4}}?"
            r"\d{1,5}[A-Za-z]?\b"
        )
        # "Lindenstraße 12": any word and a number; the word's ending is checked in Python (an
        # alternation of endings after a free word backtracked at every position).
        glued = r"(?<![\w.,-])(?:\d{1,6}\s+)?(?P<gw>[^\W\d_][\w'’.-]*)\s+\d{1,5}[A-Za-z]?\b"
        # A number before a decimal mark and a digit ("of CBZ-therapy of 4.4 years") is a measure, no
        # house number.
        house = r"\d{1,5}(?![.,]\d)"
        # "92597 Jahu 80", "1507 Rákóczi út 13.": house or postal number, a name, a number (the name's
        # lowercase words must be street words, checked in Python).
        numbered = rf"{number}\s+(?P<words>{_TOKEN}(?:\s+{_TOKEN}){{0,3}})\s+{house}[A-Za-z]?\b\.?"
        # "on Castelao 66.", "the north side of Odra 60": a cue, a name, a number that ends the clause.
        cued = (
            rf"\b(?:on|at|of|to|in)\s+(?P<words>{_TOKEN}(?:\s+{_TOKEN}){{0,3}})\s+{house}[A-Za-z]?\.?"
            r"(?=\s*(?:[.,;!?)]|$|\n|\\n|St\b))"
        )
        return [
            re.compile(us),
            re.compile(prefixed),
            re.compile(glued),
            re.compile(numbered),
            re.compile(cued),
            _CORNER,
            _HEADED,
            _UNCASED,
        ]

    def _plausible_name(self, words: str, *, cued: bool, caps: bool) -> bool:
        """A street name: a capitalized word that is no everyday English word, lowercase words only
        street words ("út", "rue") or particles ("de"), no month or weekday.

        No word of a name holds a digit ("SPO2"), and an acronym is no name ("HR 92 RR 18" in vital
        signs): in a text in capitals (``caps``), where case no longer marks a name, every word must be
        longer than three letters and no dictionary word; elsewhere a short all-capital word is an
        acronym, and so is one joined to a word by a hyphen ("VLA-alpha 2", "CBZ-therapy": the
        designation of a molecule, a drug, a device)."""
        lex = lexicons()
        tokens = words.split()
        if not any(t[:1].isupper() for t in tokens):
            return False
        for t in tokens:
            if any(c.isdigit() for c in t):
                return False
            bare = t.rstrip(".,")
            if (caps and (len(bare) <= 3 or lex.is_english_word(bare))) or (
                not caps and (bare.isupper() and len(bare) <= 4 or _ACRONYM_PART.search(bare))
            ):
                return False
            key = t.lower().rstrip(".,")
            if key in _CALENDAR or (
                t[:1].isupper() and lex.is_common_word(t) and key not in lex.street_words
            ):
                return False
            if t[:1].islower() and key not in lex.street_words and not _LOWER_WORD_RE.fullmatch(key):
                return False
        if cued and tokens[0].lower() in _ARTICLES:
            # "the ability of the Ohmeda 3700": an article opens a noun phrase, the name of a thing
            # (a device, a model); a street name after "on / at / of" takes none ("on Castelao 66").
            return False
        if cued and len(tokens) == 1 and lex.is_english_word(tokens[0].rstrip(".,")):
            # "in Patient 1", "of Trisomy 18": after a cue, one dictionary word and a number is a
            # numbered thing; the form is the continental one ("on Castelao 66"), whose names are not.
            return False
        return not cued or not lex.is_first_name(tokens[0]) or len(tokens) > 1

    def _us_end(self, text: str, m: re.Match[str]) -> tuple[int, bool] | None:
        """End of "<number> <name words> <suffix>[.] [unit]" inside match ``m``, or None without a suffix,
        and whether the address is written in capitals ("12 ELM GROVE": its suffix is then looked up in
        title case)."""
        words_start = m.start("words")
        tokens = list(_NON_SPACE.finditer(m.group("words")))
        in_caps = all(t.group(0).isupper() for t in tokens)
        for tok in reversed(tokens[1:]):
            word = tok.group(0).rstrip(".,")
            if (word.capitalize() if in_caps else word) in self._suffixes:
                end = words_start + tok.start() + len(tok.group(0).rstrip(","))
                unit = _AFTER_SUFFIX.match(text, end)
                return (unit.end() if unit else end), in_caps
        return None

    @staticmethod
    def _glued_ok(word: str) -> bool:
        """ "Lindenstraße 12" but not "During 1976" or "Katie 25" (a word that merely ends like one)."""
        low = word.lower()
        if not low.endswith(_GLUED_KEYS) or len(low) < 5 or low in _GLUED_KEYS:
            return False
        lex = lexicons()
        return not (low.endswith("ing") or lex.is_common_word(word) or lex.is_name_token(word))

    def setup(self) -> None:
        """Compile the suffix alternation (built from the gazetteer) before the first text."""
        _ = self._patterns

    def _sentence_end(self, text: str, start: int, end: int) -> int | None:
        """Where the first sentence end in ``text[start:end]`` is (after its stop), if there is one."""
        for m in _SENTENCE_END.finditer(text, start, end):
            word = m.group(1)
            if word.lower() not in _LONG_ABBREVIATIONS and word.capitalize() not in self._suffixes:
                return m.end()
        return None

    def _tail(self, text: str, end: int) -> int:
        """Extend over ", Unit", ", City", ", ST 12345", "\\n Country 12345" parts that follow."""
        tail = _TAIL_ANY if not any(map(str.isupper, text)) else _TAIL_CAPS
        n_parts = 0
        while n_parts < 6:
            if tail is _TAIL_ANY and (closing := _CITY_STATE_ZIP_ANY.match(text, end)):
                words = closing.group(1).split()
                if not any(w in _STOP or w in stop_words() for w in words[:-2]):
                    return closing.end()
            if _UNIT_END.search(text, max(0, end - 16), end):
                run = (_PLACE_RUN if tail is _TAIL_CAPS else _PLACE_RUN_ANY).match(text, end)
                if run and run.group(1).split()[0].lower() not in _STOP:
                    stop = self._sentence_end(text, run.start(1), run.end())
                    if stop is not None:
                        return stop
                    end, n_parts = run.end(), n_parts + 1
                    continue
            m = tail.match(text, end)
            if not m or m.group(1).split()[0].lower().strip(",") in _STOP:
                break
            sep = text[end : m.start(1)]
            if (
                ("\n" in sep or "\\n" in sep)
                and not _LINE_END.match(text, m.end())
                and not _ENDS_POSTCODE.search(m.group(1))
            ):
                # A part on a new line must fill that line: "Artilleros" does, "What are my options?"
                # (the next text after a line break) does not.
                break
            stop = self._sentence_end(text, m.start(1), m.end())
            if stop is not None:
                # the part runs over a sentence end: the address ends with that sentence
                return stop
            end, n_parts = m.end(), n_parts + 1
        return end

    @staticmethod
    def _trim(text: str, start: int, end: int) -> int:
        """Drop trailing sentence punctuation and spaces."""
        while end > start and text[end - 1] in " .,;:\n>\\":
            end -= 1
        return end

    def find(self, text: str) -> list[Entity]:
        """Every address form, extended over its tail, scored by how much of an address it shows."""
        out: list[Entity] = []
        if not _DIGIT.search(text):
            return out
        lower = text.lower()
        # The prefixed form backtracks over every capitalized word; one scan for its keywords tells
        # first whether it can match at all.
        uncased = not any(map(str.isupper, text))
        caps = not any(map(str.islower, text))
        suffixes = self._suffixes
        runs = (
            any(
                w.rstrip(".") in suffixes or (w.isupper() and w.rstrip(".").capitalize() in suffixes)
                for w in _SPACED_WORD.findall(text)
            ),
            _PREFIX_HINT.search(lower) is not None,
            _glued_possible(lower),
            True,
            True,
            "corner of" in lower,
            _HEADED_HINT.search(lower) is not None,
            uncased,
        )
        for k, pattern in enumerate(self._patterns):
            if not runs[k]:
                continue
            pos = 0
            while (m := pattern.search(text, pos)) is not None:
                start, end = m.span()
                # A rejected match gives its text back: "at 12 Ringvej 5" fails as "at 12" first.
                pos = m.start() + 1
                if k == 0:
                    found = self._us_end(text, m)
                    if found is None or _title_goes_on(text, found[0]):
                        continue
                    end, in_caps = found
                    if in_caps and not _POSTCODE_END.search(
                        text, end, self._trim(text, end, self._tail(text, end))
                    ):
                        # In capitals a name is no longer marked by case: clinical shorthand ("GIVEN 4 MG
                        # IV ACCESS") has numbers, words and street words too. The town and postal code
                        # that close the address are the evidence there.
                        continue
                elif k == 2 and not self._glued_ok(m.group("gw")):
                    continue
                elif k in (3, 4):
                    if not self._plausible_name(m.group("words"), cued=k == 4, caps=caps):
                        continue
                    if k == 4:
                        start = m.start("words")
                pos = max(pos, m.end())
                full = self._trim(text, start, self._tail(text, end))
                score = _FORM_SCORE.get(k, 0.7)
                if full > end or _UNIT_RE.search(text[start:end]):
                    score += 0.15
                out.append(Entity(start, full, "street_address", score))
        for m in _PO_BOX.finditer(text) if _PO_BOX_HINT.search(text) else ():
            full = self._trim(text, m.start(), self._tail(text, m.end()))
            out.append(Entity(m.start(), full, "street_address", 0.8))
        return split_blocks(text, out)
