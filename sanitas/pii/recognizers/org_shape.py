"""Name shapes shared by the block and firm recognizers: whether capitalized words are shaped like a
person's name, and whether a phrase is made of everyday English words (a title, a button, a department).
"""

from __future__ import annotations

import re

from sanitas.pii.lexicons import Lexicons

_FUNCTION = {"the", "of", "and", "&", "for", "a", "an", "in", "on", "at", "to", "by", "with"}
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_INITIAL = re.compile(r"[^\W\d_]\.?")
# Letters of Slavic, Nordic, Baltic and Hungarian spelling: rare in trade names, common in family names.
_NAME_LETTERS = re.compile(r"[ćčšžłđðþøåæőűřěůńśźżșțąęėįųūļķņģ]", re.IGNORECASE)
# Family-name endings common across Slavic, Nordic, Baltic, Greek, Romanian, Armenian and Georgian names.
_SURNAME_END = re.compile(
    r"(?i)(?:ov|ova|ev|eva|ovich|evich|ovna|evna|sky|ski|ska|skaya|cki|cka|dzki|vić|vic|ić|enko|chuk|"
    r"czuk|ak|uk|son|sen|sson|dóttir|dottir|escu|poulos|opoulos|akis|idis|oglu|oğlu|yan|shvili|dze|"
    r"aitis|ienė|ytė|auskas)$"
)
_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


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
    """A person score for words shaped like a name (0 when they are not): a known given name first, known
    names, or a family-name ending."""
    tokens = text[start:end].split()
    if not name_shaped(lex, tokens):
        return 0.0
    words = [t for t in tokens if len(t.rstrip(".")) > 1]
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
