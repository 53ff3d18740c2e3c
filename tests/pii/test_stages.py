"""``DetectStage``: the PII engine as a batch stage (what the heal's sensitive check runs on its executor)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from sanitas.jobs.executor import LocalExecutor
from sanitas.pii import pool
from sanitas.pii.engine import PiiEngine
from sanitas.pii.stages import DetectStage
from tests.pii.pool_support import SHORT

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


def test_on_the_local_executor_the_next_batches_go_out_before_this_one_comes_back(
    small_tasks: None, no_pool_left: None
) -> None:
    # Through the worker pool the stage streams: when the first batch's entities come back, later
    # batches are already being worked on (one call per batch left the workers idle at each boundary).
    pulled: list[int] = []

    def batches() -> Iterator[list[str]]:
        for k in range(12):
            pulled.append(k)
            yield SHORT[k % len(SHORT) :] + SHORT[: k % len(SHORT)]

    class TwoWorkers(DetectStage):
        def setup(self) -> None:
            self.engine = PiiEngine(method=self.method, threshold=self.threshold, processes=2)

    stage = TwoWorkers(method="heuristics", threshold=0.5)
    done: list[int] = []
    stream = LocalExecutor().map(stage, batches(), on_batch=done.append)
    first = next(stream)
    assert len(pulled) > 1
    assert done == [len(SHORT)]
    out = [first, *stream]
    assert pool.pool_running()
    local = PiiEngine(method="heuristics", threshold=0.5, processes=1)
    expected = [
        [
            [e.to_dict() for e in ents]
            for ents in local.analyze_batch(SHORT[k % len(SHORT) :] + SHORT[: k % len(SHORT)])
        ]
        for k in range(12)
    ]
    assert out == expected
    assert done == [len(SHORT) * (k + 1) for k in range(12)]
