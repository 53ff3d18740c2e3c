"""Full names typed in lowercase right after a phrase that introduces a person.

Chat users often skip capitals ("hi, my name is marta kowalczyk", "please follow up with jonas e
brandt"), and spaCy's small model, trained on cased text, rarely sees a name there. A lone given name
after "my name is" or "call me" is left alone: that is how people talk to assistants ("call me
sam"), not a full name that identifies anyone. What is taken is a given name and a family name (an
initial may sit between), both in Faker's name gazetteer and neither an everyday English word ("i am
will power" and "this is rose garden" stay text).
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import Lexicons, lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.registry import register

# Phrases after which a name is a person: introductions, and verbs whose object is a person.
_CUE = (
    r"(?:my\s+name\s+is|my\s+name's|name\s*:|i\s+am|i'm|i’m|this\s+is|it\s+is|it's|"
    r"follow(?:ing|s|ed)?\s+up\s+with|(?:speak|spoke|talk|talked|meet|met|meeting|chat|check)\s+(?:to|with)|"
    r"contact|ask\s+for|called|named|dear|signed|regards,?|thanks,?|hi|hello|hey)"
)
_WORD = r"[^\W\d_]{2,}(?:['’-][^\W\d_]{2,})?"
_NAME = re.compile(
    rf"(?<![\w'’]){_CUE}[ \t]+(?P<v>{_WORD}(?:[ \t][^\W\d_]\.?)?(?:[ \t]{_WORD}){{1,2}})(?![\w@'’-])",
    re.IGNORECASE,
)
_HINT = re.compile(
    r"(?i)\b(?:name|i|this|it|up|to|with|contact|ask|called|named|dear|signed|regards|thanks|hi|hello|hey)\b"
)


def _rare_surname(lex: Lexicons, word: str) -> bool:
    """A family name too rare for the gazetteer: letters only, no English word, place or street word,
    and a letter outside plain ASCII ("žilková", "krølund"), the mark of a foreign name rather than
    a typo or a word the dictionary lacks."""
    return (
        len(word) >= 4
        and word.isalpha()
        and not word.isascii()
        and not lex.is_english_word(word)
        and not lex.is_place_word(word)
    )


def _full_name(lex: Lexicons, value: str) -> bool:
    """A known given name, then known names; neither the first nor the last an everyday word."""
    words = [w for w in value.split() if len(w.rstrip(".")) > 1]
    if len(words) < 2 or not lex.is_first_name(words[0]) or lex.is_common_word(words[0]):
        return False
    if not all(
        lex.is_name_token(w) or k == len(words) - 2 and _rare_surname(lex, w) for k, w in enumerate(words[1:])
    ):
        return False
    return not lex.is_common_word(words[-1]) and not any(w in lex.coarse_places for w in words)


@register
class PersonUncasedRecognizer(GazetteerRecognizer):
    """A lowercase given name and family name after an introduction or a verb for meeting someone: 0.6."""

    name = "person_uncased"
    labels = frozenset({"person", "first_name", "last_name"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Lowercase full names after person cues (cased names are the model's)."""
        if _HINT.search(text) is None:
            return []
        lex = lexicons()
        out: list[Entity] = []
        for m in _NAME.finditer(text):
            value = m.group("v")
            if not value.islower():
                continue
            # Take the longest prefix that reads as a full name ("jonas brandt tomorrow" -> two words).
            words = value.split()
            for n in range(len(words), 1, -1):
                candidate = " ".join(words[:n])
                if _full_name(lex, candidate):
                    start = m.start("v")
                    out.append(Entity(start, start + _prefix_len(value, n), "person", 0.6))
                    break
        return out


def _prefix_len(value: str, n: int) -> int:
    """Length of the first ``n`` whitespace-separated words of ``value`` (with the gaps between)."""
    pos = 0
    for k, m in enumerate(re.finditer(r"\S+", value)):
        pos = m.end()
        if k + 1 == n:
            break
    return pos
