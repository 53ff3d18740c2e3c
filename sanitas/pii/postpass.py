"""Passes over a text's resolved spans that read them together: a form's key read as a name, list items
of one kind, repeats of a found name, the given name of a "Family, Given" field, the head of an address
line (``field_keys``, ``coreference`` and ``address_lead``).

They look across the whole text, so a long text is taken in windows of ``CHUNK_CHARS``: the cost stays
linear in its length, as for detection.
"""

from __future__ import annotations

from sanitas.pii.address_lead import extend_street_heads
from sanitas.pii.chunking import CHUNK_CHARS, shift
from sanitas.pii.coreference import inverted_given_names, list_siblings, repeat_people
from sanitas.pii.entities import Entity
from sanitas.pii.field_keys import drop_value_keys


def _passes(text: str, entities: list[Entity], min_score: float) -> list[Entity]:
    entities = drop_value_keys(text, entities)
    entities = list_siblings(text, entities, min_score=min_score)
    entities = repeat_people(text, entities, min_score=min_score)
    entities = inverted_given_names(text, entities, min_score=min_score)
    return extend_street_heads(text, entities)


def refine(text: str, entities: list[Entity], *, min_score: float) -> list[Entity]:
    """``entities`` (resolved: sorted, not overlapping) after the passes; a window never reaches back
    over the spans of the one before it, so the result does not overlap either."""
    if len(text) <= CHUNK_CHARS:
        return _passes(text, entities, min_score)
    groups: dict[int, list[Entity]] = {}
    for e in entities:
        groups.setdefault(e.start // CHUNK_CHARS, []).append(e)
    out: list[Entity] = []
    floor = 0
    for k in sorted(groups):
        group = groups[k]
        start = max(k * CHUNK_CHARS, floor)
        end = max((k + 1) * CHUNK_CHARS, group[-1].end)
        local = shift(group, -start)
        out.extend(shift(_passes(text[start:end], local, min_score), start))
        floor = end
    return out
