"""Faults (issue 12, items 10 and 13): a 500 keeps the keep-alive connection; full or read-only storage
answers 507/503 naming the cause, and readiness reports it."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from sanitas.api.app import create_app
from sanitas.api.faults import storage_fault
from sanitas.config import Settings
from sanitas.db import Database
from tests.api.helpers import comment, reinfer_error, serving


def crashing_app(settings: Settings, db: Database) -> FastAPI:
    """The real app with routes that fail the way a bug or a full disk does."""
    app = create_app(settings, db=db, auth=False)

    def boom() -> dict[str, Any]:
        raise RuntimeError("a bug")

    def no_space() -> dict[str, Any]:
        raise OSError(errno.ENOSPC, "No space left on device")

    app.add_api_route("/api/test/boom", boom)
    app.add_api_route("/api/v1/test/boom", boom)
    app.add_api_route("/api/test/no-space", no_space)
    return app


@pytest.fixture()
def server(settings: Settings, db: Database) -> Iterator[int]:
    with serving(crashing_app(settings, db)) as port:
        yield port


def exchange(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection; the status and body of its answer."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k.lower() == "content-length"
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), body


def test_a_500_keeps_the_keep_alive_connection(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        status, body = exchange(sock, "/api/test/boom")
        assert status == 500 and b'"INTERNAL_ERROR"' in body
        status, body = exchange(sock, "/api/v1/test/boom")
        assert status == 500 and b'"status":"error"' in body  # the Re:infer family's envelope
        # The same connection answers the next request.
        status, body = exchange(sock, "/healthz")
        assert status == 200 and b'"ok"' in body


def test_no_space_left_is_507_naming_the_cause(settings: Settings, db: Database) -> None:
    with TestClient(crashing_app(settings, db), raise_server_exceptions=False) as client:
        r = client.get("/api/test/no-space")
        assert r.status_code == 507
        assert r.json()["error"]["code"] == "INSUFFICIENT_STORAGE"
        assert "no space left on device" in r.json()["error"]["message"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "no space" in ready.json()["storage"]


def _sync(client: TestClient, n: int, start: int = 0) -> Any:
    batch = [comment(f"c{i}", "x" * 4000 + str(i)) for i in range(start, start + n)]
    return client.post("/api/v1/sources/acme/src/sync", json={"comments": batch})


def test_full_sqlite_store_is_507_and_not_ready(client: TestClient, db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("the page limit is SQLite's; PostgreSQL's read-only store is the next test")
    assert client.put("/api/v1/sources/acme/src", json={"source": {}}).status_code == 200
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "storage": "ok"}
    # The writer has one pooled connection: capping its file at the current size fills the database.
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
    try:
        body = reinfer_error(_sync(client, 50), 507, "database or disk is full")
        assert "internal error" not in body["message"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable" and "full" in ready.json()["storage"]
    finally:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")
    assert _sync(client, 50).status_code == 200
    assert client.get("/readyz").status_code == 200


def test_read_only_postgresql_is_503_and_not_ready(client: TestClient, db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only (SQLite's full store is the previous test)")
    assert client.put("/api/v1/sources/acme/src", json={"source": {}}).status_code == 200
    name = db.engine.url.database
    admin = create_engine(db.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        db.engine.dispose()  # new connections pick the setting up
        body = reinfer_error(_sync(client, 3), 503, "read-only")
        assert "internal error" not in body["message"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "read-only" in ready.json()["storage"]
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()
        db.engine.dispose()
    assert _sync(client, 3).status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (OSError(errno.EROFS, "Read-only file system"), 503),
        (OSError(errno.ENOSPC, "No space left on device"), 507),
        (RuntimeError("wrapped: database or disk is full"), 507),
        (ValueError("an ordinary bug"), None),
    ],
)
def test_storage_fault_classification(exc: BaseException, status: int | None) -> None:
    fault = storage_fault(exc)
    assert (fault.status if fault else None) == status
