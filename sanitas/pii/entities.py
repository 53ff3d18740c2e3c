"""The detected-span value type shared by the engine, masking and the runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """A detected PII span: ``text[start:end]`` is of type ``label`` (a lowercase pii_type)."""

    start: int
    end: int
    label: str
    score: float

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the entities file (README, `sanitas anonymize --entities`)."""
        return {"start": self.start, "end": self.end, "label": self.label, "score": round(self.score, 4)}
