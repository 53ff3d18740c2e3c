"""A small content-addressed cache of per-text JSON results (e.g. PII entities), one SQLite file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from sanitas.embeddings.cache import immediate

_CHUNK = 900


class RowCache:
    """Maps ``sha256(namespace, text)`` to a JSON value; safe to share between processes (WAL)."""

    def __init__(self, path: Path, *, namespace: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.namespace = namespace
        self.con = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("CREATE TABLE IF NOT EXISTS rows (key BLOB PRIMARY KEY, value TEXT NOT NULL)")

    def key(self, text: str) -> bytes:
        """Cache key of ``text`` in this namespace."""
        return hashlib.sha256(f"{self.namespace}\x00{text}".encode()).digest()

    def get_many(self, texts: list[str]) -> dict[int, Any]:
        """Cached values by position in ``texts``."""
        keys = [self.key(t) for t in texts]
        pos: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            pos.setdefault(k, []).append(i)
        out: dict[int, Any] = {}
        uniq = list(pos)
        for s in range(0, len(uniq), _CHUNK):
            part = uniq[s : s + _CHUNK]
            marks = ",".join("?" * len(part))
            for k, value in self.con.execute(f"SELECT key, value FROM rows WHERE key IN ({marks})", part):
                for i in pos[bytes(k)]:
                    out[i] = json.loads(value)
        return out

    def put_many(self, items: list[tuple[str, Any]]) -> None:
        """Store values for texts (existing keys are replaced)."""
        if not items:
            return
        rows = [(self.key(t), json.dumps(v)) for t, v in items]
        with immediate(self.con) as con:
            con.executemany("INSERT OR REPLACE INTO rows (key, value) VALUES (?, ?)", rows)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()
