"""URLs and bare domain names."""

from __future__ import annotations

import re

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.pattern import PatternRecognizer
from sanitas.pii.registry import register

# Common top-level domains; a bare "word.tld" needs one of these to avoid "e.g"/"file.txt"-like hits.
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|co|app|dev|me|tv|us|uk|de|fr|nl|be|ch|at|es|it|pt|pl|cz|sk|"
    "hu|ro|bg|gr|cy|se|no|dk|fi|is|ie|ee|lv|lt|ru|ua|by|tr|il|in|cn|jp|kr|tw|hk|sg|au|nz|ca|mx|br|ar|cl|za|"
    "ng|ke|eg|ma|tn|ae|sa|qa|biz|xyz|online|site|shop|store|blog|tech|cloud|email|news|name|mobi|pro|eu"
)


# "w.tld" or "://", written to open on [.:] (what the regex engine skips to at C speed; an opening
# alternation of a class and a literal made it try every position).
_HOST_HINT = re.compile(r"[.:](?:(?<=\w\.)[A-Za-z]{2}|(?<=:)//)")


@register
class UrlRecognizer(PatternRecognizer):
    """Scheme URLs, www. hosts and bare host names ending in a known TLD."""

    name = "url"
    label = "url"
    labels = frozenset({"url"})
    patterns = (
        (re.compile(r"\b(?:https?|ftp)://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]"), 0.9),
        (
            re.compile(
                r"(?<![@\w.-])www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?"
            ),
            0.85,
        ),
        (
            re.compile(
                rf"(?<![@\w.-])(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})(?:\.[a-z]{{2}})?(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?"
                r"(?![\w@-]|\.\w)"
            ),
            0.6,
        ),
    )
    context = ("website", "site", "url", "link", "visit", "http", "https", "domain", "page")
    requires = "."

    def find(self, text: str) -> list[Entity]:
        """Skip texts where no dot sits between a word character and letters (no host name possible)."""
        if not _HOST_HINT.search(text):
            return []
        return super().find(text)
