"""The worker loop: claim a job, run it with a heartbeat thread, publish and finish atomically."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.errors import SanitasError
from sanitas.jobs import service
from sanitas.jobs.context import JobCancelled, JobContext, JobLost
from sanitas.jobs.registry import KINDS, load_builtin_kinds

log = logging.getLogger("sanitas.worker")


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
        beat.start()
        try:
            if kind is None:
                raise SanitasError(f"unknown job kind {ctx.job.kind!r}")
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
        except JobCancelled:
            service.mark_cancelled(db=self.db, job_id=ctx.job.id, worker_id=self.worker_id)
        except JobLost:
            log.warning("job %s: lease lost, another worker owns it now", ctx.job.id)
        except SanitasError as exc:
            service.fail(
                db=self.db, job_id=ctx.job.id, worker_id=self.worker_id, error=exc.message, retry=False
            )
        except Exception as exc:
            log.error("job %s failed: %s", ctx.job.id, traceback.format_exc())
            retry = kind.retry_errors if kind is not None else False
            service.fail(
                db=self.db,
                job_id=ctx.job.id,
                worker_id=self.worker_id,
                error=f"{type(exc).__name__}: {exc}",
                retry=retry,
            )
        finally:
            done.set()
            beat.join(timeout=5)


def run_workers_in_thread(*, db: Database, settings: Settings, count: int = 1) -> list[Worker]:
    """Start ``count`` in-process workers on daemon threads (used by ``sanitas serve``)."""
    workers = []
    for _ in range(count):
        w = Worker(db=db, settings=settings)
        threading.Thread(target=w.run_forever, daemon=True, name=f"worker-{w.worker_id}").start()
        workers.append(w)
    return workers
