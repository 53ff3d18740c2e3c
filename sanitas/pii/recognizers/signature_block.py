"""Signature and letterhead blocks: the short lines above a postal address name a person and a firm.

A block such as "Halvard Tallqvist / Radiographer / Brindlecove / 214 6 Larkspur Close" sets one
field per line. NER sees each line without a sentence around it and misses most of them; the block's
layout says what they are. Above an address line, a line shaped like a name is a person, a line that
reads as a job title (its last word the head of a job title in Faker's English job lists) is left
alone, and any other short capitalized line is the organization.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import DEGREES, Lexicons, lexicons
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.recognizers.org_shape import looks_like_person, name_shaped
from sanitas.pii.registry import register

_BREAK = re.compile(r"\r?\n|\\n")
# Indentation, quote markers and bullets before a line's text ("> ", "??? ", "}} ").
_PREFIX = re.compile(r"[ \t]*(?:[>?|}*•·][ \t]*){0,3}")
# A line that opens a postal address: a house or postal number and a word, a box, a street corner.
_ADDRESS_LINE = re.compile(
    r"(?:\d{1,6}[A-Za-z]?(?:[ \t]+\d{1,6}[A-Za-z]?)?[ \t]+(?P<w>[^\W\d_][\w.]*)|"
    r"(?i:psc|unit|cmr|usns|uss|usnv|uscgc|p\.?\s?o\.?\s+box|the corner of)\b)"
)
# A field that is no name or firm: a label, an e-mail, a link. Digits and slashes may be part of a
# firm's name ("KORVATH LTD RX7", "VELMAR A/S ADR"), never of a person's.
_CAPITAL = re.compile(r"[^\W\d_a-zß-ÿ]")
_NOT_FIELD = re.compile(r"[:@]|https?|www\.")
_NOT_NAME = re.compile(r"[:@/\d]")
_WORD = re.compile(r"[^\W\d_][\w'’.&-]*")
_MAX_ABOVE = 4
# A personal title opening a line ("Dr. Amara Nwosu-Bello, PhD"): a title names a person, never a firm.
_PERSON_TITLE = re.compile(r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?[ \t]+(?=[^\W\d_])")
_AND = re.compile(r"[ \t]+(?:and|&)[ \t]+")
# A degree or suffix after a name: not part of it (on a signature line "DO" is the osteopath's degree).
_DEGREE = re.compile(rf",?[ \t]+(?:{DEGREES}|DO|Jr\.?|Sr\.?)\Z")


@lru_cache(maxsize=1)
def job_heads() -> frozenset[str]:
    """Last words of the job titles in Faker's English locales ("manager", "installer", "nurse")."""
    import faker.providers.job as job

    out: set[str] = set()
    for info in pkgutil.iter_modules(job.__path__):
        if not info.name.startswith("en"):
            continue
        try:
            provider = importlib.import_module(f"{job.__name__}.{info.name}").Provider
        except Exception:  # noqa: BLE001  (a broken locale module must not stop detection)
            continue
        for title in getattr(provider, "jobs", ()):
            words = re.findall(r"[^\W\d_]+", title.split(",")[0].split("(")[0])
            if words:
                out.add(words[-1].lower())
    return frozenset(out)


def line_spans(text: str) -> list[tuple[int, int]]:
    """Every line's text span, without its prefix and trailing spaces or commas."""
    out = []
    pos = 0
    for m in [*_BREAK.finditer(text), None]:
        stop = m.start() if m else len(text)
        start = _PREFIX.match(text, pos, stop)
        a = start.end() if start else pos
        b = stop
        while b > a and text[b - 1] in " \t,":
            b -= 1
        out.append((a, b))
        if m is not None:
            pos = m.end()
    return out


def _title_case(line: str) -> str:
    """Lowercase blocks ("aksel kristensen") are judged by the same shape, capitalized (same length)."""
    if any(c.isupper() for c in line):
        return line
    shaped = " ".join(w[:1].upper() + w[1:] for w in line.split(" "))
    return shaped if len(shaped) == len(line) else line


def is_job_title(line: str) -> bool:
    """ "Employment manager", "sewer pipe cleaner": a short line ending in a job title's head word, or
    in sentence case and made of dictionary words (a firm's name is capitalized word by word)."""
    words = _WORD.findall(line)
    if not 0 < len(words) <= 5 or _NOT_FIELD.search(line):
        return False
    if words[-1].lower() in job_heads():
        return True
    lex = lexicons()
    return all(w.islower() for w in words[1:]) and all(
        lex.is_english_word(w) and not lex.is_name_token(w) for w in words
    )


