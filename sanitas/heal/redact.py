"""The one redactor of heal: entity spans become ``[REDACTED_<LABEL>]``, in plain text or in messages."""

from __future__ import annotations

from typing import Any

from sanitas.sources.text import text_segments


def placeholder(label: object) -> str:
    """What a masked entity reads as."""
    return f"[REDACTED_{str(label).upper()}]"


def redact(text: str, entities: list[dict[str, Any]], offset: int = 0) -> str:
    """Mask entity spans (``start``/``end`` offsets, less ``offset``) in ``text``; overlaps keep the first.

    A span running past the end of ``text`` is cut at the end, so a comment's text can be redacted one
    message part at a time.
    """
    out, pos = [], 0
    for e in sorted(entities, key=lambda x: x["start"]):
        start, end = e["start"] - offset, min(e["end"] - offset, len(text))
        if start < pos or start >= len(text) or start < 0:
            continue
        out += [text[pos:start], placeholder(e["label"])]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact_messages(messages: list[dict[str, Any]], entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mask entities (offsets into the comment text) inside the message parts they fall in."""
    out = [dict(m) for m in messages]
    pos = 0
    for index, part, text in text_segments(messages):
        end = pos + len(text)
        local = [e for e in entities if pos <= e["start"] < end]
        if local:
            out[index] = {**out[index], part: {**out[index][part], "text": redact(text, local, offset=pos)}}
        pos = end + 1  # the parts of a comment's text are joined by one newline
    return out
