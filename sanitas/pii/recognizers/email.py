"""Email addresses."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register

_FILE_EXTENSIONS = {
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "webp",
    "bmp",
    "pdf",
    "txt",
    "js",
    "css",
    "html",
    "json",
}


@register
class EmailRecognizer(PatternRecognizer):
    """RFC-5322-ish local part @ a dotted domain with a 2+ letter TLD."""

    name = "email"
    label = "email"
    labels = frozenset({"email"})
    # "%40" is the at-sign percent-encoded, as a URL's query or a web log writes it
    # ("?email=luca.m%40mail.it&city=..."). The local part is at most 64 characters (RFC 5321), so a long
    # run of word characters and "%" costs each start a bounded scan.
    requires = "@%"
    hint = re.compile(r"@|%40")
    patterns = (
        (
            re.compile(
                r"(?<![\w.+-])[A-Za-z0-9][\w.+%-]{0,63}?(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
            ),
            0.9,
        ),
    )

    def validate(self, value: str) -> bool | None:
        """Retina image names ("logo@2x.png") look like addresses; their "TLD" is a file extension."""
        return False if value.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS else None
