"""What a span spaCy tags ORG really is: a firm, a person, a place, or a title that names no one.

The small model tags most capitalized phrases it cannot place as ORG: film and show titles, genres,
everyday nouns in capitals ("Mystery & Suspense", "Hobbits"), foreign names ("Lechosław"), and places
wrapped in an institution ("the University of Nicosia"). ``org_pieces`` sorts such a span by its words
and the words around it into pieces ``(start, end, kind, score)``; the NER module builds the entities.
A ``person`` or ``location`` piece is re-scored by the NER module's own rules, never below ``score``.
"""

from __future__ import annotations

import re

from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.name_lexicon import after_people_cue

Piece = tuple[int, int, str, float]

# A legal or trade form, or a word only institutions carry: the span is an organization.
ORG_FORM = re.compile(
    r"(?i)\b(?:inc|llc|ltd|corp|co|plc|gmbh|ag|sa|se|nv|bv|group|company|corporation|limited|bank|"
    r"university|college|institute|hospital|clinic|club|association|society|foundation|partners|"
    r"holdings|international|trust|fund|agency|council|union|technologies|software|systems|solutions|"
    r"consulting|industries|labs|insurance|investments|capital|securities|airlines|motors|pharma|"
    r"media|studios|networks|ventures|enterprises|etf|shs|services?|global|data|insights?|health|"
    r"analytics|digital|energy|financial|communications|resources|partnership)\b"
)
# "the film Zoolander", "Zoolander is a 2010 Czech action-comedy film": a work's title, not a firm.
_WORK = r"(?:film|movie|show|series|song|album|novel|book|play|episode|sitcom|documentary|musical|opera)"
_WORK_BEFORE = re.compile(rf"(?i)\b(?:the|a|her|his|their|new)\s+{_WORK}\s+[\"“']?$")
_WORK_AFTER = re.compile(rf"(?i)^[\"”']?\s+(?:is|was)\s+an?\s+(?:[\w-]+\s+){{0,4}}?{_WORK}\b")
_QUOTED = re.compile(r"[\"“'‘]$")
# Words around a span that only a person takes: "calls me X", "says X", "X lives at", "my kid X".
_PERSON_BEFORE = re.compile(
    r"(?i)\b(?:call(?:s|ed)?\s+me|name\s+is|i\s+am|i'm|says|said|starring|directed\s+by|written\s+by|follow\s+up\s+with|"
    r"speak\s+(?:to|with)|talk\s+to|ask\s+for|tell|told|my\s+(?:kid|son|daughter|wife|husband|mother|"
    r"father|brother|sister|friend|boss|partner|uncle|aunt|cousin|grandson|granddaughter))\s+$"
)
_PERSON_AFTER = re.compile(
    r"^(?:(?:'s|’s)\s+(?:home|wife|husband|kids?|son|daughter|mother|father|parents|birthday|killers?)\b|"
    r"(?:'s|’s)?\s+(?:lives|lived|was\s+born|grew\s+up|married|died|shouted|whispered|smiled|laughed|"
    r"cried|spent\s+a|is\s+very\s+reliable|is\s+from|began\s+writing)\b)"
)
# Family-name endings common across Slavic, Nordic, Baltic, Greek, Romanian, Armenian and Georgian names.
_SURNAME_END = re.compile(
    r"(?i)(?:ov|ova|ev|eva|ovich|evich|ovna|evna|sky|ski|ska|skaya|cki|cka|dzki|vić|vic|ić|enko|chuk|"
    r"czuk|ak|uk|son|sen|sson|dóttir|dottir|escu|poulos|opoulos|akis|idis|oglu|oğlu|yan|shvili|dze|"
    r"aitis|ienė|ytė|auskas)$"
)
# Words that only wrap a place ("the University of Nicosia", "Szczecin Country Club", "Southern Canada").
_PLACE_WRAP = re.compile(
    r"(?i)^(?:(?:the\s+)?(?:university|college)\s+of\s+(?P<a>.+?)|(?P<b>.+?)\s+(?:country\s+club|golf\s+club|"
    r"bridge)|(?:southern|northern|eastern|western|central|north|south|east|west)\s+(?P<c>.+?))\.?$"
)
_FUNCTION = {"the", "of", "and", "&", "for", "a", "an", "in", "on", "at", "to", "by", "with"}
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_INITIAL = re.compile(r"[^\W\d_]\.?")
# Letters of Slavic, Nordic, Baltic and Hungarian spelling: rare in trade names, common in family names.
_NAME_LETTERS = re.compile(r"[ćčšžłđðþøåæőűřěůńśźżșțąęėįųūļķņģ]", re.IGNORECASE)
# "Marsh Wall St.", "Božena Extensions Street": a street, whatever the model thought.
_STREET_END = re.compile(
    r"(?i)\s(?:st|rd|ave|av|blvd|ln|hwy|pkwy|street|road|avenue|lane|boulevard|highway)\.?$"
)
_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# "The Garmin Orchestra": the firm is the name before the ensemble or the place it keeps.
_HEAD = re.compile(r"(?i)\s+(?:orchestra|office|website|headquarters)$")


def _name_token(token: str) -> bool:
    """ "Bílá", "Anne-Lise", "D.": a capitalized word of letters with lower case after its first letter."""
    t = token.rstrip(",")
    if _INITIAL.fullmatch(t):
        return t[0].isupper()
    return bool(_LETTERS.fullmatch(t)) and t[0].isupper() and any(c.islower() for c in t[1:])


