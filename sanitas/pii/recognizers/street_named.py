"""A street named by the word "street" after it, with or without a house number: "she lives on
Orvieto Lane street", "the shop on Varnhem 12 street", "shows on Kessel Row Street".

The street patterns need a house number before a suffix or a known street word; a name followed by
the word "street" after "on", "onto", "along" or "off" is a street whatever the name looks like.
A phrase of stop words or everyday words ("on the street", "on this street", "on Main street") is left
alone: it names no address.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.registry import register
from sanitas.pii.spacy_data import stop_words

_TOKEN = r"(?:[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]*\.?|C/|\d{1,5}[a-z]?\.?|[^\W\d_]{1,3}\.?)"
_NAMED = re.compile(
    r"\b(?i:on|onto|along|off)\s+"
    rf"(?P<v>{_TOKEN}(?:[ \t]+(?:{_TOKEN}|[^\W\d_][\w'’-]*)){{0,4}}?)"
    r"[ \t]+(?P<s>[Ss]treet|STREET|[Ss]t\.)(?!\w)"
)


def _names_street(value: str) -> bool:
    """A name with a capitalized or numbered word, no stop word and not only everyday words."""
    lex = lexicons()
    words = [w.strip(".") for w in value.split()]
    if not any(w[:1].isupper() or w[:1].isdigit() for w in words if w):
        return False
    if any(w.lower() in stop_words() for w in words):
        return False
    return not all(lex.is_common_word(w) or w.isdigit() for w in words)


@register
class NamedStreetRecognizer(GazetteerRecognizer):
    """A name followed by the word "street" after "on / onto / along / off": 0.55, the word
    "street" included."""

    name = "street_named"
    labels = frozenset({"street_address"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Named streets (see the module docstring)."""
        lower = text.lower()
        if "street" not in lower and "st." not in lower:
            return []
        out: list[Entity] = []
        for m in _NAMED.finditer(text):
            if _names_street(m.group("v")):
                out.append(Entity(m.start("v"), m.end("s"), "street_address", 0.55))
        return out
