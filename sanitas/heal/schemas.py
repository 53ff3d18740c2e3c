"""The heal request of Blindsight Antidote's "Start Healing" API reference (fields, defaults, ranges,
enum), plus our opt-in extensions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sanitas.names import NAME_PATTERN


class HealRequest(BaseModel):
    """Body of ``POST /api/datasets/{dataset_id}/heal``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    target: Literal["download", "dataset"] = "dataset"
    fix_mislabeled: bool = True
    remove_outliers: bool = True
    remove_poisoned: bool = True
    remove_off_topics: bool = False
    remove_injection: bool = False
    remove_sensitive_information: bool = False
    anonymize_sensitive_information: bool = False
    off_topic_score_min: int = Field(default=0, ge=0, le=100)
    off_topic_score_max: int = Field(default=100, ge=0, le=100)
    # Extensions: make the new branch active at once; score only (change nothing); name the branch.
    activate: bool = False
    dry_run: bool = False
    branch_name: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _window(self) -> HealRequest:
        if self.off_topic_score_min > self.off_topic_score_max:
            raise ValueError(
                f"off_topic_score_min ({self.off_topic_score_min}) must not exceed off_topic_score_max "
                f"({self.off_topic_score_max})"
            )
        return self

    def options(self) -> dict[str, object]:
        """The check flags and window, as the pipeline takes them."""
        return self.model_dump(exclude={"target", "activate", "dry_run", "branch_name"})
