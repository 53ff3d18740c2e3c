"""IPv4 and IPv6 addresses."""

from __future__ import annotations

import ipaddress
import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register


@register
class IpAddressRecognizer(PatternRecognizer):
    """Dotted quads (each octet <= 255) and IPv6 parsed by ``ipaddress``."""

    needs_digit = True
    name = "ip_address"
    label = "ip_address"
    labels = frozenset({"ip_address"})
    patterns = (
        (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)"), 0.85),
        (re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"), 0.85),
    )
    context = ("ip", "address", "sent from", "server", "host", "login from")
    requires = ".:"
    # A dotted quad holds "d.d", an IPv6 address two colons at most four hex digits apart; the hint
    # opens on the character class so the regex engine skips to candidates at C speed.
    hint = re.compile(r"[\d:](?:(?<=\d)\.\d|(?<=:)[0-9A-Fa-f]{0,4}:)")

    def validate(self, value: str) -> bool | None:
        """Parsed by the standard library; IPv6 needs at least one hex group with a digit or letter."""
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
        if ":" in value and sum(1 for c in value if c != ":") < 3:
            return False
        return True
