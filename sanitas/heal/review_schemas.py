"""Bodies of the heal review routes (``/api/healing/{job_id}/changes...`` and ``.../apply``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sanitas.names import NAME_PATTERN

#: what a change does to its row: the heal manifest's applied actions, ``flag`` for a finding the job
#: acted on not (its request left that action off), ``keep`` for none (never listed, accepted as a filter)
ActionName = Literal["remove", "relabel", "redact", "flag", "keep"]
DecisionName = Literal["accept", "reject"]
DecisionFilter = Literal["undecided", "accept", "reject"]
SortName = Literal["score_desc", "score_asc", "row"]
#: a check's name as the detectors spell them (which exist is checked against the job itself)
CHECK_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ChangeFilter(_Strict):
    """Which changes: every given field must match (a list matches any of its values).

    With ``check`` given, ``score_min``/``score_max`` bound the score of those checks' findings, so
    "outliers above 0.8" means the outlier finding's score; otherwise the change's highest score.
    """

    check: list[str] | None = Field(default=None, max_length=32)
    action: list[ActionName] | None = Field(default=None, max_length=8)
    score_min: float | None = Field(default=None, ge=0.0, le=1.0)
    score_max: float | None = Field(default=None, ge=0.0, le=1.0)
    decision: DecisionFilter | None = None

    @field_validator("check")
    @classmethod
    def _check_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not re.match(CHECK_PATTERN, name):
                raise ValueError(f"{name!r} is not a check name")
        return value

    @field_validator("score_max")
    @classmethod
    def _range(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("score_min")
        if value is not None and low is not None and low > value:
            raise ValueError(f"score_min ({low}) must not exceed score_max ({value})")
        return value


class ChangeDecision(_Strict):
    """Body of ``PATCH /api/healing/{job_id}/changes/{row_id}``: ``null`` clears the decision.

    ``label`` (only with ``accept``, on a relabel or flag change) publishes that label instead of the
    suggested one; it must be one of the dataset's labels.
    """

    decision: DecisionName | None
    label: str | None = Field(default=None, min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _label_with_accept(self) -> ChangeDecision:
        if self.label is not None and self.decision != "accept":
            raise ValueError("label is allowed only with decision 'accept'")
        return self


class BulkDecision(_Strict):
    """Body of ``POST /api/healing/{job_id}/changes/decisions``: one decision for every matching change."""

    decision: DecisionName | None
    filter: ChangeFilter = Field(default_factory=ChangeFilter)


class ApplyRequest(_Strict):
    """Body of ``POST /api/healing/{job_id}/apply``.

    ``undecided``: ``as_decided`` publishes undecided changes as the job decided them, ``leave_out``
    leaves their rows as they were.
    """

    undecided: Literal["as_decided", "leave_out"] = "leave_out"
    activate: bool = False
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
