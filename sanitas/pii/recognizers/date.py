"""Calendar dates and dates of birth."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.recognizers.pattern import CONTEXT_WINDOW, context_pattern, has_context
from sanitas.pii.registry import register

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?)?"
_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    # ISO and numeric day/month/year forms, optionally with a time.
    (re.compile(rf"(?<![\d/.-])\d{{4}}-\d{{1,2}}-\d{{1,2}}{_TIME}(?![\d/-])"), 0.6),
    (re.compile(r"(?<![\d/.-])\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})(?![\d/-]|\.\d)"), 0.55),
    # "March 5, 1990", "5 March 1990", "March 1990", "5th of March"
    (re.compile(rf"(?i)\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"), 0.6),
    (re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}\b"), 0.55),
    (re.compile(rf"(?i)\b{_MONTH}\s+\d{{4}}\b"), 0.4),
    # Without a year a day and month still date an event of someone's life (HIPAA counts every date
    # element but the year as an identifier): "March 3rd", "3 March", "7/22".
    (re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!\w)"), 0.4),
    (re.compile(rf"(?i)\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"), 0.4),
    (re.compile(r"(?<![\d/.,-])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/]|\.\d|,\d)"), 0.4),
    # A weekday alone identifies no one ("since Friday"); with a part of the day it is a dated event.
    (re.compile(rf"\b(?i:{_DAY})(?= (?:morning|afternoon|evening|night)\b)"), 0.35),
    (re.compile(rf"(?i)\b{_DAY}\b"), 0.2),
    # A bare year only counts next to a date preposition or verb ("in 1990", "since 1985") or as the
    # adjective of a work or event ("a 1974 German film").
    (
        re.compile(
            r"(?i)\b(?:in|since|during|of|from|until|year|born|founded|circa|a|an|the)\s+"
            r"(?P<v>(?:1[89]|20)\d{2})\b(?![.,]?\d|\s*(?:%|percent|euros?|dollars?|pounds?|units?|items?))"
        ),
        0.35,
    ),
)
_DIGIT = re.compile(r"\d")
_NUMERIC_HINT = re.compile(r"\d[/.-]\d")
_YEAR_HINT = re.compile(r"(?:1[89]|20)\d\d")
# "\b" then a three-letter month, written as the month then "no word character before its first letter"
# so that the scan opens on literals (which the regex engine skips to) rather than on an assertion.
_MONTH_HINT = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?<!\w[\s\S]{3})")
_DOB = ("born", "birth", "dob", "d.o.b", "birthday", "b.")
# Dates that belong to a document or transaction rather than to a person.
_NOT_PERSONAL = (
    "dated",
    "invoice",
    "reference",
    "order",
    "transaction",
    "statement",
    "due",
    "expires",
    "expiry",
    "valid until",
    "deadline",
)


def _birth_cue_before(text: str, start: int, dates: list[tuple[int, int]]) -> bool:
    """Whether a birth word heads the date at ``start``: the nearest one before it, with no other date
    (of ``dates``) between the two.

    On a form or a note the word labels the date after it, not every later date of the line: in
    "DOB: 3/14/62 MRN 99321 ADM 7/22" only 3/14/62 is the birth date, while in "born at 23:15 on
    03/14/2024" the time between does not take the cue away.
    """
    cue = birth_cue_span(text, start)
    return cue is not None and not any(cue[1] <= a and b <= start for a, b in dates)


def birth_cue_span(text: str, start: int) -> tuple[int, int] | None:
    """Where the nearest birth word ("DOB", "born", "birth") before ``start`` lies, within the context
    window, if one does."""
    lo = max(0, start - CONTEXT_WINDOW)
    # lowercased a character at a time where one lowercases to two ("İ"): offsets must stay the text's
    window = text[lo:start]
    low = window.lower()
    if len(low) != len(window):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in window)
    cues = list(context_pattern(_DOB).finditer(low))
    return None if not cues else (lo + cues[-1].start(), lo + cues[-1].end())


def _fraction(top: int, bottom: int) -> bool:
    """ "1/2", "3/4", "5/8": a proper fraction with a common denominator reads as a quantity, not a date."""
    return top < bottom and bottom in (2, 3, 4, 8, 16)


@register
class DateRecognizer(Recognizer):
    """Absolute dates (not "next week"); near birth words they become date_of_birth."""

    name = "date"
    labels = frozenset({"date", "date_of_birth"})

    def find(self, text: str) -> list[Entity]:
        """Match date shapes; birth context relabels, document context lowers the score."""
        out: list[Entity] = []
        # Which pattern families can match at all: numeric forms need a digit next to a separator,
        # the month forms a month name and a digit ("March" alone is no date here), the weekday forms
        # a weekday name, a bare year its four digits (names checked on the lowercased text, at C
        # speed). No pre-scan for "a digit or a month or day name" first: every pattern needs one of
        # them, so such a scan only decided what these gates decide, at the cost of a case-folding
        # alternation tried at every position of the texts that hold no date.
        # "ſ" (long s) matches "s" under the patterns' (?i) but survives lower(): fold it too (same
        # length, so the gates see what the patterns see)
        lower = text.lower().replace("ſ", "s")
        digit = _DIGIT.search(text) is not None
        numeric = digit and _NUMERIC_HINT.search(text) is not None
        month = digit and _MONTH_HINT.search(lower) is not None
        weekday = "day" in lower
        year = digit and _YEAR_HINT.search(text) is not None
        gates = (numeric, numeric, month, month, month, month, month, numeric, weekday, weekday, year)
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, int, float]] = []
        for (pattern, base), gate in zip(_PATTERNS, gates, strict=True):
            if not gate:
                continue
            for m in pattern.finditer(text):
                start, end = m.span("v") if "v" in pattern.groupindex else m.span()
                if "d" in pattern.groupindex and _fraction(int(m["m"]), int(m["d"])):
                    continue
                if any(start < b and end > a for a, b in taken):
                    continue
                taken.append((start, end))
                found.append((start, end, base))
        # Labelled once every date is known: a birth word belongs to the first date after it.
        for start, end, base in found:
            label, score = "date", base
            if base == 0.35 and text[start:end].islower():
                score = 0.2
            if _birth_cue_before(text, start, taken):
                label, score = "date_of_birth", min(1.0, base + 0.35)
            elif has_context(text, start, end, _NOT_PERSONAL, after=0):
                score = base * 0.4
            out.append(Entity(start, end, label, score))
        return out
