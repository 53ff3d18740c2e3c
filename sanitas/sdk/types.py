"""Typed return objects; each keeps the full JSON it was built from in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Label:
    """A predicted label: hierarchical name and probability."""

    name: tuple[str, ...]
    probability: float


@dataclass(frozen=True)
class Dataset:
    """A Re:infer dataset."""

    id: str
    owner: str
    name: str
    source_ids: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Dataset:
        """Build from the server's ``dataset`` object."""
        return cls(d["id"], d["owner"], d["name"], list(d.get("source_ids", [])), d)


@dataclass(frozen=True)
class Source:
    """A Re:infer source."""

    id: str
    owner: str
    name: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Source:
        """Build from the server's ``source`` object."""
        return cls(d["id"], d["owner"], d["name"], d)


@dataclass(frozen=True)
class SyncResult:
    """Counts of a comments sync."""

    new: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Stream:
    """A stream (cursor) over a dataset."""

    id: str
    name: str
    dataset_id: str
    model_version: int | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def lag(self) -> dict[str, Any] | None:
        """Backlog and oldest unprocessed age (present on ``get_stream``)."""
        return self.raw.get("lag")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Stream:
        """Build from the server's ``stream`` object."""
        model = d.get("model") or {}
        return cls(d["id"], d["name"], d["dataset_id"], model.get("version"), d)


@dataclass(frozen=True)
class StreamResult:
    """One comment of a batch with its predictions and its own ``sequence_id``."""

    uid: str
    comment: dict[str, Any]
    sequence_id: str
    labels: list[Label]
    entities: list[dict[str, Any]]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StreamResult:
        """Build from one item of ``results``."""
        labels = [Label(tuple(lb["name"]), float(lb["probability"])) for lb in d.get("labels", [])]
        return cls(d["comment"]["uid"], d["comment"], d["sequence_id"], labels, list(d.get("entities", [])))


@dataclass(frozen=True)
class Batch:
    """A fetch: results, how many were filtered, the batch ``sequence_id`` and whether it was the end."""

    results: list[StreamResult]
    sequence_id: str
    filtered: int
    is_end_sequence: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Batch:
        """Build from a fetch response."""
        return cls(
            [StreamResult.from_json(r) for r in d.get("results", [])],
            d["sequence_id"],
            int(d.get("filtered", 0)),
            bool(d.get("is_end_sequence", False)),
        )


@dataclass(frozen=True)
class Job:
    """A durable job (heal, model training, export): status and progress."""

    id: str
    status: str
    progress: float
    raw: dict[str, Any] = field(repr=False)

    @property
    def done(self) -> bool:
        """True once the job reached a final status."""
        return self.status.lower() in ("succeeded", "completed", "failed", "cancelled", "canceled")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Job:
        """Build from a job object."""
        return cls(str(d["id"]), str(d.get("status", "")), float(d.get("progress") or 0), d)


@dataclass(frozen=True)
class AnonymizationRun:
    """A Dataframer anonymization run."""

    id: str
    status: str
    dataset_id: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def done(self) -> bool:
        """True once the run reached a final status."""
        return self.status in ("SUCCEEDED", "FAILED", "CANCELLED")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AnonymizationRun:
        """Build from a run object."""
        return cls(str(d["id"]), str(d["status"]), str(d.get("dataset_id", "")), d)
