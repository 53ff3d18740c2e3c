"""Dataframer anonymization-run request shape (Dataframer's public anonymization-runs API reference)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class RunCreate(BaseModel):
    """Body of ``POST /api/dataframer/anonymization-runs/``."""

    model_config = ConfigDict(extra="forbid")
    dataset_id: uuid.UUID = Field(description="UUID of the dataset to anonymize.")
    pii_types: list[str] = Field(
        min_length=1, max_length=64, description="Lowercase PII/PHI types to detect and mask."
    )
    detection_method: str = Field(
        description="aimon_pii_m1 (aliases pii_m1, model), llm, heuristics, aimon_pii_m1+heuristics, "
        "llm+heuristics or all."
    )
    llm_model_name: str | None = Field(default=None, max_length=256)
    mask_config: dict[str, str] = Field(default_factory=dict)
    threshold: float = Field(default=0.3, ge=0.0, le=1.0)
