"""MAC addresses."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register


@register
class MacAddressRecognizer(PatternRecognizer):
    """Six hex pairs separated by one consistent ':' or '-', or Cisco dotted triples."""

    name = "mac_address"
    label = "mac_address"
    labels = frozenset({"mac_address"})
    patterns = (
        (re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"), 0.9),
        (re.compile(r"(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])"), 0.6),
    )
    context = ("mac", "device", "hardware", "ethernet", "wifi", "wi-fi")
    requires = ":-."
    # Colon or dash forms hold "<sep>hh<sep>", the dotted form ".hhhh."; opening on the separator class
    # lets the regex engine skip to candidates.
    hint = re.compile(r"[:.-](?:(?<=[:-])[0-9A-Fa-f]{2}[:-]|(?<=\.)[0-9A-Fa-f]{4}\.)")
