"""Heal a labelled text dataset: detectors, the pure pipeline, the file runner and the HTML report."""

from typing import Any

from sanitas.heal.pipeline import (
    HealCancelled,
    HealOptions,
    HealResult,
    HealRow,
    RowDecision,
    manifest_lines,
    run_heal,
    score_lines,
)

__all__ = [
    "HealCancelled",
    "HealOptions",
    "HealResult",
    "HealRow",
    "RowDecision",
    "heal_file",
    "manifest_lines",
    "run_heal",
    "score_lines",
]


def heal_file(*args: Any, **kwargs: Any) -> HealResult:
    """Heal a file (see ``sanitas.heal.runner.heal_file``); imported lazily to keep this package light."""
    from sanitas.heal.runner import heal_file as _heal_file

    return _heal_file(*args, **kwargs)