def _place(lex: Lexicons, value: str) -> bool:
    key = value.strip(" .,").lower().removeprefix("the ")
    return key in lex.cities or key in lex.coarse_places


def name_shaped(lex: Lexicons, tokens: list[str]) -> bool:
    """1-3 capitalized words (initials allowed), none an English word unless also a known name."""
    words = [t for t in tokens if len(t.rstrip(".")) > 1]
    if not 1 <= len(words) <= 3 or not all(_name_token(t) for t in tokens):
        return False
    return all(lex.is_name_token(t) or not lex.is_english_word(t) for t in words) and not any(
        _place(lex, t) for t in words
    )


def looks_like_person(lex: Lexicons, text: str, start: int, end: int) -> float:
    """A person score for an ORG span shaped like a name (0 when it is not): a known given name first,
    a family-name ending, or words around it that only a person takes."""
    tokens = text[start:end].split()
    if not name_shaped(lex, tokens):
        return 0.0
    words = [t for t in tokens if len(t.rstrip(".")) > 1]
    if _PERSON_BEFORE.search(text, max(0, start - 30), start) or _PERSON_AFTER.match(text[end : end + 30]):
        return 0.6
    if lex.is_first_name(words[0]) or len(words) >= 2 and all(lex.is_name_token(t) for t in words):
        return 0.45
    if len(words) >= 2 and any(lex.is_name_token(t) and not lex.is_english_word(t) for t in words):
        # "Burhan Engel": a known name that is no English word, beside another unknown word.
        return 0.45
    if _SURNAME_END.search(words[-1]) or _NAME_LETTERS.search(text, start, end):
        return 0.5
    return 0.0


def everyday_words(lex: Lexicons, value: str) -> bool:
    """Whether every word of ``value`` but function words is an English word, not a name or a place."""
    words = [w for w in _TOKEN.findall(value) if w.lower() not in _FUNCTION]
    return bool(words) and all(
        lex.is_english_word(w) and not lex.is_name_token(w) and not _place(lex, w) for w in words
    )


def _is_title(lex: Lexicons, text: str, start: int, end: int) -> bool:
    """A work's title or a phrase of everyday words ("Mystery & Suspense", "The French Border Force")."""
    if _WORK_BEFORE.search(text, max(0, start - 24), start) or _WORK_AFTER.match(text[end : end + 60]):
        return True
    if _QUOTED.search(text, max(0, start - 1), start):
        return True
    return everyday_words(lex, text[start:end])


def _split(lex: Lexicons, text: str, start: int, end: int) -> list[Piece] | None:
    """ "Elijah Figueroa of Allot Ltd." and "Pave's Irena Bílá": a person and a firm in one span."""
    value = text[start:end]
    for sep, person_first in ((" of ", True), ("'s ", False), ("’s ", False)):
        k = value.find(sep)
        if k <= 0:
            continue
        left, right = (start, start + k), (start + k + len(sep), end)
        who, firm = (left, right) if person_first else (right, left)
        name = text[who[0] : who[1]].split()
        if name and lex.is_first_name(name[0]) and name_shaped(lex, name):
            return [(who[0], who[1], "person", 0.0), (firm[0], firm[1], "organization", 0.55)]
    return None


def org_pieces(text: str, start: int, end: int) -> list[Piece]:
    """Sort an ORG span into pieces (see the module docstring); an empty list drops it."""
    value = text[start:end]
    if text[end - 2 : end] in ("'s", "’s"):
        end -= 2
        value = text[start:end]
    # "ATM", "PIN", "SWIFT": acronyms the model calls organizations are rarely identifying.
    if (len(value) <= 5 and value.isupper()) or value.islower():
        return [(start, end, "organization", 0.2)]
    if after_people_cue(text, start):
        # "our 3 founders: Kónya, Becker and Vasquez": people (the name gazetteer reports each).
        return []
    if value.split()[-1].isdigit():
        return [(start, end, "street_address", 0.35)]
    if value.endswith(" of"):
        end -= 3
        value = text[start:end]
    article = value[:4] in ("the ", "The ") or text[max(0, start - 4) : start].lower() == "the "
    if value[:4] in ("the ", "The ") and " " in value[4:].strip() or value[:4] == "the ":
        start += 4
        value = text[start:end]
        head = _HEAD.search(value)
        if head and head.start() > 0:
            end = start + head.start()
            value = text[start:end]
    lex = lexicons()
    if _place(lex, value):
        return [(start, end, "location", 0.0)]
    wrap = _PLACE_WRAP.match(value)
    if wrap:
        key = next(g for g in ("a", "b", "c") if wrap.group(g) is not None)
        inner = wrap.group(key)
        if _place(lex, inner) or key == "a" and (inner.isupper() or name_shaped(lex, inner.split())):
            return [(start + wrap.start(key), start + wrap.end(key), "location", 0.0)]
    if _STREET_END.search(value):
        return [(start, end, "street_address", 0.5)]
    if "\\" in value or "\n" in value:
        return [(start, end, "organization", 0.55)]
    split = _split(lex, text, start, end)
    if split:
        return split
    if not ORG_FORM.search(value):
        # "the Notting Hill ATM": a person takes no article.
        person = 0.0 if article else looks_like_person(lex, text, start, end)
        if person:
            return [(start, end, "person", person)]
        if _is_title(lex, text, start, end):
            return [(start, end, "organization", 0.25)]
    return [(start, end, "organization", 0.55)]
