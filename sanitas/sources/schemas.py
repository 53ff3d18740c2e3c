"""Request and response shapes for sources and comments (Re:infer)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sanitas.names import COMMENT_ID_PATTERN

Str512 = Annotated[str, Field(min_length=1, max_length=512)]
MAX_INT = 2**63 - 1


def _storable_json(value: Any) -> Any:
    """Free-form JSON must fit what both databases and orjson store: 64-bit integers, no NUL."""
    if value is None:
        return value
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:
        raise ValueError(f"not storable as JSON: {exc}") from exc
    if b"\\u0000" in encoded:
        raise ValueError("text must not contain NUL (\\u0000) characters")
    return value


class Strict(BaseModel):
    """Unknown fields are errors, as in the Re:infer schema (additionalProperties: false)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TextPart(Strict):
    """A message's subject, body or signature."""

    text: str = Field(max_length=65536)
    translated_from: str | None = Field(default=None, max_length=65536)
    text_markup: Any | None = None
    translated_from_markup: Any | None = None

    @field_validator("text_markup", "translated_from_markup")
    @classmethod
    def _markup(cls, value: Any) -> Any:
        return _storable_json(value)


class Message(Strict):
    """One message of a comment."""

    body: TextPart
    subject: TextPart | None = None
    signature: TextPart | None = None
    from_: Str512 | None = Field(default=None, alias="from")
    to: list[Str512] | None = Field(default=None, max_length=2048)
    cc: list[Str512] | None = Field(default=None, max_length=2048)
    bcc: list[Str512] | None = Field(default=None, max_length=2048)
    sent_at: datetime | None = None
    language: str | None = Field(default=None, min_length=1, max_length=8)


class Attachment(Strict):
    """Attachment metadata (content is not stored)."""

    name: str = Field(max_length=256)
    size: int = Field(ge=0, le=MAX_INT)
    content_type: str = Field(max_length=256)
    attachment_reference: str | None = Field(default=None, max_length=1024)
    content_hash: str | None = Field(default=None, max_length=256)


class CommentIn(Strict):
    """A comment as uploaded through ``sync``."""

    id: str = Field(min_length=1, max_length=1024, pattern=COMMENT_ID_PATTERN)
    timestamp: datetime
    messages: list[Message] = Field(min_length=1, max_length=2048)
    user_properties: dict[str, str | float] = Field(default_factory=dict)
    text_format: Literal["plain", "markdown"] = "plain"
    thread_id: str | None = Field(default=None, min_length=1, max_length=1024)
    attachments: list[Attachment] = Field(default_factory=list, max_length=128)

    @field_validator("user_properties", mode="before")
    @classmethod
    def _check_properties(cls, value: Any) -> Any:
        # Checked before coercion: pydantic would otherwise turn ``true`` into 1.0 and "5" into 5.0.
        if not isinstance(value, dict):
            return value
        for key, item in value.items():
            kind, _, name = str(key).partition(":")
            if kind not in ("string", "number") or not name:
                raise ValueError(f"user property {key!r} must be named 'string:<Name>' or 'number:<Name>'")
            if kind == "string" and not isinstance(item, str):
                raise ValueError(f"user property {key!r} must be a string")
            if kind == "number" and (
                isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(float(item))
            ):
                raise ValueError(f"user property {key!r} must be a finite number")
        return value

    @model_validator(mode="after")
    def _no_nul(self) -> CommentIn:
        # Files reach this model without passing the HTTP guard, and PostgreSQL cannot store NUL.
        if "\x00" in self.id or "\x00" in (self.thread_id or ""):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        for key, item in self.user_properties.items():
            if "\x00" in key or (isinstance(item, str) and "\x00" in item):
                raise ValueError("text must not contain NUL (\\u0000) characters")
        for m in self.messages:
            parts = [p for p in (m.body, m.subject, m.signature) if p is not None]
            texts = [p.text for p in parts] + [p.translated_from or "" for p in parts]
            texts += [m.from_ or "", m.language or "", *(m.to or []), *(m.cc or []), *(m.bcc or [])]
            if any("\x00" in t for t in texts):
                raise ValueError("text must not contain NUL (\\u0000) characters")
        for a in self.attachments:
            if any(
                "\x00" in (t or "") for t in (a.name, a.content_type, a.attachment_reference, a.content_hash)
            ):
                raise ValueError("text must not contain NUL (\\u0000) characters")
        return self


class SyncRequest(Strict):
    """Body of ``POST /sources/{project}/{source}/sync``."""

    comments: list[CommentIn] = Field(max_length=16384)


class SourceFields(Strict):
    """Editable source fields."""

    title: str = Field(default="", max_length=1024)
    description: str = Field(default="", max_length=16384)
    language: str = Field(default="en", min_length=1, max_length=8)
    should_translate: bool = False
    sensitive_properties: list[str] = Field(default_factory=list, max_length=256)


class SourcePut(Strict):
    """Body of ``PUT /sources/{project}/{source}``."""

    source: SourceFields = Field(default_factory=SourceFields)
