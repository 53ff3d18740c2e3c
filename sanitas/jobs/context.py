"""What a running job sees: its payload, progress reporting, cancellation and its own output folder."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.service import ClaimedJob


class JobCancelled(Exception):
    """Raised inside a job when a cancel was requested."""


class JobLost(Exception):
    """Raised inside a job when its lease was taken over (the worker must stop writing)."""


class JobInterrupted(Exception):
    """Raised inside a job when its worker shuts down (the job is released for another worker)."""


# Temporary outputs are named ``.<name>.attempt<N>`` by every job kind, then renamed into place.
_ATTEMPT_FILE = re.compile(r"^\..+\.attempt(\d+)$")


def remove_attempt_files(folder: Path, *, attempt: int | None = None, before: int | None = None) -> int:
    """Delete the temporary files of one ``attempt`` (or of every attempt ``before`` a number).

    A failed or killed attempt never renames its temporary file into place; left there it holds disk
    space (the very space a full disk was missing). Returns how many files were removed.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        m = _ATTEMPT_FILE.match(path.name)
        if m is None or not path.is_file():
            continue
        n = int(m.group(1))
        if (attempt is not None and n == attempt) or (before is not None and n < before):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@dataclass
class JobContext:
    """Handed to a job kind's ``run``; progress is written by the worker's heartbeat thread."""

    job: ClaimedJob
    db: Database
    settings: Settings
    worker_id: str
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: dict[str, Any] = field(default_factory=dict)
    cancelled: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[float, str, str], None] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The job's input."""
        return self.job.payload

    @property
    def job_dir(self) -> Path:
        """The job-scoped folder for outputs, whether or not it was created yet."""
        return self.settings.files_dir / "jobs" / self.job.id

    @property
    def output_dir(self) -> Path:
        """The job-scoped folder for outputs (same path on every attempt, so rewrites are idempotent)."""
        path = self.job_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def progress(self, percent: float, phase: str, message: str = "") -> None:
        """Record progress (0–100) in a named phase; raises if the job was cancelled or lost."""
        with self._lock:
            self._state.update(progress=percent, phase=phase, message=message or phase, dirty=True)
        if self.on_progress is not None:
            self.on_progress(percent, phase, message)
        self.check()

    def pending_progress(self) -> dict[str, Any] | None:
        """Progress not yet written (taken by the heartbeat)."""
        with self._lock:
            if not self._state.pop("dirty", False):
                return None
            return dict(self._state)

    def check(self) -> None:
        """Stop here if the job was cancelled, its lease was lost or its worker is shutting down."""
        if self.lost.is_set():
            raise JobLost(self.job.id)
        if self.cancelled.is_set():
            raise JobCancelled(self.job.id)
        if self.interrupted.is_set():
            raise JobInterrupted(self.job.id)

    def should_cancel(self) -> bool:
        """True when the job must stop (cancelled, lost, or its worker is shutting down)."""
        return self.lost.is_set() or self.cancelled.is_set() or self.interrupted.is_set()

    def sleep(self, seconds: float) -> None:
        """Wait while staying responsive to cancellation."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check()
            time.sleep(min(0.05, end - time.monotonic()))
