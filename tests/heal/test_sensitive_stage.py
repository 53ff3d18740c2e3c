"""The sensitive check's PII detection runs as a stage on the job's executor (``ctx.executor``)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sanitas.heal.detectors import DetectorContext
from sanitas.heal.detectors.sensitive import SensitiveDetector
from sanitas.jobs.executor import LocalExecutor


def _ctx(rows: Sequence[tuple[str, str | None]], embedder) -> DetectorContext:  # noqa: ANN001
    texts = [t for t, _ in rows]
    return DetectorContext(texts=texts, labels=[lab for _, lab in rows], embeddings=embedder.encode(texts))


@pytest.fixture(scope="module")
def pii_detector() -> SensitiveDetector:
    """The sensitive detector on the real PII engine, in this process."""
    det = SensitiveDetector()
    det.setup()
    return det


class _Recording(LocalExecutor):
    """The local executor, noting which stages ran on it."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: list[str] = []

    def map(self, stage, batches, *, on_batch=None):  # noqa: ANN001, ANN201
        self.stages.append(stage.name)
        return super().map(stage, batches, on_batch=on_batch)


class _Broken(LocalExecutor):
    """An executor whose workers cannot run the stage (the engine does not load there)."""

    def map(self, stage, batches, *, on_batch=None):  # noqa: ANN001, ANN201
        raise RuntimeError("no engine on this worker")


def test_sensitive_detection_runs_as_a_stage_on_the_jobs_executor(
    pii_detector: SensitiveDetector, fake_embedder
) -> None:  # noqa: ANN001
    if not pii_detector.backend.startswith("sanitas.pii"):
        pytest.skip("the PII engine is not importable in this checkout")
    rows = [
        ("Call Tanya Brown at +1-509-417-8271 about my card.", None),
        ("where is my card", None),
        ("My IBAN is GB85UEHI68535606883106.", None),
    ]
    here = pii_detector.detect(_ctx(rows, fake_embedder))
    executor = _Recording()
    ctx = _ctx(rows, fake_embedder)
    ctx.executor = lambda: executor
    det = SensitiveDetector()
    staged = det.detect(ctx)
    assert executor.stages == ["pii-detect"]
    assert det._engine is None  # nothing loaded in this process: the stage held the engine
    assert det.models == ("sanitas.pii:aimon_pii_m1",)
    assert staged.flags.tolist() == here.flags.tolist() == [True, False, True]
    assert staged.details == here.details
    # a stage that cannot run on the executor leaves the work to this process: same result
    ctx = _ctx(rows, fake_embedder)
    ctx.executor = _Broken
    assert SensitiveDetector().detect(ctx).details == here.details
