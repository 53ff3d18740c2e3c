"""The model routes' bodies follow the one rule of every family: no silent coercion."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sanitas.models.schemas import PredictDocuments, TrainRequest

DOC = {"messages": [{"body": {"text": "hello"}}]}


@pytest.mark.parametrize("seed", ["8", 8.0, True])
def test_train_seed_must_be_an_integer(seed: object) -> None:
    with pytest.raises(ValidationError, match="seed"):
        TrainRequest.model_validate({"seed": seed})


def test_train_seed_integer_accepted() -> None:
    assert TrainRequest.model_validate({"seed": 8}).seed == 8


@pytest.mark.parametrize("threshold", ["0.5", True, float("nan")])
def test_threshold_must_be_a_finite_number(threshold: object) -> None:
    with pytest.raises(ValidationError, match="threshold"):
        PredictDocuments.model_validate({"documents": [DOC], "threshold": threshold})
    with pytest.raises(ValidationError, match="threshold"):
        PredictDocuments.model_validate(
            {"documents": [DOC], "labels": [{"name": ["a"], "threshold": threshold}]}
        )


def test_document_timestamp_is_not_a_number() -> None:
    with pytest.raises(ValidationError, match="timestamp"):
        PredictDocuments.model_validate({"documents": [{**DOC, "timestamp": 1700000000}]})
    ok = PredictDocuments.model_validate(
        {"documents": [{**DOC, "timestamp": "2024-01-02T03:04:05Z"}], "threshold": 1}
    )
    assert ok.documents[0].timestamp is not None and ok.threshold == 1.0
