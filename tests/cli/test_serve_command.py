"""`sanitas serve` starts the real server, creates and prints an admin key once, and guards --no-auth."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sanitas.config import Settings
from sanitas.db import Database
from tests.conftest import free_port

SANITAS = [sys.executable, "-m", "sanitas.cli.main"]


def _env(home: Path, db_url: str) -> dict[str, str]:
    return {**os.environ, "SANITAS_HOME": str(home), "SANITAS_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}


def _start(home: Path, db_url: str, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SANITAS, "serve", "--port", str(port), "--workers", "0", *extra],
        env=_env(home, db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_ready(port: int, proc: subprocess.Popen[str], host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()[0]}")
        try:
            if httpx.get(f"http://{host}:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not become ready")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_first_start_prints_an_admin_key_once(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    proc = _start(tmp_path, db_url, port)
    try:
        _wait_ready(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/sources").status_code == 401
        first = _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    keys = re.findall(r"sk_[0-9a-f]+_[A-Za-z0-9_-]+", first)
    assert len(keys) == 1, first
    proc = _start(tmp_path, db_url, port)
    try:
        _wait_ready(port, proc)
        r = httpx.get(f"http://127.0.0.1:{port}/api/auth/me", headers={"Authorization": f"Bearer {keys[0]}"})
        assert r.status_code == 200 and r.json()["role"] == "admin"
        second = _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not re.findall(r"sk_[0-9a-f]+_[A-Za-z0-9_-]+", second)


@pytest.mark.parametrize(
    ("host", "refused"),
    [("0.0.0.0", True), ("127.0.0.1", False)],
)
def test_no_auth_only_on_loopback(tmp_path: Path, db_url: str, host: str, refused: bool) -> None:
    port = free_port()
    proc = _start(tmp_path, db_url, port, "--host", host, "--no-auth")
    try:
        if refused:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode != 0
            assert "refused" in out
        else:
            _wait_ready(port, proc)
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/sources").status_code == 200
    finally:
        if proc.poll() is None:
            _stop(proc)


def test_no_auth_accepts_ipv6_loopback(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    proc = _start(tmp_path, db_url, port, "--host", "::1", "--no-auth")
    try:
        _wait_ready(port, proc, host="[::1]")
        assert httpx.get(f"http://[::1]:{port}/api/v1/sources").status_code == 200
    finally:
        if proc.poll() is None:
            _stop(proc)


@pytest.mark.slow
def test_sigterm_releases_the_job_an_in_process_worker_was_running(
    tmp_path: Path, db: Database, settings: Settings
) -> None:
    from sanitas.jobs import service as jobs
    from sanitas.jobs.tables import Job
    from sanitas.jobs.worker import Worker
    from tests.jobs.helpers import BIG_EXPORT_ROWS, bulk_dataset
    from tests.jobs.test_kill import job_state, wait_for

    dataset_id = bulk_dataset(db, project="acme", name="big", n=BIG_EXPORT_ROWS)
    with db.write() as s:
        job_id = jobs.enqueue(
            session=s,
            kind="export",
            project="acme",
            dataset_id=dataset_id,
            payload={"dataset_id": dataset_id, "format": "jsonl", "batch_size": 40},
        ).id
    port = free_port()
    env = {**_env(settings.home, settings.database_url), "SANITAS_JOB_LEASE_SECONDS": "2"}
    env["SANITAS_SECRET_KEY"] = "test-secret"
    proc = subprocess.Popen(
        [*SANITAS, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(port, proc)
        wait_for(
            db,
            job_id,
            lambda st: st["status"] == "running" and 2 <= st["progress"] <= 90,
            "the export to be under way",
            timeout=120,
            proc=proc,
        )
        out = _stop(proc)  # SIGTERM, as a deploy sends it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out[-3000:]
    st = job_state(db, job_id)
    # Claimable at once (not after a lease period), and the attempt was not spent.
    assert (st["status"], st["worker_id"], st["attempts"]) == ("queued", None, 1), (st, out[-3000:])
    with db.read() as s:
        row = s.get(Job, job_id)
        assert row is not None and row.max_attempts == 4
    assert "released 1 running job" in out
    folder = settings.files_dir / "jobs" / job_id
    assert [p.name for p in folder.iterdir()] == []
    assert Worker(db=db, settings=settings, kinds=["export"]).run_once(job_id=job_id)
    assert job_state(db, job_id)["status"] == "succeeded"
