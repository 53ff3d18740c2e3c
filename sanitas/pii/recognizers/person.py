"""Names introduced by a cue ("my name is", "Regards,", "Dr.", "Call ... at")."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer, without_next_key
from sanitas.pii.registry import register

# Name tokens are joined by one or two spaces: a line break ends a name ("My name is Tavrik\nWhat ..."), and
# so does a tab or a run of three spaces, the gap between a form's fields ("Mrs. Alvarez   Phone: ...").
_NAME = re.compile(
    r"[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?"
    r"(?P<v>[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+(?:[ ]{1,2}(?:[A-Z]\.|[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’-]+)){0,3}"
    r"(?:,?[ \t]+(?:MD|DVM|DDS|PhD|Jr\.?|Sr\.?|II|III|IV|Esq\.?))?)"
)
# After a greeting the name ends the clause: "Hi Ladolfo, ...", "call me Lorencz".
_GREETING_END = re.compile(r"\s*(?:[,.!?;:]|$|\\n)")
# Cues after which a capitalized phrase is almost always a name.
_STRONG = (
    "my name is",
    "name is",
    "name:",
    "names are",
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
# A salutation or a sign-off also opens on a role ("Dear Customer", "Regards, Support Team", "Dear Hiring
# Manager"): there a phrase of dictionary words none of which anyone is called is no name. ("My name is"
# and a form's "Name:" stay strong whatever follows: "Hope" or "Will" there is a name.)
_SALUTATIONS = frozenset(("dear", "regards,", "sincerely,", "best,", "cheers,", "signed"))
# Cues that also precede other things ("this is urgent", "call the bank"): the name must be known.
_WEAK = ("this is", "i am", "i'm", "call", "contact", "ask for", "speak to", "talk to")
# Greetings and "call me": the next capitalized word is a name unless it is an everyday word ("Hi Team").
# "what is your family name? Quistorp" answers a question about a name the same way.
_GREETING = ("hi", "hello", "hey", "call me", "thanks", "thank you", "goodbye", "bye", "name?")


_KIND = {
    **dict.fromkeys(_GREETING, "greeting"),
    **dict.fromkeys(_WEAK, "weak"),
    **dict.fromkeys(_STRONG, "strong"),
    **dict.fromkeys(_SALUTATIONS, "salutation"),
}
# Every cue in one alternation, longest first, starting on a word boundary: one scan per text.
_CUES = re.compile(
    r"(?<![^\W_])(?:" + "|".join(re.escape(c) for c in sorted(_KIND, key=len, reverse=True)) + ")"
)
_SCORE = {"strong": 0.6, "salutation": 0.6, "weak": 0.35, "greeting": 0.5}
# The titles among the strong cues: after another cue ("thanks Dr. K") a title opens the name, it is not
# one (its own cue reads what follows it).
_TITLES = frozenset(c.rstrip(".") for c in _STRONG if c.replace(".", "").isalpha())
_UNIT_WORDS = frozenset(("apt", "apartment", "suite", "ste", "unit", "flat", "room"))


def _cue_ends(lower: str) -> list[tuple[int, str]]:
    """End offsets and kinds of the cues in ``lower`` that end on a word boundary."""
    out = []
    for m in _CUES.finditer(lower):
        end = m.end()
        if m.group(0)[-1] in ".,:?" or end == len(lower) or not lower[end].isalnum():
            out.append((end, _KIND[m.group(0)]))
    return out


@register
class PersonCueRecognizer(GazetteerRecognizer):
    """Strong cue: 0.6 (+0.25 when a token is a known name); greeting: 0.5 (+0.25), for a word that is
    no everyday one and ends the clause; weak cue: 0.6 only for known names."""

    name = "person_cue"
    labels = frozenset({"person", "first_name", "last_name"})

    def find(self, text: str) -> list[Entity]:
        """Names after introduction cues."""
        lower = text.lower()
        lex = lexicons()
        out: list[Entity] = []
        for pos, kind in _cue_ends(lower):
            m = _NAME.match(text, pos)
            if m is None:
                continue
            start, end = m.span("v")
            end = without_next_key(text, start, end)
            tokens = text[start:end].split()
            if len(tokens) > 1 and tokens[-1].rstrip(".").lower() in _UNIT_WORDS:
                # "Mrs. Vera Lind Apt. 4 ...": the address unit after the name is not part of it.
                tokens = tokens[:-1]
                end = start + text[start:end].rindex(tokens[-1]) + len(tokens[-1])
            if not any(map(str.islower, text)):
                # All capitals: case no longer ends the name ("DR OKONKWO AT ST ..."), so past the first
                # word only known names extend it.
                keep = 1
                while keep < len(tokens) and lex.is_name_token(tokens[keep]):
                    keep += 1
                tokens = tokens[:keep]
                end = start + text[start:end].index(tokens[-1], sum(map(len, tokens[:-1]))) + len(tokens[-1])
            if tokens[0].rstrip(".").lower() in _TITLES:
                continue
            known = [lex.is_name_token(t) for t in tokens]
            if kind == "weak" and (not known[0] or tokens[0].lower() in lex.coarse_places):
                continue
            if kind == "salutation" and _a_role(tokens):
                continue
            if kind == "greeting" and (
                lex.is_common_word(tokens[0]) or tokens[0].isupper() or not _GREETING_END.match(text, end)
            ):
                continue
            score = _SCORE[kind] + (0.25 if any(known) else 0.0)
            out.append(Entity(start, end, "person", min(score, 0.95)))
        return out


def _a_role(tokens: list[str]) -> bool:
    """Dictionary words none of which is a listed given or family name ("Valued Customer"): a role.
    The name lists are read as they are, without the everyday words ``is_name_token`` sets aside, so
    "Dear Grace" stays a name."""
    lex = lexicons()
    return all(lex.is_english_word(t) for t in tokens) and not any(lex.is_listed_name(t) for t in tokens)
