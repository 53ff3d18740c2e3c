"""Texts the worker-pool tests share: short ones of every kind the recognizers meet, and a text longer
than a chunk (the pool fixtures are in ``conftest.py``)."""

from __future__ import annotations

SHORT = [
    "Hi, this is Brett Drake from Lake Stephanietown. Mail brett@example.org or call 722-675-2968.",
    "",
    "nothing here",
    "card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32",
    "Ich heiße Jürgen Müller und wohne in München.",
    "my ssn is 078-05-1120 and my ip 192.168.10.4",
    "Hi, this is Brett Drake from Lake Stephanietown. Mail brett@example.org or call 722-675-2968.",
]
FILLER = "nothing to see here. " * 700


def long_text(k: int) -> str:
    """Longer than one chunk: its windows go out as tasks and are put back together in the parent."""
    return (FILLER + f"Dr. Maria Lopez{k} wrote to maria{k}@example.com ") * 2 + "card 4111 1111 1111 1111"
