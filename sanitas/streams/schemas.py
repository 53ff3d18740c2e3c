"""Request shapes of the streams API (Re:infer), validated strictly: unknown fields are errors."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sanitas.names import NAME_PATTERN
from sanitas.timeutil import as_utc, iso
from sanitas.validation import Number, StrictFloat, StrictInt, Timestamp

LabelPart = Annotated[str, Field(min_length=1, max_length=64)]
FilterString = Annotated[str, Field(min_length=1, max_length=65536)]


class Strict(BaseModel):
    """Unknown fields are errors (the vendor schema has additionalProperties: false)."""

    model_config = ConfigDict(extra="forbid")


class LabelThreshold(Strict):
    """Return ``name`` only when its probability is at least ``threshold``."""

    name: list[LabelPart] = Field(min_length=1, max_length=64)
    threshold: StrictFloat = Field(ge=0.0, le=1.0)


class StreamModel(Strict):
    """The pinned model a stream predicts with."""

    version: StrictInt = Field(ge=1, le=2**31 - 1)
    label_thresholds: list[LabelThreshold] | None = Field(default=None, min_length=1, max_length=4096)


class PropertyFilter(Strict):
    """Operators on one user property; several may be combined (all must hold)."""

    one_of: list[str | Number] | None = Field(default=None, min_length=1, max_length=4096)
    not_one_of: list[str | Number] | None = Field(default=None, min_length=1, max_length=4096)
    minimum: Number | None = None
    maximum: Number | None = None

    @model_validator(mode="after")
    def _some(self) -> PropertyFilter:
        if self.one_of is None and self.not_one_of is None and self.minimum is None and self.maximum is None:
            raise ValueError("a property filter needs one of one_of, not_one_of, minimum, maximum")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(
                f"minimum ({self.minimum}) must not exceed maximum ({self.maximum}): nothing could match"
            )
        return self


class TimeRange(Strict):
    """An inclusive range of comment timestamps."""

    minimum: Timestamp | None = None
    maximum: Timestamp | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.minimum is not None and self.maximum is not None:
            lo, hi = as_utc(self.minimum), as_utc(self.maximum)
            if lo > hi:
                raise ValueError(
                    f"minimum ({iso(lo)}) must not be after maximum ({iso(hi)}): nothing could match"
                )
        return self


class CommentFilter(Strict):
    """Comments not matching every given part are skipped (and counted as ``filtered``)."""

    user_properties: dict[str, PropertyFilter] | None = None
    sources: list[Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]] | None = Field(
        default=None, min_length=1, max_length=128
    )
    timestamp: TimeRange | None = None

    @field_validator("user_properties")
    @classmethod
    def _keys(cls, value: dict[str, PropertyFilter] | None) -> dict[str, PropertyFilter] | None:
        for key, f in (value or {}).items():
            kind, _, name = key.partition(":")
            if kind not in ("string", "number") or not name:
                raise ValueError(f"user property {key!r} must be named 'string:<Name>' or 'number:<Name>'")
            values = [*(f.one_of or []), *(f.not_one_of or [])]
            if kind == "string":
                if f.minimum is not None or f.maximum is not None:
                    raise ValueError(f"{key!r}: minimum/maximum apply to number properties only")
                if any(not isinstance(v, str) for v in values):
                    raise ValueError(f"{key!r}: one_of/not_one_of of a string property must be strings")
            elif any(isinstance(v, str) for v in values):
                raise ValueError(f"{key!r}: one_of/not_one_of of a number property must be numbers")
        return value


class StreamFields(Strict):
    """The ``stream`` object of a create or update."""

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(default="", max_length=128)
    description: str = Field(default="", max_length=16384)
    model: StreamModel | None = None
    comment_filter: CommentFilter | None = None
    # Our extension: where a new stream starts ("earliest", "latest" or an upload time).
    start_at: Literal["earliest", "latest"] | Timestamp | None = None


class StreamPut(Strict):
    """Body of ``PUT /datasets/{p}/{d}/streams`` and ``POST …/streams/{name}``."""

    stream: StreamFields


class StreamUpdateFields(Strict):
    """The ``stream`` object of ``POST …/streams/{name}`` (the name comes from the path)."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    title: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=16384)
    model: StreamModel | None = None
    comment_filter: CommentFilter | None = None


class StreamUpdate(Strict):
    """Body of ``POST …/streams/{name}`` (the 2021 schema's update)."""

    stream: StreamUpdateFields


class FetchRequest(Strict):
    """Body of ``POST …/fetch``."""

    size: StrictInt = Field(ge=1, le=1024)
    max_filtered: StrictInt | None = Field(default=None, ge=1, le=1024)
    # Our extension: long polling, up to this many seconds when nothing is available.
    wait_seconds: StrictFloat = Field(default=0.0, ge=0.0, le=20.0)


class AdvanceRequest(Strict):
    """Body of ``POST …/advance``: a batch or comment ``sequence_id`` (or ``continuation``)."""

    sequence_id: str | None = Field(default=None, min_length=1, max_length=256)
    continuation: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one(self) -> AdvanceRequest:
        if self.sequence_id is None and self.continuation is None:
            raise ValueError("sequence_id is required")
        if self.sequence_id is not None and self.continuation is not None:
            if self.sequence_id != self.continuation:
                raise ValueError("give sequence_id or continuation, not two different tokens")
        return self

    @property
    def token(self) -> str:
        """The token to advance to."""
        return self.sequence_id or self.continuation or ""


class ResetRequest(Strict):
    """Body of ``POST …/reset``."""

    to_comment_created_at: Timestamp


class ExceptionMetadata(BaseModel):
    """Exception metadata: ``type`` is required, other keys are kept as given."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(min_length=1, max_length=1024)


class ExceptionItem(Strict):
    """One comment to tag."""

    uid: str = Field(min_length=18, max_length=1041, pattern=r"^[0-9a-f]{16}\.[^\s/]+$")
    metadata: ExceptionMetadata


class ExceptionsPut(Strict):
    """Body of ``PUT …/exceptions``."""

    exceptions: list[ExceptionItem] = Field(min_length=1, max_length=4096)
