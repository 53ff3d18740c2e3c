"""The worker loop: claim a job, run it with a heartbeat thread, publish and finish atomically."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.errors import SanitasError
from sanitas.jobs import service
from sanitas.jobs.context import JobCancelled, JobContext, JobInterrupted, JobLost, remove_attempt_files
from sanitas.jobs.failures import describe, permanent_reason
from sanitas.jobs.registry import KINDS, load_builtin_kinds

log = logging.getLogger("sanitas.worker")
# Seconds a running job gets to reach a check after SIGTERM before its lease is dropped from outside:
# well inside the 10 s a container runtime waits before SIGKILL.
SHUTDOWN_GRACE_S = 5.0
SHUTDOWN_REASON = "its worker shut down"


class Worker:
    """Runs jobs of the registered kinds until stopped."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        worker_id: str | None = None,
        kinds: list[str] | None = None,
    ) -> None:
        load_builtin_kinds()
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.kinds = kinds or sorted(KINDS)
        self.stop = threading.Event()
        # The job running now (read by another thread at shutdown) and whether none is.
        self.current: JobContext | None = None
        self.idle = threading.Event()
        self.idle.set()

    def run_forever(self) -> None:
        """Poll for jobs until :attr:`stop` is set."""
        log.info("worker %s started (kinds: %s)", self.worker_id, ", ".join(self.kinds))
        while not self.stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # a broken database connection must not kill the loop
                log.exception("worker loop error")
                ran = False
            if not ran:
                self.stop.wait(self.settings.job_poll_seconds)

    def run_once(
        self, *, job_id: str | None = None, on_progress: Callable[[float, str, str], None] | None = None
    ) -> bool:
        """Claim and run one job (a given one, if ``job_id``); False when none was runnable."""
        job = service.claim(
            db=self.db,
            worker_id=self.worker_id,
            kinds=self.kinds,
            lease_seconds=self.settings.job_lease_seconds,
            job_id=job_id,
        )
        if job is None:
            return False
        ctx = JobContext(job=job, db=self.db, settings=self.settings, worker_id=self.worker_id)
        ctx.on_progress = on_progress
        self._run(ctx)
        return True

    def _beat(self, ctx: JobContext, done: threading.Event) -> None:
        interval = max(0.2, self.settings.job_lease_seconds / 4)
        while True:
            state = ctx.pending_progress() or {}
            try:
                beat = service.heartbeat(
                    db=self.db,
                    job_id=ctx.job.id,
                    worker_id=self.worker_id,
                    lease_seconds=self.settings.job_lease_seconds,
                    progress=state.get("progress"),
                    phase=state.get("phase"),
                    message=state.get("message"),
                )
                if beat.lost:
                    ctx.lost.set()
                if beat.cancel:
                    ctx.cancelled.set()
            except Exception:
                log.exception("heartbeat failed for job %s", ctx.job.id)
            if done.wait(interval) or ctx.lost.is_set():
                return

    def _run(self, ctx: JobContext) -> None:
        kind = KINDS.get(ctx.job.kind)
        done = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(ctx, done), daemon=True, name=f"beat-{ctx.job.id[:8]}"
        )
        # Published before reading ``stop`` (interrupt() does the reverse), so a shutdown racing
        # with this claim is always seen by one side.
        self.idle.clear()
        self.current = ctx
        if self.stop.is_set():
            ctx.interrupted.set()
        beat.start()
        try:
            # Partial files of earlier attempts (a killed worker's) are garbage by now.
            remove_attempt_files(ctx.job_dir, before=ctx.job.attempts)
            if kind is None:
                raise SanitasError(f"unknown job kind {ctx.job.kind!r}")
            ctx.check()
            result = kind.run(ctx)
            ctx.check()
            with self.db.write() as session:
                if kind.publish is not None:
                    result = kind.publish(session, ctx, result)
                if not service.finish(
                    session=session, job_id=ctx.job.id, worker_id=self.worker_id, result=result
                ):
                    raise JobLost(ctx.job.id)
            log.info("job %s (%s) succeeded", ctx.job.id, ctx.job.kind)
        except (JobCancelled, JobInterrupted, JobLost) as exc:
            self._stopped(ctx, exc)
        except KeyboardInterrupt:
            # Ctrl-C of a job run in the foreground (``sanitas datasets export``): hand it back to the queue
            # at once rather than leave it leased to a process that is going away.
            service.release(db=self.db, job_id=ctx.job.id, worker_id=self.worker_id, reason=SHUTDOWN_REASON)
            raise
        except Exception as exc:
            reason = permanent_reason(exc)
            retry = reason is None and (kind.retry_errors if kind is not None else False)
            if reason is None or not isinstance(exc, SanitasError):
                log.error("job %s failed: %s", ctx.job.id, traceback.format_exc())
            service.fail(
                db=self.db, job_id=ctx.job.id, worker_id=self.worker_id, error=describe(exc), retry=retry
            )
        finally:
            done.set()
            beat.join(timeout=5)
            # This attempt's own partial files; a newer owner's attempt has a higher number.
            remove_attempt_files(ctx.job_dir, attempt=ctx.job.attempts)
            self.current = None
            self.idle.set()

    def _stopped(self, ctx: JobContext, exc: Exception) -> None:
        """A job that stopped early: lost to another worker, cancelled, or released at shutdown.

        Jobs may turn any stop request into JobCancelled (heal does), so the events say which it was.
        """
        if isinstance(exc, JobLost) or ctx.lost.is_set():
            log.warning("job %s: lease lost, another worker owns it now", ctx.job.id)
        elif ctx.cancelled.is_set() or (isinstance(exc, JobCancelled) and not ctx.interrupted.is_set()):
            service.mark_cancelled(db=self.db, job_id=ctx.job.id, worker_id=self.worker_id)
        else:
            service.release(db=self.db, job_id=ctx.job.id, worker_id=self.worker_id, reason=SHUTDOWN_REASON)
            log.info("job %s released: worker %s is shutting down", ctx.job.id, self.worker_id)

    def interrupt(self) -> None:
        """Stop claiming and ask the running job (if any) to stop at its next check."""
        self.stop.set()
        ctx = self.current
        if ctx is not None:
            ctx.interrupted.set()

    def release_running(self) -> bool:
        """Give the running job back to the queue from another thread (the job did not stop in time).

        Its lease is dropped at once, so the job's own thread can no longer finish or fail it.
        """
        ctx = self.current
        if ctx is None:
            return False
        ctx.interrupted.set()
        return service.release(
            db=self.db, job_id=ctx.job.id, worker_id=self.worker_id, reason=SHUTDOWN_REASON
        )


def shutdown_workers(workers: list[Worker], *, grace: float = SHUTDOWN_GRACE_S) -> list[str]:
    """Stop ``workers``: running jobs get ``grace`` seconds to stop at a check, then are released.

    Called on SIGTERM by ``sanitas serve`` and ``sanitas worker``: a job is never left leased to a
    process that is gone (it would look frozen for a lease period and lose an attempt). Returns the ids
    of the jobs that were running.
    """
    running = [w.current.job.id for w in workers if w.current is not None]
    for w in workers:
        w.interrupt()
    deadline = time.monotonic() + grace
    for w in workers:
        w.idle.wait(max(0.0, deadline - time.monotonic()))
    for w in workers:
        w.release_running()
    return running


def run_workers_in_thread(*, db: Database, settings: Settings, count: int = 1) -> list[Worker]:
    """Start ``count`` in-process workers on daemon threads (used by ``sanitas serve``)."""
    workers = []
    for _ in range(count):
        w = Worker(db=db, settings=settings)
        threading.Thread(target=w.run_forever, daemon=True, name=f"worker-{w.worker_id}").start()
        workers.append(w)
    return workers
