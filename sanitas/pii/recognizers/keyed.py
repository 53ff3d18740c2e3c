"""A value introduced by a key phrase ("passport no. X", "password: X"), the shape of most identifiers."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer, contains_any

# A document or record number: letters, digits and dashes, 6-20 characters.
ID_PATTERN = r"[A-Z0-9][A-Z0-9-]{4,18}[A-Z0-9]"


# Between a key and its value: prose or a form ("is", ":", "=", "#"), the quotes of JSON or a
# dict ('"mrn": "A-00912"'), or the cell tags of an HTML table ("<td>Account</td><td>0012 ...").
_SEPARATOR = (
    r"(?:(?:\s*</?[A-Za-z][^<>]{0,40}>){1,4}\s*"
    r"|\s*[\"']?\s*(?i:is|was|:|=>|=|#|-)?\s*[\"']?\s*)"
)


_KEY_SUFFIX = r"(?:[\s_-]*(?:number|num|nr\.?|no\.?|#|id))?"


# A short aside between a key and its separator: "Tax ID (EIN):", "Driver's License (CA):".
_ASIDE = r"(?:[ \t]*\([^()\n]{1,16}\))?"


# A key phrase that ends on a letter after plain space, other than the words "is" and "was": no
# separator stands between the key and its value.
_NO_SEPARATOR = re.compile(r"(?<![^\W\d_])(?!(?i:is|was)\s*\Z)[^\W\d_]+\s+\Z")


def key_phrase(keys: str) -> str:
    """A key and its "number"/"no."/"#" in any case ("PASSPORT NO", "Account Number"), an aside in
    brackets, then the separator; a letter right after the key means it was only a word's prefix ("tin"
    in "tinted")."""
    return rf"(?i:\b(?:{keys}){_KEY_SUFFIX})(?![^\W\d_]){_ASIDE}{_SEPARATOR}"


@lru_cache(maxsize=1)
def _any_key_before() -> re.Pattern[str]:
    from sanitas.pii.registry import REGISTRY

    keys = "|".join(c.keys for c in REGISTRY.values() if issubclass(c, KeyedValueRecognizer))
    return re.compile(key_phrase(keys) + r"\Z")


def key_before(text: str, start: int) -> bool:
    """Whether the value at ``start`` is introduced by a keyed recognizer's key ("NHS number: ...").

    Such a value is that identifier, whatever its shape says: other recognizers (phone numbers read
    "number" as their context word) ask this before claiming it. The keys come from the registry.
    """
    return _any_key_before().search(text, max(0, start - 64), start) is not None


def key_span(text: str, start: int) -> tuple[int, int] | None:
    """Where the keyed recognizer's key that introduces the value at ``start`` lies, if one does
    ("NHS number: " before "943 476 5919")."""
    m = _any_key_before().search(text, max(0, start - 64), start)
    return None if m is None else (m.start(), m.end())


def has_digits(value: str, n: int = 4) -> bool:
    """Whether ``value`` holds at least ``n`` digits."""
    return sum(map(str.isdigit, value)) >= n


class KeyedValueRecognizer(Recognizer):
    """Finds ``<key phrase> [is|:|#|=] <value>``; ``value_pattern`` must match the whole value.

    The key phrase is the evidence, so the score is high when it is present; ``bare_patterns`` (with
    their own scores) catch values whose shape alone is telling.
    """

    label: ClassVar[str]
    keys: ClassVar[str]
    value_pattern: ClassVar[str]
    score: ClassVar[float] = 0.8
    bare_patterns: ClassVar[tuple[tuple[re.Pattern[str], float], ...]] = ()
    # Lowercase substrings one of which every key phrase contains: a cheap test before the regex.
    triggers: ClassVar[tuple[str, ...]] = ()
    # A cheap necessary condition of every bare pattern (one scan that opens on a character class,
    # which the regex engine skips to at C speed, instead of one scan per pattern).
    bare_hint: ClassVar[re.Pattern[str] | None] = None
    # Keys that are also everyday words ("handle", "login"): a value of letters only right after
    # such a key with no separator is the prose going on ("Will you handle EUR?"), not a field.
    words_need_separator: ClassVar[bool] = False
    _compiled: ClassVar[re.Pattern[str] | None] = None

    @classmethod
    def _keyed(cls) -> re.Pattern[str]:
        if cls.__dict__.get("_compiled") is None:
            # The value's own pattern keeps its case.
            cls._compiled = re.compile(key_phrase(cls.keys) + rf"(?P<v>{cls.value_pattern})(?![\w-])")
        assert cls._compiled is not None
        return cls._compiled

    def validate(self, value: str) -> bool:
        """Extra check of a candidate value (checksums); True by default."""
        return True

    def find(self, text: str) -> list[Entity]:
        """Keyed values at ``score``, then bare shapes at theirs."""
        out: list[Entity] = []
        for m in self._keyed().finditer(text) if contains_any(text.lower(), self.triggers) else ():
            value = m.group("v").rstrip(".,;:)'\"")
            if (
                self.words_need_separator
                and value.isalpha()
                and _NO_SEPARATOR.search(m.group(0)[: m.start("v") - m.start()])
            ):
                continue
            if value and self.validate(value):
                out.append(Entity(m.start("v"), m.start("v") + len(value), self.label, self.score))
        bare = self.bare_patterns if self.bare_hint is None or self.bare_hint.search(text) else ()
        for pattern, score in bare:
            for m in pattern.finditer(text):
                if self.validate(m.group(0)):
                    out.append(Entity(m.start(), m.end(), self.label, score))
        return out
