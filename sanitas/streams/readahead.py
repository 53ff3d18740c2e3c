"""Read-ahead for streams with a model: predict the next batch while the consumer handles this one.

A cold batch (comments no model version has predicted yet) costs an embedding pass, which is most of
a fetch's time. After a fetch that had to compute predictions, the comments after it (a window of at
least ``MIN_WINDOW``, computed once half of it is missing) are predicted in one background thread, so
that the consumer's next fetch finds its batch stored (or waits for the work in flight, never
repeating it: see ``sanitas.models.inflight``). A stream stays "cold" (read ahead on every fetch, even
one that found its batch ready) until a read-ahead finds nothing missing; streams over cached
predictions thus pay nothing. With several server processes, a fetch that lands on another process
computes the batch itself; the first stored value wins, so every response stays identical.
Predictions are deterministic and cached per (comment, version), so reading ahead changes no
response, only when the work is done. At most a few windows are pending per process;
``SANITAS_STREAM_READAHEAD=0`` turns it off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future

from sanitas.config import current
from sanitas.models import inflight

log = logging.getLogger(__name__)

MAX_PENDING = 4
# Comments predicted per read-ahead pass at least (a fetch may ask for fewer).
MIN_WINDOW = 1024
_LOCK = threading.Lock()
_PENDING: dict[Hashable, Future[None]] = {}
_COLD: dict[Hashable, None] = {}  # insertion-ordered set of cold streams, oldest dropped first
_MAX_COLD = 1024


def enabled() -> bool:
    """Whether streams read ahead (``SANITAS_STREAM_READAHEAD``, on unless ``0``)."""
    return current().stream_readahead


def wanted(stream: Hashable, computed: int) -> bool:
    """Whether a fetch that computed ``computed`` predictions should read ahead for ``stream``."""
    if not enabled():
        return False
    with _LOCK:
        return computed > 0 or stream in _COLD


def schedule(key: Hashable, stream: Hashable, work: Callable[[], int]) -> bool:
    """Run ``work`` (it returns how many predictions it computed) in the background; True if queued.

    Nothing is queued when ``key`` is already pending or too much is. Failures are logged, never
    raised: the consumer's own fetch computes whatever is missing.
    """
    with _LOCK:
        if key in _PENDING or len(_PENDING) >= MAX_PENDING:
            return False

        def run() -> None:
            computed = 0
            try:
                computed = work()
            except Exception:  # the data may be gone (stream deleted, server stopping): not fatal
                log.warning("stream read-ahead failed", exc_info=True)
            finally:
                with _LOCK:
                    _PENDING.pop(key, None)
                    _COLD.pop(stream, None)
                    if computed:
                        _COLD[stream] = None
                        while len(_COLD) > _MAX_COLD:
                            del _COLD[next(iter(_COLD))]

        # On the prediction thread, where the consumer's own misses are computed too: one at a time.
        _PENDING[key] = inflight.submit(run)
        return True


def wait_idle(timeout: float = 60.0) -> None:
    """Wait until nothing is pending."""
    with _LOCK:
        futures = list(_PENDING.values())
    for future in futures:
        future.result(timeout)


def drain(timeout: float = 60.0) -> None:
    """Drop queued read-aheads and wait for the one running (server shutdown: nothing is lost, since
    a consumer's fetch computes whatever was not read ahead)."""
    with _LOCK:
        for key, future in list(_PENDING.items()):
            if future.cancel():
                del _PENDING[key]
    wait_idle(timeout)
