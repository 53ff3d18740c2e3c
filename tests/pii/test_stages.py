"""``DetectStage``: the PII engine as a batch stage (what the heal's sensitive check runs on its executor)."""

from __future__ import annotations

import pickle

import pytest

from sanitas.jobs.executor import LocalExecutor
from sanitas.pii.engine import PiiEngine
from sanitas.pii.stages import DetectStage

TEXTS = [
    "Call Tanya Brown at +1-509-417-8271 about my card.",
    "where is my card",
    "Reach me at tanya.b@example.org or write to 21 Baker Street, London.",
]


@pytest.fixture(scope="module")
def engine() -> PiiEngine:
    eng = PiiEngine(method="aimon_pii_m1", pii_types=None, threshold=0.3)
    eng.setup()
    return eng


def test_stage_on_the_local_executor_finds_what_the_engine_finds(engine: PiiEngine) -> None:
    stage = DetectStage(method="aimon_pii_m1", threshold=0.3)
    out = [ents for batch in LocalExecutor().map(stage, [TEXTS[:2], TEXTS[2:]]) for ents in batch]
    assert out == [[e.to_dict() for e in ents] for ents in engine.analyze_batch(TEXTS)]
    assert {e["label"] for e in out[0]} >= {"person", "phone_number"}
    assert out[1] == []


def test_only_the_configuration_travels_to_a_worker() -> None:
    stage = DetectStage(method="heuristics", threshold=0.5, pii_types=["email"])
    stage.setup()
    assert stage.engine is not None
    copy = pickle.loads(pickle.dumps(stage))
    assert copy.engine is None
    assert (copy.method, copy.threshold, copy.pii_types) == ("heuristics", 0.5, ["email"])
    # a worker that did not run setup() loads the engine on first use
    found = copy.process_batch(["mail a.b@example.org", "nothing here"])
    assert [[e["label"] for e in ents] for ents in found] == [["email"], []]
