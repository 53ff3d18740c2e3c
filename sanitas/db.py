"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (team).

SQLite runs in WAL mode with one writer: write sessions go through a one-connection pool and start with
``BEGIN IMMEDIATE`` so a transaction that reads before it writes never fails to upgrade its lock.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Integer, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool, QueuePool

# Below this much free space a write is about to fail: readiness says so before it does.
MIN_FREE_BYTES = 1 << 20
# JSONB on PostgreSQL, JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are plain integers there.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _json_default(value: Any) -> Any:
    # What json.dumps accepted before (numpy float64 is a float there) must keep working.
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_dumps(value: Any) -> str:
    # orjson is several times faster than json.dumps on the comment bodies a sync writes.
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    return orjson.dumps(value, default=_json_default, option=options).decode()


JSON_ARGS: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 8,
        pool_timeout=120,
        connect_args={"check_same_thread": False, "timeout": 60},
        **JSON_ARGS,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        # Autocommit at the driver level so that we, not pysqlite, decide how transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Both engines plus session factories; the one object services get their sessions from."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        files_dir: Path | None = None,
        job_max_attempts: int | None = None,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Where job files live; a commit that deleted what owns them removes them (see ``write``).
        self.files_dir = files_dir
        # ``SANITAS_JOB_MAX_ATTEMPTS``: jobs enqueued through this database get this many attempts.
        self.job_max_attempts = job_max_attempts
        # The last storage fault a write met (disk full, read-only), until a write commits again.
        self.storage_error: str | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, writer=True)
            self.read_engine = _sqlite_engine(url, writer=False)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, **JSON_ARGS
            )
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error.

        Callables a change queued in ``session.info["after_commit"]`` (removing files of deleted rows) run
        only once the commit succeeded, so a rolled-back delete keeps its files.
        """
        with self._write() as session:
            session.info["files_dir"] = self.files_dir
            if self.job_max_attempts is not None:
                session.info["job_max_attempts"] = self.job_max_attempts
            try:
                yield session
                session.commit()
                self.storage_error = None
            except BaseException:
                session.rollback()
                raise
            finally:
                done = session.info.pop("after_commit", [])
            for callback in done:
                callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (never committed)."""
        with self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    def note_storage_fault(self, cause: str) -> None:
        """Remember that a write failed for lack of storage (readiness reports it)."""
        self.storage_error = cause

    def storage_problem(self) -> str | None:
        """Why writes cannot succeed now (a remembered fault, or no free space left), or None."""
        if self.storage_error:
            return self.storage_error
        folders = [p for p in (self.files_dir, self.sqlite_path and self.sqlite_path.parent) if p]
        for folder in folders:
            try:
                free = shutil.disk_usage(folder).free
            except OSError:
                continue  # not created yet: nothing written there, nothing full
            if free < MIN_FREE_BYTES:
                return f"the disk holding {folder} is full ({free} bytes free)"
        return None

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL or an in-memory database)."""
        if not self.is_sqlite or "///" not in self.url:
            return None
        path = self.url.split("///", 1)[1]
        return Path(path) if path and path != ":memory:" else None

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.read_engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (the only way tables are created)."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).resolve().parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def import_all_tables() -> None:
    """Import every domain's tables so ``Base.metadata`` is complete (Alembic and tests)."""
    from sanitas.auth import tables as _auth  # noqa: F401
    from sanitas.datasets import tables as _datasets  # noqa: F401
    from sanitas.heal import tables as _heal  # noqa: F401
    from sanitas.jobs import tables as _jobs  # noqa: F401
    from sanitas.models import tables as _models  # noqa: F401
    from sanitas.sources import tables as _sources  # noqa: F401
    from sanitas.streams import tables as _streams  # noqa: F401
