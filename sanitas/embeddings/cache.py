"""A content-addressed vector cache in its own SQLite file (safe for several processes, WAL), and a
memory-mapped store for a job's embedding matrix.

A heal of a million rows holds a 1M x 384 float32 matrix (1.5 GB): built as one in-memory array from
a dict of per-row vectors it costs twice that at its peak. ``VectorStore`` streams the vectors, in
row order and chunk by chunk, into a ``.npy`` file mapped into memory instead, and
``EmbeddingCache.fill`` writes cached vectors straight into such a file: the operating system pages
the matrix in as the detectors read it, and resident memory stays at what they touch."""

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

    def fill(self, keys: Sequence[bytes], out: np.ndarray) -> np.ndarray:
        """Write the cached vector of ``keys[i]`` into ``out[i]``; returns which rows were found.

        ``out`` may be a memory-mapped array (``VectorStore``): rows are looked up and written one
        chunk at a time, so no dict of every vector is ever held.
        """
        con = self._conn()
        found = np.zeros(len(keys), dtype=bool)
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            uniq = list(dict.fromkeys(part))
            marks = ",".join("?" * len(uniq))
            got = {
                bytes(k): blob
                for k, blob in con.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", uniq)
            }
            for j, k in enumerate(part):
                blob = got.get(k)
                if blob is not None:
                    out[i + j] = np.frombuffer(blob, dtype=np.float32)
                    found[i + j] = True
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store vectors; existing keys are left as they are."""
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        if not rows:
            return
        with immediate(self._conn()) as con:
            con.executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)


class VectorStore:
    """A job's ``(n, dim)`` float32 embedding matrix in a memory-mapped ``.npy`` file.

    Written in any order (``write(start, vectors)``), read back with ``open`` as a read-only memory
    map that numpy code takes like any array. The file is a plain ``.npy``: ``np.load(path,
    mmap_mode="r")`` reads it too.
    """

    def __init__(self, path: Path, n: int, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.shape = (n, dim)
        self.array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=self.shape)

    def write(self, start: int, vectors: np.ndarray) -> None:
        """Store ``vectors`` as rows ``start..start+len(vectors)``."""
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self.shape[1] or start < 0 or start + len(vecs) > self.shape[0]:
            raise ValueError(f"rows {start}..{start + len(vecs)} of {vecs.shape} do not fit {self.shape}")
        self.array[start : start + len(vecs)] = vecs

    def open(self) -> np.ndarray:
        """The finished matrix, flushed and mapped read-only."""
        self.array.flush()
        return VectorStore.load(self.path)

    @staticmethod
    def load(path: Path) -> np.ndarray:
        """A stored matrix, mapped read-only."""
        return np.asarray(np.load(path, mmap_mode="r"))
