"""The job table's protocol: enqueue, claim order, leases, heartbeat, cancel, retries, exclusive claims."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sanitas.db import Database
from sanitas.errors import NotFound
from sanitas.jobs import service as jobs
from sanitas.jobs.tables import Job
from sanitas.timeutil import as_utc, utcnow
from tests.jobs.helpers import TEST_KINDS

LEASE = 30


def add(db: Database, kind: str = "test.echo", *, age: int = 0, max_attempts: int = 3) -> str:
    """Enqueue a job created ``age`` seconds ago."""
    with db.write() as s:
        job = jobs.enqueue(
            session=s, kind=kind, project="acme", payload={"value": age}, max_attempts=max_attempts
        )
        job.created_at = utcnow() - timedelta(seconds=age)
        return job.id


def row(db: Database, job_id: str) -> Job:
    """The job's current row."""
    with db.read() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)  # keep the loaded values after the read session ends
        return job


def claim(
    db: Database, worker: str = "w1", kinds: list[str] | None = None, **kw: object
) -> jobs.ClaimedJob | None:
    """Claim with a 30 s lease."""
    return jobs.claim(db=db, worker_id=worker, kinds=kinds or TEST_KINDS, lease_seconds=LEASE, **kw)  # type: ignore[arg-type]


def expire_lease(db: Database, job_id: str) -> None:
    """Move the job's lease into the past, as if its worker stopped heartbeating."""
    with db.write() as s:
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1)))


def test_enqueue_records_a_queued_job(db: Database) -> None:
    job_id = add(db)
    job = row(db, job_id)
    assert (job.status, job.attempts, job.progress, job.phase, job.worker_id) == (
        "queued",
        0,
        0.0,
        "queued",
        None,
    )


def test_claims_take_the_oldest_job_first(db: Database) -> None:
    ids = {age: add(db, age=age) for age in (5, 30, 10)}
    claimed = [claim(db) for _ in range(4)]
    assert [c.id if c else None for c in claimed] == [ids[30], ids[10], ids[5], None]


@pytest.mark.parametrize(
    ("kinds", "job_id_given", "claimed"),
    [
        (["test.echo"], False, True),
        (["test.boom"], False, False),  # a worker only takes the kinds it runs
        (["test.echo"], True, True),
    ],
)
def test_claim_filters_by_kind_and_id(
    db: Database, kinds: list[str], job_id_given: bool, claimed: bool
) -> None:
    older = add(db, age=60)
    wanted = add(db, age=1)
    got = claim(db, kinds=kinds, job_id=wanted if job_id_given else None)
    if not claimed:
        assert got is None
        return
    assert got is not None and got.id == (wanted if job_id_given else older)
    job = row(db, got.id)
    assert (job.status, job.worker_id, job.attempts) == ("running", "w1", 1)
    assert as_utc(job.lease_until) > utcnow() + timedelta(seconds=LEASE - 5)  # type: ignore[arg-type]


def test_a_live_lease_is_not_reclaimed_but_an_expired_one_is(db: Database) -> None:
    job_id = add(db)
    assert claim(db, "w1") is not None
    assert claim(db, "w2") is None  # lease still valid
    expire_lease(db, job_id)
    taken = claim(db, "w2")
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert row(db, job_id).worker_id == "w2"
    # The first worker learns it lost the job and can no longer finish or fail it.
    beat = jobs.heartbeat(db=db, job_id=job_id, worker_id="w1", lease_seconds=LEASE)
    assert beat.lost
    with db.write() as s:
        assert not jobs.finish(session=s, job_id=job_id, worker_id="w1", result={})
    assert jobs.fail(db=db, job_id=job_id, worker_id="w1", error="x", retry=True) is None
    assert row(db, job_id).status == "running"


@pytest.mark.parametrize(("sent", "stored"), [(42.5, 42.5), (-3, 0.0), (150, 100.0)])
def test_heartbeat_renews_the_lease_and_records_progress(db: Database, sent: float, stored: float) -> None:
    job_id = add(db)
    assert claim(db) is not None
    expire_lease(db, job_id)
    beat = jobs.heartbeat(
        db=db,
        job_id=job_id,
        worker_id="w1",
        lease_seconds=LEASE,
        progress=sent,
        phase="embedding",
        message="m",
    )
    assert beat == jobs.Beat(lost=False, cancel=False)
    job = row(db, job_id)
    assert (job.progress, job.phase, job.message) == (stored, "embedding", "m")
    assert as_utc(job.lease_until) > utcnow() + timedelta(seconds=LEASE - 5)  # type: ignore[arg-type]
    assert claim(db, "w2") is None  # renewed, so not reclaimable


