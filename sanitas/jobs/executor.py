"""Batch stages and the executors that run them.

A stage loads what it needs once in ``setup()`` and transforms one batch at a time in a pure
``process_batch()``; the executor decides where that runs. The in-process executor is the default.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class Stage(ABC, Generic[In, Out]):
    """One step of batch work."""

    name: str = "stage"

    def setup(self) -> None:  # noqa: B027 - optional hook, most stages load nothing
        """Load models or other state once per worker."""

    @abstractmethod
    def process_batch(self, batch: list[In]) -> list[Out]:
        """Transform one batch; must not depend on anything but the batch and the state from setup()."""


class Executor(ABC):
    """Runs a stage over batches, yielding results in input order."""

    name = "executor"

    @abstractmethod
    def map(
        self,
        stage: Stage[In, Out],
        batches: Iterable[list[In]],
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list[Out]]:
        """Run ``stage`` over ``batches``; ``on_batch(rows_done)`` after each one."""


class LocalExecutor(Executor):
    """Runs stages in this process, one batch at a time (setup once per stage instance)."""

    name = "local"

    def __init__(self) -> None:
        self._ready: set[int] = set()

    def map(
        self,
        stage: Stage[In, Out],
        batches: Iterable[list[In]],
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list[Out]]:
        """See :meth:`Executor.map`."""
        if id(stage) not in self._ready:
            stage.setup()
            self._ready.add(id(stage))
        done = 0
        for batch in batches:
            out = stage.process_batch(batch)
            done += len(batch)
            if on_batch is not None:
                on_batch(done)
            yield out


def get_executor(name: str = "local", **_: Any) -> Executor:
    """The executor named by ``SANITAS_EXECUTOR``."""
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        raise NotImplementedError(
            "SANITAS_EXECUTOR=ray is not available in this version; use the default 'local' executor"
        )
    raise ValueError(f"unknown executor {name!r}; valid: local, ray")
