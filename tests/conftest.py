"""Fixtures: every database test runs on SQLite and on PostgreSQL, each on a schema built by migrations."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from fastapi.testclient import TestClient  # noqa: E402

from sanitas.api.app import create_app  # noqa: E402
from sanitas.auth.service import create_key  # noqa: E402
from sanitas.config import Settings, load_settings  # noqa: E402
from sanitas.db import Base, Database, import_all_tables, migrate  # noqa: E402
from sanitas.streams import readahead  # noqa: E402

PG_ADMIN_URL = os.environ.get("SANITAS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("SANITAS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def _pg_database(tmp_root: Path) -> Iterator[str]:
    name = f"sanitas_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend: a template file for SQLite, a scratch database for PostgreSQL."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        path = root / "template.db"
        migrate(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
    else:
        yield from _pg_database(root)


@pytest.fixture()
def db_url(backend_template: str, tmp_path: Path) -> str:
    """A clean database for one test (SQLite: a copy of the template; PostgreSQL: truncated tables)."""
    if backend_template.startswith("sqlite"):
        src = Path(backend_template.split("///", 1)[1])
        dst = tmp_path / "sanitas.db"
        shutil.copyfile(src, dst)
        return f"sqlite:///{dst}"
    import_all_tables()
    engine = create_engine(backend_template, poolclass=NullPool)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return backend_template


@pytest.fixture()
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings whose home is the test's temporary folder."""
    return load_settings(
        home=tmp_path / "home", database_url=db_url, secret_key=b"test-secret", job_lease_seconds=2
    )


@pytest.fixture()
def db(settings: Settings) -> Iterator[Database]:
    """The test's database."""
    database = Database(settings.database_url)
    yield database
    readahead.wait_idle()  # a stream's read-ahead may still use the database
    database.dispose()


@pytest.fixture()
def make_key(db: Database) -> Callable[..., str]:
    """Create a key: ``make_key(role="write", projects=["acme"])`` returns its token."""

    def make(role: str = "admin", projects: list[str] | None = None) -> str:
        with db.write() as s:
            _, token = create_key(session=s, name="test", role=role, projects=projects or ["*"])
        return token

    return make


@pytest.fixture()
def anon(settings: Settings, db: Database) -> Iterator[TestClient]:
    """A client with no credentials."""
    with TestClient(create_app(settings, db=db, auth=True), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture()
def client(anon: TestClient, make_key: Callable[..., str]) -> TestClient:
    """A client authenticated with an admin key."""
    anon.headers["Authorization"] = f"Bearer {make_key()}"
    return anon


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def live_server(settings: Settings, db: Database) -> Iterator[str]:
    """The real app served by uvicorn on a free loopback port (auth on, no workers); yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    app = create_app(settings, db=db, auth=True, workers=0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