def test_heartbeat_without_progress_keeps_the_recorded_progress(db: Database) -> None:
    job_id = add(db)
    assert claim(db) is not None
    jobs.heartbeat(
        db=db, job_id=job_id, worker_id="w1", lease_seconds=LEASE, progress=10, phase="a", message="b"
    )
    jobs.heartbeat(db=db, job_id=job_id, worker_id="w1", lease_seconds=LEASE)
    job = row(db, job_id)
    assert (job.progress, job.phase, job.message) == (10.0, "a", "b")


def test_cancel_of_a_queued_job_is_immediate(db: Database) -> None:
    job_id = add(db)
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    job = row(db, job_id)
    assert (job.status, job.phase) == ("cancelled", "cancelled") and job.finished_at is not None
    assert claim(db) is None


def test_cancel_of_a_running_job_is_seen_at_the_next_heartbeat(db: Database) -> None:
    job_id = add(db)
    assert claim(db) is not None
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    assert row(db, job_id).status == "running"
    assert jobs.heartbeat(db=db, job_id=job_id, worker_id="w1", lease_seconds=LEASE).cancel
    jobs.mark_cancelled(db=db, job_id=job_id, worker_id="w1")
    job = row(db, job_id)
    assert (job.status, job.phase) == ("cancelled", "cancelled") and job.lease_until is None


def test_a_cancelled_job_whose_worker_died_is_not_run_again(db: Database) -> None:
    job_id = add(db)
    assert claim(db) is not None
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    expire_lease(db, job_id)
    assert claim(db, "w2") is None
    assert row(db, job_id).status == "cancelled"


@pytest.mark.parametrize("final", ["succeeded", "failed", "cancelled"])
def test_cancel_leaves_a_finished_job_as_it_is(db: Database, final: str) -> None:
    job_id = add(db)
    with db.write() as s:
        s.execute(update(Job).where(Job.id == job_id).values(status=final))
    with db.write() as s:
        jobs.request_cancel(session=s, job=jobs.get_job(session=s, job_id=job_id))
    assert row(db, job_id).status == final


@pytest.mark.parametrize(
    ("max_attempts", "retry", "statuses"),
    [
        (3, True, ["queued", "queued", "failed"]),
        (1, True, ["failed"]),
        (3, False, ["failed"]),  # errors that must not be retried fail at once
    ],
)
def test_fail_requeues_until_the_attempt_limit(
    db: Database, max_attempts: int, retry: bool, statuses: list[str]
) -> None:
    job_id = add(db, max_attempts=max_attempts)
    seen = []
    for n in range(len(statuses)):
        got = claim(db, f"w{n}")
        assert got is not None and got.attempts == n + 1
        seen.append(jobs.fail(db=db, job_id=job_id, worker_id=f"w{n}", error=f"err {n}", retry=retry))
    assert seen == statuses
    job = row(db, job_id)
    assert job.error == f"err {len(statuses) - 1}"
    assert claim(db, "late") is None


def test_a_job_whose_workers_keep_dying_is_given_up(db: Database) -> None:
    job_id = add(db, max_attempts=2)
    for worker in ("w1", "w2"):
        assert claim(db, worker) is not None
        expire_lease(db, job_id)
    assert claim(db, "w3") is None
    job = row(db, job_id)
    assert job.status == "failed" and job.attempts == 2
    assert job.error is not None and "gave up after 2 attempts" in job.error


def test_pending_jobs_are_each_claimed_by_exactly_one_of_many_workers(db_url: str) -> None:
    """Four workers (each with its own engine, as separate processes would have) drain 40 jobs."""
    setup = Database(db_url)
    ids = {add(setup, age=i) for i in range(40)}
    claims: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        own = Database(db_url)
        try:
            while (got := claim(own, name)) is not None:
                with lock:
                    claims[got.id] += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert set(claims) == ids and set(claims.values()) == {1}
    with setup.read() as s:
        owners = dict(s.execute(select(Job.id, Job.worker_id)).all())
    setup.dispose()
    assert all(owners[i] is not None for i in ids)


def test_postgresql_claim_skips_a_row_locked_by_another_claim(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite serialises claims through its single writer instead of row locks")
    locked, free = add(db, age=20), add(db, age=10)
    with db.write() as s:
        s.execute(select(Job).where(Job.id == locked).with_for_update()).one()
        got = claim(db, "w2")  # must not wait for the lock held by the transaction above
        assert got is not None and got.id == free
    assert row(db, locked).status == "queued"


def test_get_job_hides_unknown_and_other_kinds(db: Database) -> None:
    job_id = add(db)
    with db.read() as s:
        assert jobs.get_job(session=s, job_id=job_id, kind="test.echo").id == job_id
        for kwargs in ({"job_id": "nope"}, {"job_id": job_id, "kind": "export"}):
            with pytest.raises(NotFound):
                jobs.get_job(session=s, **kwargs)  # type: ignore[arg-type]
