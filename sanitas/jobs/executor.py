"""Batch stages and the executors that run them.

A stage loads what it needs once in ``setup()`` and transforms one batch at a time in a pure
``process_batch()``; the executor decides where that runs. The in-process executor is the default;
``sanitas.jobs.ray_executor`` runs the same stages on a Ray cluster.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from sanitas.config import Settings

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

    def process_batches(self, batches: Iterable[list[In]]) -> Iterator[list[Out]]:
        """``process_batch`` of each batch in order, with the same results. A stage whose work goes to
        its own worker processes overrides this to keep the next batch's work out while the caller
        handles this one's (the in-process executor calls it; a Ray actor gets one batch at a time)."""
        for batch in batches:
            yield self.process_batch(batch)


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
        # Weak, by object: an id() of a stage that is gone can come back as another stage's.
        self._ready: weakref.WeakSet[Stage[Any, Any]] = weakref.WeakSet()

    def map(
        self,
        stage: Stage[In, Out],
        batches: Iterable[list[In]],
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list[Out]]:
        """See :meth:`Executor.map`."""
        if stage not in self._ready:
            stage.setup()
            self._ready.add(stage)
        done = 0
        # Each batch's size is read as it comes back: ``process_batches`` may read ahead of it.
        sizes: deque[int] = deque()

        def counted() -> Iterator[list[In]]:
            for batch in batches:
                sizes.append(len(batch))
                yield batch

        for out in stage.process_batches(counted()):
            done += sizes.popleft()
            if on_batch is not None:
                on_batch(done)
            yield out


def get_executor(name: str = "local", *, settings: Settings | None = None, **_: Any) -> Executor:
    """The executor named by ``SANITAS_EXECUTOR``: ``local`` (in this process) or ``ray``.

    The Ray one reads its cluster settings (``RAY_ADDRESS``, ``SANITAS_RAY_NUM_CPUS``,
    ``SANITAS_RAY_ACTORS``) from ``settings``, else from the environment; Ray is imported only here.
    """
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        from sanitas.config import load_settings
        from sanitas.jobs.ray_executor import RayExecutor

        # secret_key given: reading the cluster settings must not create the installation's secret file.
        conf = settings or load_settings(secret_key=b"")
        return RayExecutor(address=conf.ray_address, num_cpus=conf.ray_num_cpus, actors=conf.ray_actors)
    raise ValueError(f"unknown executor {name!r}; valid: local, ray")
