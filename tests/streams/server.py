"""Start the real server (``sanitas serve``) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from sanitas.config import Settings


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    """Environment that points a process at the test's database and home."""
    return {
        **os.environ,
        "SANITAS_HOME": str(settings.home),
        "SANITAS_DATABASE_URL": settings.database_url,
        "SANITAS_SECRET_KEY": settings.secret_key.decode(),
        "HF_HUB_OFFLINE": "1",
    }


@contextmanager
def running_server(settings: Settings, *, workers: int = 0) -> Iterator[str]:
    """``sanitas serve`` on 127.0.0.1; yields its base URL and stops it afterwards."""
    port = free_port()
    settings.home.mkdir(parents=True, exist_ok=True)
    log = open(settings.home / f"server-{port}.log", "wb")  # noqa: SIM115
    exe = Path(sys.executable).parent / "sanitas"
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=server_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError((settings.home / f"server-{port}.log").read_text()[-3000:])
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 90 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
