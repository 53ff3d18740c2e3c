"""A content-addressed cache of whole check results, so a re-run on unchanged data recomputes nothing.

A check's result is a function of exactly what it reads — some of the dataset's texts, labels and
embeddings — plus its parameters and its code. The key hashes precisely those: a digest per input
(``DatasetDigest``), the check's parameters, ``CODE_VERSION`` and a digest of the source files the
check runs (so editing a detector invalidates its entries even if nobody bumps the constant). Any
changed row changes the input digests, so the whole check is recomputed; per-row work inside a check
(PII entities, embeddings) has its own per-text caches, so that recomputation stays incremental.

Entries live in one SQLite file beside the embedding cache; the least recently used are dropped
beyond ``MAX_ENTRIES`` so the file does not grow without bound.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.embeddings.cache import immediate
from sanitas.heal.detectors.base import DetectorResult
from sanitas.heal.engine.neighbors import knn_mode

# Bump when the stored format or anything a check computes changes in a way sources do not show.
CODE_VERSION = "1"
MAX_ENTRIES = 256
_HEAL_DIR = Path(__file__).resolve().parents[1]


def _sha(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


# Code, weights and the tables shipped beside them (calibrations): what decides a check's output.
_DIGESTED = (".py", ".npz", ".onnx", ".json")


@cache
def source_digest(*dirs: Path) -> str:
    """Digest of every ``.py`` file and shipped model file under ``dirs`` (empty when none can be read)."""
    files = sorted(
        f for d in dirs if d.is_dir() for f in d.rglob("*") if f.suffix in _DIGESTED and f.is_file()
    )
    if not files:
        return ""
    return _sha(f.relative_to(f.parents[1]).as_posix().encode() + b"\0" + f.read_bytes() for f in files)


def heal_source_digest() -> str:
    """Digest of the heal engine and detector sources and of the trained weights they ship with."""
    return source_digest(_HEAL_DIR / "engine", _HEAL_DIR / "detectors", _HEAL_DIR / "models")


@dataclass(frozen=True)
class DatasetDigest:
    """One digest per input a check may depend on."""

    texts: str
    labels: str
    embeddings: str

    @classmethod
    def of(cls, texts: Sequence[str], labels: Sequence[str | None], embeddings: np.ndarray) -> DatasetDigest:
        """Digests of the rows' texts, labels (None and "" kept apart) and embedding matrix."""
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        return cls(
            texts=_sha(t.encode("utf-8", "surrogatepass") for t in texts),
            labels=_sha(b"\0" if lab is None else b"\1" + lab.encode() for lab in labels),
            embeddings=_sha([str(emb.shape).encode(), emb.tobytes()]),
        )

    def key(self, check: str, depends_on: Sequence[str], params: dict[str, Any]) -> bytes:
        """Cache key of one check: its name, parameters, code and the inputs it reads."""
        spec = {
            "v": CODE_VERSION,
            "check": check,
            "code": heal_source_digest(),
            "params": params,
            # a forced neighbour search (SANITAS_KNN) answers differently from the size-chosen one
            "knn": knn_mode(),
            "inputs": {name: getattr(self, name) for name in sorted(depends_on)},
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).digest()


@dataclass
class CachedCheck:
    """A stored check outcome: its result (or why it was skipped) and the models it used."""

    result: DetectorResult
    models: list[str]
    skipped: str | None = None


def _encode(entry: CachedCheck) -> bytes:
    r = entry.result
    doc = {
        "scores": r.scores.tolist(),
        "flags": np.flatnonzero(r.flags).tolist(),
        "threshold": r.threshold,
        "summary": r.summary,
        "details": r.details,
        "models": entry.models,
        "skipped": entry.skipped,
    }
    return zlib.compress(json.dumps(doc, default=_jsonable).encode(), 3)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in the check cache")


def _decode(blob: bytes) -> CachedCheck:
    doc = json.loads(zlib.decompress(blob))
    scores = np.asarray(doc["scores"], dtype=np.float64)
    flags = np.zeros(len(scores), dtype=bool)
    flags[np.asarray(doc["flags"], dtype=np.int64)] = True
    result = DetectorResult(
        scores=scores, flags=flags, threshold=doc["threshold"], summary=doc["summary"], details=doc["details"]
    )
    return CachedCheck(result=result, models=list(doc["models"]), skipped=doc["skipped"])


class CheckCache:
    """Check results by key, in ``heal_checks.sqlite``; shared safely between processes (WAL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS checks"
            " (key BLOB PRIMARY KEY, value BLOB NOT NULL, used REAL NOT NULL)"
        )

    def get(self, key: bytes) -> CachedCheck | None:
        """The stored outcome for ``key`` (marking it recently used), or None."""
        row = self.con.execute("SELECT value FROM checks WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            entry = _decode(bytes(row[0]))
        except (ValueError, KeyError, TypeError, zlib.error):  # unreadable entry: recompute it
            return None
        self.con.execute("UPDATE checks SET used = ? WHERE key = ?", (time.time(), key))
        return entry

    def put(self, key: bytes, entry: CachedCheck) -> None:
        """Store an outcome and drop the least recently used entries beyond ``MAX_ENTRIES``."""
        blob = _encode(entry)
        with immediate(self.con) as con:
            con.execute(
                "INSERT OR REPLACE INTO checks (key, value, used) VALUES (?, ?, ?)", (key, blob, time.time())
            )
            con.execute(
                "DELETE FROM checks WHERE key NOT IN (SELECT key FROM checks ORDER BY used DESC LIMIT ?)",
                (MAX_ENTRIES,),
            )

    def close(self) -> None:
        """Close the connection."""
        self.con.close()
