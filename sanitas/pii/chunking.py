"""Split long texts into overlapping windows so detection runs in bounded memory at linear cost."""

from __future__ import annotations

from collections.abc import Iterator

from sanitas.pii.entities import Entity

CHUNK_CHARS = 10_000
OVERLAP_CHARS = 300


def iter_chunks(
    text: str, *, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS
) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, window)`` pairs covering ``text``; windows end at whitespace when one is near,
    and consecutive windows share ``overlap`` characters so an entity on a cut is seen whole once."""
    if size <= overlap:
        raise ValueError("chunk size must exceed the overlap")
    n = len(text)
    start = 0
    while start < n:
        end = min(n, start + size)
        if end < n:
            cut = text.rfind(" ", start + size - overlap, end)
            cut = max(cut, text.rfind("\n", start + size - overlap, end))
            if cut > start:
                end = cut
        yield start, text[start:end]
        if end >= n:
            break
        start = max(end - overlap, start + 1)


def shift(entities: list[Entity], offset: int) -> list[Entity]:
    """Move window-relative entities to offsets in the whole text."""
    return [Entity(e.start + offset, e.end + offset, e.label, e.score) for e in entities]
