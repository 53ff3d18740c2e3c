"""Request shapes for datasets, labellings and branches."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sanitas.names import SOURCE_ID_PATTERN

LabelPart = Annotated[str, Field(min_length=1, max_length=64)]
LabelName = Annotated[list[LabelPart], Field(min_length=1, max_length=64)]


def parse_label_name(value: object) -> list[str]:
    """Accept ``["A", "B"]`` or ``"A > B"``; returns the list form."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(">")]
        if any(not p for p in parts):
            raise ValueError(f"label name {value!r} has an empty part")
        return parts
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return list(value)
    raise ValueError("a label name is a list of strings or a string with ' > ' between levels")


class Strict(BaseModel):
    """Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class LabelDef(Strict):
    """One label of the taxonomy."""

    name: LabelName
    description: str = Field(default="", max_length=1024)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> list[str]:
        return parse_label_name(value)


class DatasetFields(Strict):
    """Editable dataset fields."""

    title: str = Field(default="", max_length=1024)
    description: str = Field(default="", max_length=16384)
    source_ids: list[Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]] = Field(
        default_factory=list, max_length=1024
    )
    label_defs: list[LabelDef] = Field(default_factory=list, max_length=4096)


class DatasetPut(Strict):
    """Body of ``PUT /datasets/{project}/{dataset}``."""

    dataset: DatasetFields = Field(default_factory=DatasetFields)


class AssignedLabel(Strict):
    """A label assigned to a comment."""

    name: LabelName
    sentiment: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> list[str]:
        return parse_label_name(value)


class Labelling(Strict):
    """The labels of one comment (replaces its previous assignment)."""

    assigned: list[AssignedLabel] = Field(default_factory=list, max_length=4096)


class LabellingPut(Strict):
    """Body of ``POST /datasets/{p}/{d}/labellings/{uid}``."""

    labelling: Labelling


class BulkLabelling(Labelling):
    """One item of a bulk labelling request."""

    uid: str = Field(min_length=18, max_length=1041)


class BulkLabellingPut(Strict):
    """Body of ``POST /datasets/{p}/{d}/labellings``."""

    labellings: list[BulkLabelling] = Field(min_length=1, max_length=16384)
