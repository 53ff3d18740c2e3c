"""Postal blocks: an address set out one field per line (a letterhead, a signature, a label).

Written inline ("I live at 12 Main St, Springfield") an address is one span. Set out as a block, each
line is a field of its own (street, unit, town, "country postcode"), and forms, letterheads and
annotated corpora treat the lines as separate values; one span over the whole block then matches none
of them. ``split_blocks`` reports such a block line by line instead, splitting the fields a line joins.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity

# A line break, real or escaped (CSV and JSON exports write "\n" as a backslash and an "n").
BREAK = r"(?:\r?\n|\\n)"
_BREAK = re.compile(BREAK)
# What may stand before a line's text: indentation, quote markers and bullets ("> ", "??? ", "}} ").
_LINE_PREFIX = re.compile(r"[ \t]*(?:[>?|}*•·][ \t]*){0,3}(?:,[ \t]*)?")
_BLOCK_START = re.compile(rf"(?:^|{BREAK})[ \t]*(?:[>?|}}*•·][ \t]*){{0,3}}$")
_UNIT = re.compile(r"(?i)\b(?:apt|apartment|suite|ste|unit|flat|floor|room|box)\b")
# "Italy 39767", "Czech Republic 56655", "Wondelgem VOV 9032": a place, then a postcode ending the line.
_PLACE_POSTCODE = re.compile(r"(?P<place>[^\W\d_][^\d\n]*?[^\W\d_.,])[ \t,]+(?P<code>\d[\d -]{1,8}\d)")
# "974 Via Roma 131", "3536 1659 Hoog St": a leading number before a street that carries its own house
# number is a field of its own (a building or box number), not part of the street.
_LEAD_NUMBER = re.compile(
    r"(?P<lead>\d{1,6})[ \t]+(?P<street>\d{1,6}[A-Za-z]?[ \t]+[^\W\d_].*|[^\W\d_].*\d\.?)"
)
_POSTCODE = re.compile(r"\d[\d -]{1,8}\d|[A-Z]\d[A-Z] ?\d[A-Z]\d")


def starts_block(text: str, start: int, end: int) -> bool:
    """Whether the address ``text[start:end]`` opens its own line and runs over more than one."""
    return _BLOCK_START.search(text, max(0, start - 16), start) is not None and bool(
        _BREAK.search(text, start, end)
    )


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The non-empty lines of ``text[start:end]``, without prefixes and trailing commas or spaces."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in [*_BREAK.finditer(text, start, end), None]:
        stop = m.start() if m else end
        a = _LINE_PREFIX.match(text, pos, stop)
        s = a.end() if a else pos
        e = stop
        while e > s and text[e - 1] in " \t,;":
            e -= 1
        if e > s:
            out.append((s, e))
        if m is not None:
            pos = m.end()
    return out


def _fields(text: str, s: int, e: int, first: bool) -> list[tuple[int, int, str]]:
    """One line as its fields: (start, end, label)."""
    line = text[s:e]
    if _POSTCODE.fullmatch(line):
        return [(s, e, "zip_code")]
    if first:
        m = _LEAD_NUMBER.fullmatch(line)
        if m and not _UNIT.search(m.group("street")):
            return [(s, s + m.end("lead"), "street_address"), (s + m.start("street"), e, "street_address")]
    if not line[:1].isdigit() and not _UNIT.search(line):
        m = _PLACE_POSTCODE.fullmatch(line)
        if m:
            return [(s, s + m.end("place"), "street_address"), (s + m.start("code"), e, "zip_code")]
    return [(s, e, "street_address")]


def _split(text: str, block: Entity) -> list[Entity]:
    out: list[Entity] = []
    for k, (s, e) in enumerate(_lines(text, block.start, block.end)):
        out.extend(Entity(a, b, label, block.score) for a, b, label in _fields(text, s, e, k == 0))
    return out


def split_blocks(text: str, found: list[Entity]) -> list[Entity]:
    """``found`` with every postal block (and the candidates overlapping it) replaced by its fields."""
    blocks = sorted((e for e in found if starts_block(text, e.start, e.end)), key=lambda e: e.start)
    if not blocks:
        return found
    regions: list[Entity] = []
    for b in blocks:
        if regions and b.start < regions[-1].end:
            last = regions[-1]
            regions[-1] = Entity(last.start, max(last.end, b.end), last.label, max(last.score, b.score))
        else:
            regions.append(b)
    kept = [e for e in found if all(e.end <= r.start or e.start >= r.end for r in regions)]
    for r in regions:
        kept.extend(_split(text, r))
    return kept
