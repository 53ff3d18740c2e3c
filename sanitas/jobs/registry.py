"""Job kinds: a name, a ``run`` function and an optional ``publish`` step run in the finishing transaction."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sanitas.jobs.context import JobContext

RunFn = Callable[["JobContext"], dict[str, Any]]
PublishFn = Callable[[Session, "JobContext", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    """How to run one kind of job.

    ``run`` does the heavy work and writes files only under the job's own directory; ``publish`` makes
    the result visible (a branch, a model version) in the same transaction that marks the job done, so
    a job killed at any point is either fully published or not at all.
    """

    name: str
    run: RunFn
    publish: PublishFn | None = None
    retry_errors: bool = True


KINDS: dict[str, JobKind] = {}
BUILTIN_MODULES = (
    "sanitas.datasets.export_job",
    "sanitas.heal.job",
    "sanitas.anonymization.job",
    "sanitas.models.job",
)


def register(kind: JobKind) -> JobKind:
    """Add a job kind to the registry (idempotent for the same name)."""
    KINDS[kind.name] = kind
    return kind


def load_builtin_kinds() -> dict[str, JobKind]:
    """Import the modules that register the built-in kinds; a missing optional module is skipped."""
    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not exc.name or not module.startswith(exc.name):
                raise
    return KINDS
