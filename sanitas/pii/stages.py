"""PII detection as a batch stage: what the heal's sensitive check runs on the job's executor.

``DetectStage`` loads a ``PiiEngine`` once per worker in ``setup()`` and returns, per text, the
entities ``PiiEngine.analyze_batch`` finds, as plain dicts (what crosses a process or a Ray actor
boundary, and what the heal's per-text cache stores). Locally the engine spreads a large batch over
its own process pool as before; on Ray each actor holds one engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sanitas.jobs.executor import Stage


class DetectStage(Stage[str, list[dict[str, Any]]]):
    """Entities (``start``, ``end``, ``label``, ``score``) of each text of a batch."""

    name = "pii-detect"

    def __init__(self, *, method: str, threshold: float, pii_types: list[str] | None = None) -> None:
        self.method = method
        self.threshold = threshold
        self.pii_types = pii_types
        self.engine: Any = None

    def setup(self) -> None:
        """Load the detection engine (spaCy, the entity core, the recognizers) once."""
        from sanitas.pii.engine import PiiEngine

        engine = PiiEngine(method=self.method, pii_types=self.pii_types, threshold=self.threshold)
        engine.setup()
        self.engine = engine

    def process_batch(self, batch: list[str]) -> list[list[dict[str, Any]]]:
        """The entities of every text, in order; a text's entities depend on that text only."""
        return next(self.process_batches([batch]))

    def process_batches(self, batches: Iterable[list[str]]) -> Iterator[list[list[dict[str, Any]]]]:
        """``process_batch`` of each batch, through the engine's stream: with its worker pool the next
        batch's tasks are out while this one's results are handed back, so no worker idles at a batch
        boundary (one call per batch waited for its slowest task; a million rows took twice as long)."""
        if self.engine is None:  # a caller that skipped the executor's setup
            self.setup()
        for found in self.engine.analyze_stream(batches):
            yield [[e.to_dict() for e in ents] for ents in found]

    def __getstate__(self) -> dict[str, Any]:
        # Only the configuration travels to a worker; each worker loads its own engine.
        return {**self.__dict__, "engine": None}
