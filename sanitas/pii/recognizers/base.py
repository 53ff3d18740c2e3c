"""The recognizer plugin surface: a class with a ``name``, the labels it emits and ``find``."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar

from sanitas.pii.entities import Entity


class Recognizer(ABC):
    """Finds spans of some pii_types in one text; scores are raw and calibrated later by the engine."""

    name: ClassVar[str]
    labels: ClassVar[frozenset[str]]
    # "heuristics" recognizers run in the heuristics method; "model" ones only inside aimon_pii_m1.
    kind: ClassVar[str] = "heuristics"
    # True when every match contains a digit: the engine skips the recognizer on digit-free texts.
    needs_digit: ClassVar[bool] = False

    def setup(self) -> None:  # noqa: B027  (optional hook, empty on purpose)
        """Load or compile what ``find`` needs, once, before the first batch (optional)."""

    @abstractmethod
    def find(self, text: str) -> list[Entity]:
        """Return candidate spans (offsets into ``text``) with raw scores in [0, 1]."""


class GazetteerRecognizer(Recognizer):
    """A recognizer that reads the name, place and word gazetteers (``sanitas.pii.lexicons``)."""

    def setup(self) -> None:
        """Build the gazetteers before the first text (once per process)."""
        from sanitas.pii.lexicons import lexicons

        lexicons()


Hint = re.Pattern[str] | tuple[str, ...]


def contains_any(text: str, parts: Iterable[str]) -> bool:
    """Whether any of ``parts`` occurs in ``text``.

    A plain loop rather than ``any()`` over a generator: it runs for every text and recognizer, and the
    generator costs more than the substring tests themselves.
    """
    for part in parts:
        if part in text:
            return True
    return False


def drop_trailing_words(text: str, start: int, end: int, drop: Callable[[str], bool]) -> int:
    """The end of ``text[start:end]`` without its trailing space-separated words for which ``drop`` is
    true (spaces and commas before them go too); the first word always stays."""
    while True:
        cut = text.rfind(" ", start, end)
        if cut <= start or not drop(text[cut + 1 : end]):
            return end
        end = cut
        while end > start and text[end - 1] in " \t,":
            end -= 1


_KEY_AFTER = re.compile(r"[ \t]*:")


def without_next_key(text: str, start: int, end: int, *, dictionary: bool = True) -> int:
    """The end of a name run ``text[start:end]`` without the next form field's key it ran into.

    In "First Name: Olivia Last Name: Brennan" a run of capitalized words reads "Olivia Last Name": before
    a colon, its trailing words that are dictionary words and no known name are the next key, and so is
    a short word in capitals that no name list holds after a name written in mixed case ("Grace Okafor
    DOB: 3/4/1990"; in "JOHN DOE:" case tells nothing). At least one word stays. ``dictionary=False``
    keeps the dictionary words (a model's span: its reading of the context outweighs a word list, and
    family names such as "Lovelace" are dictionary words too).
    """
    if not _KEY_AFTER.match(text, end):
        return end
    from sanitas.pii.lexicons import lexicons

    lex = lexicons()
    mixed_case = any(c.islower() for c in text[start:end])

    def is_key(word: str) -> bool:
        if word.isupper() and len(word) <= 5:
            return mixed_case and not lex.is_listed_name(word)
        return dictionary and lex.is_english_word(word) and not lex.is_name_token(word)

    return drop_trailing_words(text, start, end, is_key)


def hinted_matches(
    text: str, patterns: Iterable[tuple[re.Pattern[str], Hint]]
) -> Iterator[tuple[re.Pattern[str], re.Match[str]]]:
    """Each ``(pattern, match)`` in ``text``, trying a pattern only when its cheap hint is there.

    A hint is a necessary condition of the pattern: a small regex, or substrings one of which must occur.
    Most texts fail every hint, which spares them the costlier patterns that open on a capital.
    """
    for pattern, hint in patterns:
        present = hint.search(text) is not None if isinstance(hint, re.Pattern) else contains_any(text, hint)
        if present:
            for m in pattern.finditer(text):
                yield pattern, m
