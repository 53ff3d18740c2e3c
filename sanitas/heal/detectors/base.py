"""The detector contract: one plugin per heal check, a registry, and the context they read.

A detector scores every row in [0, 1] (1 = certainly affected), flags the rows whose score passes a
threshold it calibrates on the dataset itself, and returns per-row details (a suggested label, the
trigger found, an off-topic score 0-100...). Expensive shared work (the kNN graph, out-of-sample
probabilities) is memoised on the context so that every detector reuses it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

CHECKS = ("mislabeled", "outlier", "poisoned", "off_topic", "injection", "sensitive")

T = TypeVar("T")


class SkipCheck(Exception):
    """Raised by ``detect`` when a check cannot run on this dataset; the message says why."""


@dataclass
class DetectorContext:
    """What every detector sees: the rows, their embeddings and a memo of shared computations."""

    texts: list[str]
    labels: list[str | None]
    embeddings: np.ndarray
    should_cancel: Callable[[], bool] | None = None
    #: embeds extra texts (sentences, exemplars) with the job's model and cache
    embed: Callable[[list[str]], np.ndarray] | None = None
    #: where detectors may cache per-text results between jobs (None: no caching)
    cache_dir: Path | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.texts)

    @property
    def has_labels(self) -> bool:
        """True when enough rows carry a label to learn from (at least two classes)."""
        return len({lab for lab in self.labels if lab is not None}) >= 2

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """Return the memoised value for ``key``, computing it once."""
        if key not in self.memo:
            self.memo[key] = compute()
        value: T = self.memo[key]
        return value


@dataclass
class DetectorResult:
    """One check's verdict on every row."""

    scores: np.ndarray
    flags: np.ndarray
    threshold: float
    summary: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scores = np.clip(np.asarray(self.scores, dtype=np.float64), 0.0, 1.0)
        self.flags = np.asarray(self.flags, dtype=bool)
        if not self.details:
            self.details = [None] * len(self.scores)
        if not (len(self.scores) == len(self.flags) == len(self.details)):
            raise ValueError("scores, flags and details must have one entry per row")


class Detector(ABC):
    """A heal check. Subclasses set ``name`` (one of ``CHECKS``) and implement ``detect``."""

    name: str = ""
    #: models this detector relies on, for the manifest
    models: tuple[str, ...] = ()
    #: the inputs its result is a function of (``texts``, ``labels``, ``embeddings``): the result cache
    #: keys on exactly these, so e.g. a relabel does not invalidate a check that never reads labels
    depends_on: tuple[str, ...] = ("texts", "labels", "embeddings")

    def setup(self) -> None:  # noqa: B027 - optional hook, most detectors load nothing
        """Load models once per process; the default loads nothing."""

    def cache_params(self) -> dict[str, Any]:
        """Parameters and external code versions that change the result, for the result cache key."""
        return {}

    @abstractmethod
    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Score, flag and explain every row of ``ctx``."""


REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator adding a detector to the registry under its ``name``."""
    if cls.name not in CHECKS:
        raise ValueError(f"unknown check name {cls.name!r}; expected one of {', '.join(CHECKS)}")
    REGISTRY[cls.name] = cls
    return cls


def get_detector(name: str, **kwargs: Any) -> Detector:
    """Instantiate the registered detector for check ``name``."""
    import sanitas.heal.detectors  # noqa: F401 - importing the package registers the built-ins

    try:
        cls = REGISTRY[name]
    except KeyError:
        raise KeyError(f"no detector for {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return cls(**kwargs)


def empty_result(n: int, *, reason: str) -> DetectorResult:
    """A result that flags nothing, for checks that cannot run (the reason goes in the summary)."""
    return DetectorResult(
        scores=np.zeros(n), flags=np.zeros(n, dtype=bool), threshold=1.0, summary={"skipped": reason}
    )
