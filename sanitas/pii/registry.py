"""The recognizer registry: plugins register their class by ``name``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    # Typing only: the recognizer modules import this one to register themselves, and importing
    # their package from here would load them all before ``register`` exists.
    from sanitas.pii.recognizers.base import Recognizer

R = TypeVar("R", bound="type[Recognizer]")

REGISTRY: dict[str, type[Recognizer]] = {}


def register(cls: R) -> R:
    """Class decorator adding a recognizer to the registry (its ``name`` must be unique)."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"recognizer {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def build_recognizers(*, kinds: frozenset[str], labels: set[str]) -> list[Recognizer]:
    """Instances of every registered recognizer of ``kinds`` that can emit one of ``labels``."""
    import sanitas.pii.recognizers  # noqa: F401  (importing registers the built-ins)

    return [cls() for cls in REGISTRY.values() if cls.kind in kinds and cls.labels & labels]
