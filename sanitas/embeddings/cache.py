"""A content-addressed vector cache in its own SQLite file (safe for several processes, WAL)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_CHUNK = 900  # stays under SQLite's default limit on bound parameters


@contextmanager
def immediate(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on an autocommit connection, taking the write lock at once.

    ``BEGIN IMMEDIATE`` so two processes sharing a cache file wait on the lock instead of failing later
    with "database is locked" when a read transaction tries to upgrade.
    """
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class EmbeddingCache:
    """Maps ``sha256(model_id, text)`` to a float32 vector."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._conn() as con:
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    @staticmethod
    def key(model_id: str, text: str) -> bytes:
        """Cache key of one text under one model."""
        return hashlib.sha256(f"{model_id}\x00{text}".encode()).digest()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors found for ``keys``; absent keys are simply missing from the result."""
        con = self._conn()
        found: dict[bytes, np.ndarray] = {}
        uniq = list(dict.fromkeys(keys))
        for i in range(0, len(uniq), _CHUNK):
            part = uniq[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            for k, blob in con.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part):
                found[bytes(k)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors; existing keys are left as they are."""
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        if not rows:
            return
        with immediate(self._conn()) as con:
            con.executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)
