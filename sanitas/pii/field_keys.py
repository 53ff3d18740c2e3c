"""The kind of name a form's field key announces ("Last name: de luca", "<td>City</td><td>Tulsa").

The token core reads a field's value from the words around it; on a form those words are other keys
and values, and it types a name it is sure of by the shape of the name alone ("de luca" an organization,
"Meridian" a place). The key itself says which kind of name follows, so a name-like span that opens
right after such a key takes the key's kind. Only the three name-like kinds are read, with the keys
forms use for them (and their "name" compounds: "company name", "maiden name"); identifiers after
their keys are the keyed recognizers' domain.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.date import birth_cue_span
from sanitas.pii.recognizers.keyed import key_span

# Between a key and its value (as for identifiers, ``recognizers.keyed``): a form's ":", "=" or "-",
# prose's "is", the quotes of JSON or the cell tags of an HTML table. Unlike an identifier's key, a name
# key needs one: in prose "the name Qatar Heroes" or "Business Centre" the word is no key.
_SEPARATOR = (
    r"(?:(?:\s*</?[A-Za-z][^<>]{0,40}>){1,4}\s*"
    r"|\s*[\"']?\s*(?:(?i:is|was)\s|:|=>|=|-)\s*[\"']?\s*)"
)
# A key, its separator (":", "=", JSON quotes, HTML cell tags), then the value: anchored at the value.
# "user name" is an account, not a person, so it is no person key.
_FIELD_KEY = re.compile(
    r"(?i:(?<![^\W\d_])(?:"
    r"(?P<organization>company|employer|organi[sz]ation|firm|business)(?:[\s_-]*name)?"
    r"|(?P<location>city|town|country|county|province|state)"
    r"|(?<!user)(?<!user[\s_-])(?P<person>(?:(?:first|last|given|family|middle|full|maiden)[\s_-]*)?name"
    r"|surname|forename)"
    r"))(?![^\W\d_])" + _SEPARATOR + r"\Z"
)
# How far back the key may start: a key, a few tags or quotes, the separator.
_REACH = 64


def field_kind(text: str, start: int) -> str | None:
    """The name kind ("person", "organization", "location") the field key right before ``start``
    announces, or None when no such key is there."""
    m = _FIELD_KEY.search(text, max(0, start - _REACH), start)
    if m is None:
        return None
    return next(kind for kind, value in m.groupdict().items() if value is not None)


# Name-like types: what a key word is mistaken for.
_NAME_KINDS = frozenset({"person", "first_name", "last_name", "organization", "location"})
# A field's opening before its key: a line's start (then indentation, a bullet) or the gap after the
# field before it on the line (a tab, three spaces); and a key's separator before its value.
_LINE_OPENING = re.compile(r"(?:^|\n|\\n|\t|   )[ \t>*•-]*\Z")
_KEY_SEPARATOR = re.compile(r"[ \t]*[:=][ \t]*")


def drop_value_keys(text: str, entities: list[Entity]) -> list[Entity]:
    """``entities`` without the name-like spans that are the key of a value of another kind: the key of a
    line ("dob: 03/22/1991", "DOB: 08/30/1984": the core read it as a person or a firm, but it labels the
    date after it), a word of an identifier's key ("NHS" of "NHS number: 943 476 5919") or the birth word
    before a birth date ("(DOB 11/02/2015)"). A speaker's name before a chat line keeps its span: what
    follows it is a message, not a detected value.
    ``entities`` are resolved: sorted, not overlapping.
    """
    drop: set[int] = set()
    for k, (e, f) in enumerate(zip(entities, entities[1:], strict=False)):
        if e.label not in _NAME_KINDS or f.label in _NAME_KINDS:
            continue
        key = birth_cue_span(text, f.start) if f.label == "date_of_birth" else key_span(text, f.start)
        if key is not None and key[0] <= e.start and e.end <= key[1]:
            # inside an identifier's key ("NHS number:", "National Insurance no.", "Tax ID (EIN):") or the
            # birth word that made a date a birth date ("(DOB 11/02/2015)")
            drop.add(k)
            continue
        sep = _KEY_SEPARATOR.match(text, e.end)
        if sep is None or sep.end() != f.start:
            continue
        if _LINE_OPENING.search(text, max(0, e.start - 16), e.start) is None:
            continue
        drop.add(k)
    return [e for k, e in enumerate(entities) if k not in drop]
