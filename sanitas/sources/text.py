"""What detectors read of a comment: its messages' subject, body and signature, in order."""

from __future__ import annotations

from typing import Any

PARTS = ("subject", "body", "signature")


def text_segments(messages: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """``(message_index, part, text)`` for every non-empty part, in reading order."""
    out: list[tuple[int, str, str]] = []
    for i, msg in enumerate(messages):
        for part in PARTS:
            value = msg.get(part)
            # Files written by hand sometimes hold a part as a bare string; read it as its text.
            text = value.get("text") if isinstance(value, dict) else value
            if isinstance(text, str) and text:
                out.append((i, part, text))
    return out


def comment_text(messages: list[dict[str, Any]]) -> str:
    """The comment's text: its parts joined by newlines."""
    return "\n".join(t for _, _, t in text_segments(messages))


def locate(messages: list[dict[str, Any]], start: int, end: int) -> dict[str, Any]:
    """Map an offset range in :func:`comment_text` back to its message, part and local offsets."""
    pos = 0
    for index, part, text in text_segments(messages):
        if start < pos + len(text) or (start == pos + len(text) and start == end):
            return {
                "message_index": index,
                "field": part,
                "char_start": start - pos,
                "char_end": min(end - pos, len(text)),
            }
        pos += len(text) + 1
    return {"message_index": 0, "field": "body", "char_start": start, "char_end": end}
