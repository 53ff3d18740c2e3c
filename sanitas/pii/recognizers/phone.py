"""Phone numbers: a permissive digit-group pattern confirmed by ``phonenumbers`` and context words."""

from __future__ import annotations

import re

import phonenumbers

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.recognizers.keyed import key_before
from sanitas.pii.recognizers.pattern import has_context
from sanitas.pii.registry import register
from sanitas.pii.validators import digits

# Separators are spaces, tabs, dots or dashes: a number never runs over a line break.
_CANDIDATE = re.compile(
    # A comma right before is a thousands separator only after a digit ("1,2345678" is no phone).
    r"(?<![\w+/.#£$€-])(?<!\d,)"
    r"(?:\+\d{1,3}[ \t.-]?|00\d{1,2}[ \t.-])?"
    r"(?:\(\d{1,5}\)[ \t.-]?|\(0\)[ \t]?)?"
    r"\d{1,15}(?:(?:[ \t.-]|\)[ \t]?)\(?\d{1,12}\)?){0,6}"
    r"(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?"
    r"(?![\w/]|[.,-]\d)"
)
_CONTEXT = (
    "phone",
    "telephone",
    "phones",
    "call",
    "tel",
    "mobile",
    "cell",
    "fax",
    "desk",
    "reach me",
    "contact",
    "text me",
    "number",
    "dial",
    "whatsapp",
    "office",
    "registered",
    "messages to",
    "sms",
)
_REGIONS = ("US", "GB")
_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,3}\d){6}")
# Shapes that belong to other types (SSN, ISO date) and must not be read as phone numbers.
# A span of years ("2019-2021", "1998 - 2004") is no phone number either.
_NOT_PHONE = re.compile(
    r"^\d{3}-\d{2}-\d{4}$|^\d{4}-\d{2}-\d{2}|^\d{1,3}(?:\.\d{1,3}){3}$|^(?:1[89]|20)\d\d\s?[-–/]\s?(?:1[89]|20)\d\d$"
)
_STREET_AFTER = re.compile(r"\s+[A-ZÀ-Ž][a-zà-ž]")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d")
_SEPARATOR = re.compile(r"[\s.()-]")
# Parentheses in a phone number close around an area code or trunk prefix: digits only ("(555)",
# "(0)"). One that opens on a decimal ("(0.25 mM"), a range ("(56-100)") or never closes starts an
# aside after the number, a statistic in a results section, not a part of it.
_PAREN = re.compile(r"\((\d*)(\))?")
# Two digit groups joined by a dash: "1200-1800", "0800-1400".
_TWO_GROUPS = re.compile(r"(\d+)[ \t]?-[ \t]?(\d+)")
# A time of day in four digits ("0830", "1745"), as schedules and results sections write hours.
_CLOCK = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")


def _cut_aside(value: str) -> str:
    """``value`` up to its first parenthesis that does not enclose digits alone."""
    for m in _PAREN.finditer(value):
        if not m.group(1) or not m.group(2):
            return value[: m.start()].rstrip(" \t.-")
    return value


def _is_range(value: str) -> bool:
    """A numeric range "a-b": a bound below a bound of about the same size (a number of digits
    equal or one more), as results report them ("1200-1800 hours", "range 1500-5320 g"). A lower
    bound with a leading zero reads as a trunk prefix ("0412-3456") unless both bounds are times of
    day ("0800-1400"). A local number of two groups is sometimes written so too: only the phone words
    nearby tell it apart, and the caller asks for them first."""
    m = _TWO_GROUPS.fullmatch(value)
    if m is None:
        return False
    low, high = m.group(1), m.group(2)
    if low.startswith("0") and not (_CLOCK.fullmatch(low) and _CLOCK.fullmatch(high)):
        return False
    return int(low) < int(high) and len(high) - len(low) <= 1


@register
class PhoneRecognizer(Recognizer):
    """Scores: libphonenumber-valid 0.7, phone-shaped 0.4, bare digit run 0.1; +0.35 with context.
    A numeric range without a phone word near is none; an aside in parentheses is cut off."""

    needs_digit = True
    name = "phone_number"
    labels = frozenset({"phone_number"})

    def _score(self, value: str) -> float:
        core = _EXTENSION.split(value)[0]
        ds = digits(core)
        if not 7 <= len(ds) <= 15 or len(set(ds)) == 1:
            return 0.0
        separated = bool(_SEPARATOR.search(core.strip()))
        core = core.strip()
        if core.startswith("00"):
            core = "+" + core[2:]
        plus = core.startswith("+")
        regions = (None,) if plus else _REGIONS
        for region in regions:
            try:
                num = phonenumbers.parse(core, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(num):
                return 0.7 if separated or plus or len(ds) == 10 else 0.45
        if separated and len(ds) >= 9:
            return 0.4
        if separated and len(ds) >= 8:
            return 0.3
        return 0.1 if separated else 0.05

    def find(self, text: str) -> list[Entity]:
        """Candidate digit runs, scored by validity, shape and nearby phone words."""
        if not _SEVEN_DIGITS.search(text):
            return []
        out = []
        for m in _CANDIDATE.finditer(text):
            start, end = m.span()
            value = text[start:end].rstrip(" .-")
            if value.endswith(")") and value.count(")") > value.count("("):
                value = value[:-1]
            value = _cut_aside(value)
            end = start + len(value)
            if _NOT_PHONE.search(value) or text[end : end + 1] == ":" or key_before(text, start):
                continue
            score = self._score(value)
            if _STREET_AFTER.match(text, end):
                # "62573 103 Cassidy Street": a house number before a street name, not a phone.
                score *= 0.5
            if score <= 0:
                continue
            if has_context(text, start, end, _CONTEXT, after=24):
                score = min(1.0, score + 0.35)
            elif _is_range(value):
                continue
            out.append(Entity(start, end, "phone_number", score))
        return out
