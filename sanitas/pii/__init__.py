"""PII detection: recognizers, the trained NER core, calibration and the engine."""

from sanitas.pii.engine import PiiEngine
from sanitas.pii.entities import Entity
from sanitas.pii.llm import LlmConfig, LlmNotConfiguredError
from sanitas.pii.types import (
    PII_TYPES,
    UnknownMethodError,
    UnknownPiiTypeError,
    normalize_method,
    normalize_type,
    normalize_types,
)

__all__ = [
    "PII_TYPES",
    "Entity",
    "LlmConfig",
    "LlmNotConfiguredError",
    "PiiEngine",
    "UnknownMethodError",
    "UnknownPiiTypeError",
    "normalize_method",
    "normalize_type",
    "normalize_types",
]
