"""Town and country lines of a postal block ("Martin Karlsen / Los Angeles / United States").

A country names no one, but a country set out as a line of its own (maybe with its postcode) is the
last field of a postal address, and the short line above it is the town: together they say where a
person lives. Only multi-line texts are looked at, and only such a line ending a run of short lines.
"""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.base import GazetteerRecognizer
from sanitas.pii.recognizers.signature_block import is_job_title, line_spans
from sanitas.pii.registry import register

# "Norway", "Norway 64389", "Cyprus (Greek) 51034", "belgium 97466".
_COUNTRY_LINE = re.compile(r"(?P<c>[^\W\d_][^\d\n()]*?(?:\s*\([^\W\d_]+\))?)(?:[ \t,]+\d[\d -]{2,8}\d)?")
_TOWN = re.compile(r"[^\W\d_][\w'’.-]*(?:[ -][\w'’.-]+){0,4}")


@register
class PostalLinesRecognizer(GazetteerRecognizer):
    """A country alone on a line of a multi-line text: 0.5; the town line just above it: 0.45."""

    name = "postal_lines"
    labels = frozenset({"location"})
    kind = "model"

    def find(self, text: str) -> list[Entity]:
        """Country lines and the town lines above them."""
        if "\n" not in text and "\\n" not in text:
            return []
        lex = lexicons()
        lines = line_spans(text)
        out: list[Entity] = []
        for k, (a, b) in enumerate(lines):
            m = _COUNTRY_LINE.fullmatch(text, a, b)
            if k == 0 or m is None:
                continue
            name = m.group("c")
            key = re.sub(r"\s*\(.*\)$", "", name).lower()
            if key not in lex.coarse_places:
                continue
            out.append(Entity(a, m.end("c"), "location", 0.5))
            above = next((j for j in range(k - 1, -1, -1) if lines[j][1] > lines[j][0]), None)
            if above is None:
                continue
            s, e = lines[above]
            town = text[s:e]
            if (
                _TOWN.fullmatch(town)
                and not any(c.isdigit() for c in town)
                and not is_job_title(town)
                and town.lower() not in lex.coarse_places
            ):
                out.append(Entity(s, e, "location", 0.45))
        return out
