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


def _wait_ready(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()[0]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
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
