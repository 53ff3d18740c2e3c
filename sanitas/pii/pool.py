"""Worker processes for ``PiiEngine.analyze_batch``: a large batch is spread over them.

Why: the recognizers and spaCy's NER are single-threaded Python, so one process uses one core. A large
batch (or one long text, as its chunks) is cut into tasks that run in a persistent pool; each worker builds
an engine per configuration once (spaCy, lexicons) and keeps it for the life of the process. Small batches
never reach this module: shipping them to another process costs more than detecting them.

Settings: ``SANITAS_PII_PROCESSES`` (default ``min(usable CPUs, 2)``, also for ``auto``; ``1`` disables
the pool); ``SANITAS_PII_TASK_TIMEOUT`` (seconds, default 600). Two is the default cap because every
worker holds its own engine (~250 MB with spaCy) and the engine promises a 50 MB text in under 2 GB.

The pool uses the "spawn" start method: the parent may hold threads (uvicorn, torch, the executor) and
forking such a process can deadlock. Workers start with ``sanitas.pii_worker.init_worker``. The pool is
shared by every engine of the process, closed at exit (or by :func:`shutdown_pool`); a worker that dies
or a task past the timeout fails the batch's pool run with :class:`PoolUnavailableError`, never a hang,
and the engine then runs the batch in-process. Workers exit by themselves if the parent is killed.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import sys
import threading
import types
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sanitas.config import current
from sanitas.pii.chunking import CHUNK_CHARS, iter_chunks
from sanitas.pii_worker import init_worker

if TYPE_CHECKING:
    from sanitas.pii.engine import PiiEngine
    from sanitas.pii.entities import Entity

log = logging.getLogger(__name__)

ENV_PROCESSES = "SANITAS_PII_PROCESSES"
DEFAULT_MAX_PROCESSES = 2
# A batch goes to the pool from this many texts or characters on; below, in-process is faster.
MIN_TEXTS = 256
MIN_CHARS = 200_000
# Characters per task: enough tasks per worker that the last ones even out, each big enough that
# spaCy still batches well and the hand-off (pickling texts and entities) stays a few percent.
TASKS_PER_WORKER = 8
MIN_TASK_CHARS = 8_000
MAX_TASK_CHARS = 80_000
# Tasks out at once per worker: keeps workers busy while the parent collects, and bounds memory.
INFLIGHT_PER_WORKER = 3
START_TIMEOUT_S = 300.0
# After this many broken pools the process stops starting new ones (a crash that repeats per batch).
MAX_FAILURES = 2

EngineKey = tuple[str, tuple[str, ...], float]
M = TypeVar("M")


class PoolUnavailableError(RuntimeError):
    """The worker pool broke (a worker died or failed to start) or a task timed out."""


def configured_processes() -> int:
    """Worker processes from ``SANITAS_PII_PROCESSES``; unset, empty or ``auto``: ``min(CPUs, 2)``."""
    raw = current().pii_processes.strip().lower()
    if raw in ("", "auto"):
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        return max(1, min(cpus, DEFAULT_MAX_PROCESSES))
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"{ENV_PROCESSES}={raw!r}: expected a whole number of processes or 'auto'") from None


# --- worker side: these run in the child processes ---------------------------------------------------

_worker_engines: dict[EngineKey, PiiEngine] = {}


def worker_engine(key: EngineKey) -> PiiEngine:
    """The worker's engine for ``key``, built and set up on first use (``sanitas.pii_worker`` starts
    the worker and sets up the first one)."""
    engine = _worker_engines.get(key)
    if engine is None:
        from sanitas.pii.engine import PiiEngine

        method, types, threshold = key
        # processes=1: a worker never starts a pool of its own.
        engine = PiiEngine(method=method, pii_types=list(types), threshold=threshold, processes=1)
        engine.setup()
        _worker_engines[key] = engine
    return engine


def _task(key: EngineKey, kind: str, items: list[str]) -> list[list[Entity]]:
    engine = worker_engine(key)
    if kind == "texts":
        return engine.analyze_local(items)
    return engine.detect_kept(items)


def _ready(key: EngineKey) -> int:
    import time

    worker_engine(key)
    # Held briefly so one fast worker cannot take every ping and hide a slow one still starting.
    time.sleep(0.05)
    return os.getpid()


# --- parent side -----------------------------------------------------------------------------------------


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Spawn reads ``sys.modules["__main__"]`` to re-import the caller's script in the child: hide it."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class WorkerPool:
    """A persistent process pool whose workers keep one set-up engine per configuration."""

    def __init__(self, processes: int, key: EngineKey) -> None:
        self.processes = processes
        self._close_lock = threading.Lock()
        self._closed = False
        self._executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            # Not a function of this package: see sanitas.pii_worker for why.
            initializer=init_worker,
            initargs=(key,),
        )
        # The executor starts a worker per submit until it has them all; doing it here, with the
        # parent's __main__ hidden, means workers never re-run the caller's script (an unguarded script
        # would start pools recursively) and start faster. They only run this module's functions.
        try:
            with _main_hidden():
                for _ in range(processes):
                    self._executor.submit(os.getpid)
        except Exception as exc:
            # Starting a process can fail in the parent (BrokenPipeError when the child dies at once,
            # OSError when out of processes or descriptors): the pool is unavailable, not the job.
            self.close(kill=True)
            raise PoolUnavailableError(f"the PII worker processes could not start: {exc!r}") from exc

    def warm(self, key: EngineKey) -> None:
        """Start every worker and set up ``key``'s engine in it; returns when all are ready."""
        futures = [self._executor.submit(_ready, key) for _ in range(self.processes)]
        for f in futures:
            self._result(f, START_TIMEOUT_S)

    def run_ordered(
        self, key: EngineKey, tasks: Iterable[tuple[M, str, list[str]]]
    ) -> Iterator[tuple[M, list[list[Entity]]]]:
        """``(meta, entities per item)`` of each ``(meta, kind, items)`` task, in the tasks' order.

        At most ``INFLIGHT_PER_WORKER`` tasks per worker are out at once, so a huge input is never held
        as pending work; tasks still pending when the caller stops (or fails) are cancelled.
        """
        pending: deque[tuple[M, Future[list[list[Entity]]]]] = deque()
        limit = self.processes * INFLIGHT_PER_WORKER
        # No task is legitimately this slow (80k characters): past it a worker is stuck, the batch fails.
        timeout = current().pii_task_timeout
        try:
            for meta, kind, items in tasks:
                pending.append((meta, self._submit(key, kind, items)))
                if len(pending) >= limit:
                    done_meta, fut = pending.popleft()
                    yield done_meta, self._result(fut, timeout)
            while pending:
                done_meta, fut = pending.popleft()
                yield done_meta, self._result(fut, timeout)
        finally:
            for _, fut in pending:
                fut.cancel()

    def _submit(self, key: EngineKey, kind: str, items: list[str]) -> Future[list[list[Entity]]]:
        try:
            return self._executor.submit(_task, key, kind, items)
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            raise PoolUnavailableError(f"PII worker pool unavailable: {exc}") from exc

    def _result(self, fut: Future[Any], timeout: float) -> Any:
        try:
            return fut.result(timeout=timeout)
        except BrokenProcessPool as exc:
            raise PoolUnavailableError(f"a PII worker process died or failed to start: {exc}") from exc
        except FuturesTimeout as exc:
            raise PoolUnavailableError(f"a PII worker task took over {timeout:.0f} s") from exc
        except CancelledError as exc:
            # Another thread shut the pool down (PiiEngine.close) while this batch was out.
            raise PoolUnavailableError("the PII worker pool was shut down during the batch") from exc

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers; ``kill`` terminates them first (a stuck or broken pool). Idempotent."""
        if kill:
            # The executor has no public kill; a stuck worker would make shutdown(wait=True) hang.
            # Not under the lock: it is what lets a close already waiting on a stuck worker end.
            for proc in list(getattr(self._executor, "_processes", {}).values()):
                if proc.is_alive():
                    proc.terminate()
        # Two threads may close one pool (shutdown_pool, and a batch discarding it): a second
        # executor shutdown would close its queues twice (EBADF).
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._executor.shutdown(wait=True, cancel_futures=True)


def plan_tasks(texts: list[str], processes: int) -> Iterator[tuple[Any, str, list[str]]]:
    """Tasks of about equal size, in input order, as ``(meta, kind, items)``: ``texts`` tasks are runs of
    whole short texts (meta: their indices); ``chunks`` tasks are a few windows of one long text (meta:
    the text's index, the windows' offsets, and whether this is its last task)."""
    total = sum(min(len(t), MAX_TASK_CHARS) for t in texts)
    size = min(MAX_TASK_CHARS, max(MIN_TASK_CHARS, total // (processes * TASKS_PER_WORKER)))
    idxs: list[int] = []
    run: list[str] = []
    chars = 0
    for idx, text in enumerate(texts):
        if len(text) <= CHUNK_CHARS:
            idxs.append(idx)
            run.append(text)
            chars += len(text) + 1
            if chars >= size:
                yield ("texts", idxs, False), "texts", run
                idxs, run, chars = [], [], 0
            continue
        if run:
            yield ("texts", idxs, False), "texts", run
            idxs, run, chars = [], [], 0
        offsets: list[int] = []
        windows: list[str] = []
        held = 0
        for offset, window in iter_chunks(text):
            if windows and held + len(window) > size:
                yield ("chunks", (idx, offsets), False), "chunks", windows
                offsets, windows, held = [], [], 0
            offsets.append(offset)
            windows.append(window)
            held += len(window)
        yield ("chunks", (idx, offsets), True), "chunks", windows
    if run:
        yield ("texts", idxs, False), "texts", run


_lock = threading.Lock()
_pool: WorkerPool | None = None
_failures = 0


def get_pool(processes: int, key: EngineKey) -> WorkerPool | None:
    """The shared pool (started on first use with ``processes`` workers); None when pools are off or
    the workers could not start (the caller then runs in-process)."""
    global _pool, _failures
    with _lock:
        if processes < 2 or _failures >= MAX_FAILURES:
            return None
        if _pool is not None and _pool.processes != processes:
            _pool.close()
            _pool = None
        if _pool is None:
            try:
                _pool = WorkerPool(processes, key)
            except PoolUnavailableError as exc:
                # The promise of this module: no pool means the batch runs in-process.
                _failures += 1
                log.warning("%s; running in-process", exc)
                return None
        return _pool


def discard_pool(pool: WorkerPool, reason: BaseException) -> None:
    """Kill a broken or stuck pool; the next large batch starts a fresh one (up to MAX_FAILURES)."""
    global _pool, _failures
    log.warning("PII worker pool failed (%s); running the batch in-process", reason)
    with _lock:
        if _pool is pool:
            _pool = None
            _failures += 1
    pool.close(kill=True)


def shutdown_pool() -> None:
    """Stop the shared pool's workers (at exit, or by ``PiiEngine.close``); a later big batch restarts it."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()


def pool_running() -> bool:
    """Whether a shared pool is up (tests and the benchmark)."""
    return _pool is not None


atexit.register(shutdown_pool)
