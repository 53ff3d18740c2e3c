"""The head of an address line that the street patterns left out ("Kelby Close 14" read from the
"14"; a building number before a PO box).

Street patterns anchor on a house number, so a line such as "0417 Varnhem gata 22" or "Vostra 9 Elm
Rise" is found from its second number or its street word on. When a street address opens a line (or
follows "at", "to", "is", "of" or a colon) after a short run of words and numbers that no other span
holds, that run is the same address: a building number, a house name, a street name. So is an apartment or
suite designator right before it ("Apt. 4 12 Elm Rise" read from the "4").
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity

_LEAD = re.compile(
    r"(?:^|\n|\\n|: |\bat |\bto |\bis |\bof )[ \t>]*"
    r"(?P<v>(?:\d{1,6}[ \t]+)?(?:[^\W\d_][\w'’.-]*[ \t]+){0,3})$"
)
# Words that start a clause or name a person's relation to the address, never part of it.
_STOP = frozenset(
    "the my to at is in on of a an and or from for with by it this that our your his her their please "
    "send ship deliver address new old me us i we you".split()
)
_REACH = 60
# An apartment or suite designator right before the number the street pattern started from.
_UNIT_BEFORE = re.compile(r"\b(?:Apt|Apartment|Suite|Ste|Unit|Flat)\.?[ \t]*#?[ \t]*$", re.IGNORECASE)


def extend_street_heads(text: str, entities: list[Entity]) -> list[Entity]:
    """``entities`` (resolved, sorted by start) with each street address grown back over the head of
    its line (see the module docstring)."""
    if not any(e.label == "street_address" for e in entities):
        return entities
    out: list[Entity] = []
    for k, e in enumerate(entities):
        if e.label == "street_address":
            floor = entities[k - 1].end if k else 0
            unit = _UNIT_BEFORE.search(text, max(floor, e.start - 12), e.start)
            if unit is not None and e.start > unit.start() >= floor:
                e = Entity(unit.start(), e.end, e.label, e.score)
            m = _LEAD.search(text, max(floor, e.start - _REACH), e.start)
            if m is not None and m.group("v").strip() and m.start("v") >= floor:
                words = m.group("v").split()
                if not any(w.lower().strip(".,") in _STOP for w in words):
                    e = Entity(m.start("v"), e.end, e.label, e.score)
        out.append(e)
    return out
