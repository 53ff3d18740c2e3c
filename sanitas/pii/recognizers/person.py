"""Names introduced by a cue ("my name is", "Regards,", "Dr.", "Call ... at")."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.registry import register

# Name tokens are joined by spaces only: a line break ends a name ("My name is Rubija\nWhat ...").
_NAME = re.compile(
    r"[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?"
    r"(?P<v>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ \t]+(?:[A-Z]\.|[A-ZÀ-ÖØ-Þ][\w'’-]+)){0,3}"
    r"(?:,?[ \t]+(?:MD|DVM|DDS|PhD|Jr\.?|Sr\.?|II|III|IV|Esq\.?))?)"
)
# Cues after which a capitalized phrase is almost always a name.
_STRONG = (
    "my name is",
    "name is",
    "name:",
    "names are",
    "regards,",
    "sincerely,",
    "best,",
    "cheers,",
    "signed",
    "dear",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
)
# Cues that also precede other things ("this is urgent", "call the bank"): the name must be known.
_WEAK = ("this is", "i am", "i'm", "call", "contact", "ask for", "speak to", "talk to")


def _cue_ends(lower: str, cue: str) -> list[int]:
    """End offsets of ``cue`` occurrences that start on a word boundary (str.find: C speed)."""
    out = []
    i = lower.find(cue)
    while i >= 0:
        if i == 0 or not lower[i - 1].isalnum():
            end = i + len(cue)
            if cue[-1] in ".,:" or end == len(lower) or not lower[end].isalnum():
                out.append(end)
        i = lower.find(cue, i + 1)
    return out


@register
class PersonCueRecognizer(Recognizer):
    """Strong cue: 0.6 (+0.25 when a token is a known name); weak cue: 0.6 only for known names."""

    name = "person_cue"
    labels = frozenset({"person", "first_name", "last_name"})

    def setup(self) -> None:
        """Build the name gazetteer before the first text."""
        lexicons()

    def find(self, text: str) -> list[Entity]:
        """Names after introduction cues."""
        lower = text.lower()
        lex = lexicons()
        out: list[Entity] = []
        for cues, strong in ((_STRONG, True), (_WEAK, False)):
            for cue in cues:
                for pos in _cue_ends(lower, cue):
                    m = _NAME.match(text, pos)
                    if m is None:
                        continue
                    start, end = m.span("v")
                    tokens = text[start:end].split()
                    known = [lex.is_name_token(t) for t in tokens]
                    if not strong and (not known[0] or tokens[0].lower() in lex.coarse_places):
                        continue
                    score = (0.6 if strong else 0.35) + (0.25 if any(known) else 0.0)
                    out.append(Entity(start, end, "person", min(score, 0.95)))
        return out