def _classify(lex: Lexicons, line: str, *, top: bool) -> tuple[str, float] | None:
    """A field above an address as ("person" | "organization", score), or None (a job title, a label).
    The topmost field of a block is a person when it is merely shaped like a name ("Zolvan Aritzeta")."""
    words = _WORD.findall(line)
    if not words or len(words) > 6 or _NOT_FIELD.search(line):
        return None
    shaped = _title_case(line)
    if not _NOT_NAME.search(line):
        if _PERSON_TITLE.match(line) or looks_like_person(lex, shaped, 0, len(shaped)):
            return "person", 0.6
        if top and 2 <= len(words) <= 4 and name_shaped(lex, shaped.split()):
            return "person", 0.55
    if is_job_title(line):
        return None
    if not any(w[:1].isupper() for w in words) and any(c.isupper() for c in line):
        return None
    return "organization", 0.5


def _couple(lex: Lexicons, text: str, s: int, e: int) -> list[Entity]:
    """ "Kwame and Abena Mensah" above an address: two people, the second with the family name. A firm
    named after two people keeps one word on the right ("Procter & Gamble", "Ben & Jerry's")."""
    m = _AND.search(text, s, e)
    if m is None:
        return []
    left = _title_case(text[s : m.start()]).split()
    right = _title_case(text[m.end() : e]).split()
    if len(right) < 2 or not name_shaped(lex, left) or not name_shaped(lex, right):
        return []
    return [Entity(s, m.start(), "person", 0.55), Entity(m.end(), e, "person", 0.6)]


def _name_part(text: str, s: int, e: int) -> tuple[int, int]:
    """A person's line without its title and degree ("Dr. Amara Nwosu-Bello, PhD" -> the name)."""
    title = _PERSON_TITLE.match(text, s, e)
    if title is not None:
        s = title.end()
    degree = _DEGREE.search(text, s, e)
    if degree is not None and degree.start() > s:
        e = degree.start()
    return s, e


def _opens_address(lex: Lexicons, text: str, a: int, b: int, *, cased: bool) -> bool:
    """Whether line ``text[a:b]`` opens a postal address. After the number, a cased text must show a
    capitalized name or a street word ("770 26 rue des ..."): "3 cards were lost" opens none."""
    m = _ADDRESS_LINE.match(text, a, b)
    if m is None or m.group("w") is None or not cased:
        return m is not None
    word = m.group("w")
    return word[0].isupper() or word.lower() in lex.street_words


def _name_over_title(lex: Lexicons, text: str, lines: list[tuple[int, int]]) -> list[Entity]:
    """ "Ingmar Saltvedt / Night shift bakery worker": a name-shaped line right above a job title."""
    out = []
    filled = [(a, b) for a, b in lines if b > a]
    for (a, b), (c, d) in zip(filled, filled[1:], strict=False):
        if is_job_title(text[c:d]) and not is_job_title(text[a:b]):
            shaped = _title_case(text[a:b])
            words = shaped.split()
            if not _NOT_NAME.search(shaped) and 2 <= len(words) <= 4 and name_shaped(lex, words):
                out.append(Entity(a, b, "person", 0.55))
    return out


@register
class SignatureBlockRecognizer(Recognizer):
    """Name lines (0.6) and firm lines (0.5) in the up to four lines above a postal address."""

    name = "signature_block"
    labels = frozenset({"person", "first_name", "last_name", "organization"})
    kind = "model"

    def setup(self) -> None:
        """Load the job-title heads and gazetteers before the first text."""
        job_heads()
        lexicons()

    def find(self, text: str) -> list[Entity]:
        """Fields above each address line of a multi-line text."""
        if "\n" not in text and "\\n" not in text:
            return []
        lex = lexicons()
        lines = line_spans(text)
        out: list[Entity] = _name_over_title(lex, text, lines)
        taken: set[int] = set()
        cased = _CAPITAL.search(text) is not None
        for k, (a, b) in enumerate(lines):
            if k == 0 or not _opens_address(lex, text, a, b, cased=cased):
                continue
            above: list[int] = []
            for j in range(k - 1, -1, -1):
                s, e = lines[j]
                if j in taken or len(above) == _MAX_ABOVE or _ADDRESS_LINE.match(text, s, e):
                    break
                if e > s:
                    above.append(j)
            taken.update(above)
            people: set[str] = set()
            for j in reversed(above):
                s, e = lines[j]
                couple = _couple(lex, text, s, e)
                if couple:
                    out.extend(couple)
                    continue
                kind = _classify(lex, text[s:e], top=j == above[-1])
                if kind is not None and text[s:e] in people:
                    kind = ("person", 0.6)
                if kind is not None:
                    if kind[0] == "person":
                        people.add(text[s:e])
                        s, e = _name_part(text, s, e)
                    out.append(Entity(s, e, kind[0], kind[1]))
        return out
