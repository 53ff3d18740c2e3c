"""Stages the Ray executor tests run (pickled by value: Ray's workers need not import ``tests``)."""

from __future__ import annotations

import os
import time

from sanitas.jobs.executor import Stage


class TracedSquare(Stage[int, tuple[int, int, int]]):
    """Squares numbers; each result says which process made it and how often that one ran setup().

    The batch holding 0 is slow, so with two workers later batches finish before the first one.
    """

    name = "traced-square"

    def __init__(self) -> None:
        self.setups = 0
        self.pid = 0

    def setup(self) -> None:
        """Count the setups of this process's copy of the stage."""
        self.setups += 1
        self.pid = os.getpid()

    def process_batch(self, batch: list[int]) -> list[tuple[int, int, int]]:
        """(square, pid, setups) per number."""
        if 0 in batch:
            time.sleep(1.0)
        return [(x * x, self.pid, self.setups) for x in batch]


class Failing(Stage[int, int]):
    """Raises on a negative number, and ends its whole process on a zero (a worker killed every time)."""

    name = "failing"

    def process_batch(self, batch: list[int]) -> list[int]:
        """The numbers back, unless one of them is negative or zero."""
        if 0 in batch:
            os._exit(3)
        if any(x < 0 for x in batch):
            raise ValueError(f"negative number in {batch}")
        return batch
