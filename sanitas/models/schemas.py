"""Request shapes of the model routes (Re:infer ``labellers``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sanitas.sources.schemas import Message
from sanitas.validation import StrictFloat, StrictInt, Timestamp

LabelPart = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    """Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class TrainRequest(Strict):
    """Body of ``POST …/labellers/train`` (optional)."""

    seed: StrictInt = Field(default=0, ge=0, le=2**31 - 1)


class LabelThreshold(Strict):
    """Return ``name`` when its probability is at least ``threshold``."""

    name: list[LabelPart] = Field(min_length=1, max_length=64)
    threshold: StrictFloat = Field(ge=0.0, le=1.0)


class Document(Strict):
    """A comment-like document to predict (not stored)."""

    messages: list[Message] = Field(min_length=1, max_length=2048)
    id: str | None = Field(default=None, max_length=1024)
    uid: str | None = Field(default=None, max_length=1041)
    timestamp: Timestamp | None = None
    user_properties: dict[str, Any] = Field(default_factory=dict)
    text_format: Literal["plain", "markdown"] = "plain"
    thread_id: str | None = Field(default=None, max_length=1024)


class PredictOptions(Strict):
    """How labels are chosen: all (default), over one number, the model's own (``"auto"``), or a list."""

    threshold: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] | Literal["auto"] | None = None
    labels: list[LabelThreshold] | None = Field(default=None, min_length=1, max_length=4096)


class PredictDocuments(PredictOptions):
    """Body of ``POST …/labellers/{version}/predict``."""

    documents: list[Document] = Field(min_length=1, max_length=4096)


class PredictComments(PredictOptions):
    """Body of ``POST …/labellers/{version}/predict-comments``."""

    uids: list[Annotated[str, Field(max_length=1041, pattern=r"^[0-9a-f]{16}\.[^\s/]+$")]] = Field(
        min_length=1, max_length=4096
    )
