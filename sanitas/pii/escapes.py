"""Escapes written out in exported text, read as the characters they stand for (offsets kept)."""

from __future__ import annotations

import re

# A backslash escaping a punctuation mark ("Office\\,+44 ..." from a CSV export) hides the mark's word
# boundary from every pattern.
_ESCAPED_MARK = re.compile(r"\\(?=[,;:|'\"])")


# A URL's query string or a form post ("?first_name=Luca&last_name=Moretti", "name=Fatima+Zahra&city=Fez"):
# two fields at least, each "key=value", joined by "&".
_QUERY = re.compile(r"[\w.%-]+=[^&\s=]*(?:&[\w.%-]+=[^&\s=]*)+")


def _query_fields(m: re.Match[str]) -> str:
    # "%20" is an encoded space too: three spaces keep the length.
    return m.group().replace("&", "\n").replace("+", " ").replace("%20", "   ")


def unescape_breaks(text: str) -> str:
    """``text`` with escaped line breaks and tabs (``\\n``, ``\\t`` written out, as in exported JSON or
    logs) turned into a space and the real character, and backslashes before punctuation into spaces:
    same length, so every offset still holds, and the words on either side no longer run together
    ("Ltd\\nName: ..." reads as two lines). A query string's fields read as a form's lines, its "+" as
    the space it encodes ("name=Fatima+Zahra&city=Fez" is "name=Fatima Zahra", then "city=Fez")."""
    if "&" in text and "=" in text:
        text = _QUERY.sub(_query_fields, text)
    if "\\" not in text:
        return text
    return _ESCAPED_MARK.sub(" ", text.replace("\\n", " \n").replace("\\t", " \t"))
