"""Predictions being computed in this process, so that two readers never embed the same comment twice.

A stream's read-ahead computes the next batch while its consumer works on the current one; when the
consumer's next fetch arrives before that work is done, it waits for it instead of starting it again
(which would double the cost of every cold batch). The same holds for two streams on one dataset and
model. Keys are ``(dataset_id, version, content_hash)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# One thread computes every prediction of the process. Two threads embedding at once on a small
# machine each bring their own OpenMP team, and the teams' spinning threads slow both; in turn,
# a batch of 1,024 comments keeps every core busy on its own.
_THREAD = "sanitas-predict"
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD)


def on_prediction_thread() -> bool:
    """Whether the caller is the prediction thread."""
    return threading.current_thread().name.startswith(_THREAD)


def submit(work: Callable[[], T]) -> Future[T]:
    """Queue ``work`` on the prediction thread."""
    return _POOL.submit(work)


def run_serially(work: Callable[[], T]) -> T:
    """Run ``work`` on the prediction thread (inline when already there) and return its result."""
    if on_prediction_thread():
        return work()
    return _POOL.submit(work).result()


Key = tuple[str, int, str]


@dataclass
class Claim:
    """What :meth:`Inflight.claim` gave: keys this caller must compute and events of others' work."""

    mine: list[Key]
    theirs: list[threading.Event]


class Inflight:
    """A registry of keys being computed, each with an event set when its rows are stored (or failed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[Key, threading.Event] = {}

    def claim(self, keys: Iterable[Key]) -> Claim:
        """Take the keys nobody is computing; return them and the events of those already taken."""
        mine: list[Key] = []
        theirs: dict[int, threading.Event] = {}
        with self._lock:
            ours = threading.Event()
            for key in keys:
                event = self._events.get(key)
                if event is None:
                    self._events[key] = ours
                    mine.append(key)
                else:
                    theirs[id(event)] = event
        return Claim(mine, list(theirs.values()))

    def release(self, keys: Iterable[Key]) -> None:
        """Mark claimed keys done (stored or failed): waiters wake and read what was stored."""
        with self._lock:
            events = {id(e): e for e in (self._events.pop(k, None) for k in keys) if e is not None}
        for event in events.values():
            event.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
