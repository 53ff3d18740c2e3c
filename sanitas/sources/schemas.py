"""Request and response shapes for sources and comments (Re:infer)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sanitas.names import COMMENT_ID_PATTERN
from sanitas.validation import StrictBool, StrictInt, Timestamp, number

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
    sent_at: Timestamp | None = None
    language: str | None = Field(default=None, min_length=1, max_length=8)


class Attachment(Strict):
    """Attachment metadata (content is not stored)."""

    name: str = Field(max_length=256)
    size: StrictInt = Field(ge=0, le=MAX_INT)
    content_type: str = Field(max_length=256)
    attachment_reference: str | None = Field(default=None, max_length=1024)
    content_hash: str | None = Field(default=None, max_length=256)


class CommentIn(Strict):
    """A comment as uploaded through ``sync``."""

    id: str = Field(min_length=1, max_length=1024, pattern=COMMENT_ID_PATTERN)
    timestamp: Timestamp
    messages: list[Message] = Field(min_length=1, max_length=2048)
    user_properties: dict[str, str | int | float] = Field(default_factory=dict)
    text_format: Literal["plain", "markdown"] = "plain"
    thread_id: str | None = Field(default=None, min_length=1, max_length=1024)
    attachments: list[Attachment] = Field(default_factory=list, max_length=128)

    @field_validator("user_properties", mode="before")
    @classmethod
    def _check_properties(cls, value: Any) -> Any:
        # Checked before coercion: pydantic would otherwise turn ``true`` into 1.0 and "5" into 5.0.
        if not isinstance(value, dict):
            return value
        value = dict(value)
        for key, item in value.items():
            kind, _, name = str(key).partition(":")
            if kind not in ("string", "number") or not name:
                raise ValueError(f"user property {key!r} must be named 'string:<Name>' or 'number:<Name>'")
            if kind == "string" and not isinstance(item, str):
                raise ValueError(f"user property {key!r} must be a string")
            if kind == "number":
                try:
                    value[key] = number(item)
                except ValueError as exc:
                    raise ValueError(f"user property {key!r} must be a finite number ({exc})") from None
        return value

    @model_validator(mode="after")
    def _no_nul(self) -> CommentIn:
        # Files reach this model without passing the HTTP guard, and PostgreSQL cannot store NUL.
        where = self._nul_field()
        if where is not None:
            raise ValueError(f"{where}: text must not contain NUL (\\u0000) characters")
        return self

    def _nul_field(self) -> str | None:
        """The first field (as a path) whose text holds a NUL character, if any."""
        texts: list[tuple[str, str | None]] = [("id", self.id), ("thread_id", self.thread_id)]
        for key, item in self.user_properties.items():
            texts += [(f"user_properties[{key!r}]", key if "\x00" in key else None)]
            texts += [(f"user_properties[{key!r}]", item if isinstance(item, str) else None)]
        for i, m in enumerate(self.messages):
            for name in ("body", "subject", "signature"):
                part = getattr(m, name)
                if part is not None:
                    texts += [(f"messages[{i}].{name}.text", part.text)]
                    texts += [(f"messages[{i}].{name}.translated_from", part.translated_from)]
            texts += [(f"messages[{i}].from", m.from_), (f"messages[{i}].language", m.language)]
            for name in ("to", "cc", "bcc"):
                texts += [(f"messages[{i}].{name}[{j}]", t) for j, t in enumerate(getattr(m, name) or [])]
        for i, a in enumerate(self.attachments):
            for name in ("name", "content_type", "attachment_reference", "content_hash"):
                texts += [(f"attachments[{i}].{name}", getattr(a, name))]
        return next((where for where, t in texts if t and "\x00" in t), None)


class SyncRequest(Strict):
    """Body of ``POST /sources/{project}/{source}/sync``."""

    comments: list[CommentIn] = Field(max_length=16384)


class SourceFields(Strict):
    """Editable source fields."""

    title: str = Field(default="", max_length=1024)
    description: str = Field(default="", max_length=16384)
    language: str = Field(default="en", min_length=1, max_length=8)
    should_translate: StrictBool = False
    sensitive_properties: list[str] = Field(default_factory=list, max_length=256)


class SourcePut(Strict):
    """Body of ``PUT /sources/{project}/{source}``."""

    source: SourceFields = Field(default_factory=SourceFields)
