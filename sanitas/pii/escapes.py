"""Escapes written out in exported text, read as the characters they stand for (offsets kept)."""

from __future__ import annotations

import re

# A backslash escaping a punctuation mark ("Office\\,+44 ..." from a CSV export) hides the mark's word
# boundary from every pattern.
_ESCAPED_MARK = re.compile(r"\\(?=[,;:|'\"])")


def unescape_breaks(text: str) -> str:
    """``text`` with escaped line breaks and tabs (``\\n``, ``\\t`` written out, as in exported JSON or
    logs) turned into a space and the real character, and backslashes before punctuation into spaces:
    same length, so every offset still holds, and the words on either side no longer run together
    ("Ltd\\nName: ..." reads as two lines)."""
    if "\\" not in text:
        return text
    return _ESCAPED_MARK.sub(" ", text.replace("\\n", " \n").replace("\\t", " \t"))
