"""Per-batch results of a job under deterministic names, so that a retried attempt resumes.

A job that maps a stage over batches writes each batch's output as one shard, ``<k>.jsonl`` (the
output lines) beside ``<k>.json`` (the batch's digest and whatever the job needs to summarise it),
in a folder of the job's own directory. A shard is written under an attempt-named temporary name and
renamed into place, its meta first and its lines last, so a shard whose lines exist is whole. The next
attempt skips each batch whose shard exists *and* was made from the same rows (the digest of their
content), recomputes the rest, and assembles the shards in order: the output is the same as one
attempt's, however often the job was interrupted, and an attempt redoes at most the batches that
were in flight. Written here, not taken from a library: it is a few renames in a folder, tied to the
job's attempt numbering (``sanitas.jobs.context.remove_attempt_files``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from sanitas.jobs.context import remove_attempt_files


def digest(items: Iterable[Any]) -> str:
    """A digest of a batch's input (anything orjson can write), to tell whether a shard still applies."""
    h = hashlib.sha256()
    for item in items:
        h.update(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
        h.update(b"\n")
    return h.hexdigest()


class ShardStore:
    """The shards of one job in ``folder``; ``attempt`` names this attempt's temporary files."""

    def __init__(self, folder: Path, *, attempt: int) -> None:
        self.folder = folder
        self.attempt = attempt
        folder.mkdir(parents=True, exist_ok=True)
        # Half-written shards of earlier attempts (a killed worker's) are garbage.
        remove_attempt_files(folder, before=attempt)

    def _lines(self, k: int) -> Path:
        return self.folder / f"{k:08d}.jsonl"

    def _meta(self, k: int) -> Path:
        return self.folder / f"{k:08d}.json"

    def meta(self, k: int) -> dict[str, Any] | None:
        """Shard ``k``'s meta when the shard is whole, else None."""
        if not self._lines(k).is_file():
            return None
        try:
            meta: dict[str, Any] = orjson.loads(self._meta(k).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return meta

    def done(self, k: int, batch_digest: str) -> bool:
        """Whether shard ``k`` exists and was made from the batch with this digest."""
        meta = self.meta(k)
        return meta is not None and meta.get("digest") == batch_digest

    def write(self, k: int, batch_digest: str, lines: Iterable[bytes], meta: dict[str, Any]) -> None:
        """Write shard ``k`` (each line without its newline), the meta first and the lines last."""
        for path, data in (
            (self._meta(k), orjson.dumps({**meta, "digest": batch_digest})),
            (self._lines(k), b"".join(line + b"\n" for line in lines)),
        ):
            tmp = path.with_name(f".{path.name}.attempt{self.attempt}")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)

    def lines(self, k: int) -> Iterator[bytes]:
        """Shard ``k``'s lines, newline included."""
        with open(self._lines(k), "rb") as fh:
            yield from fh

    def remove(self) -> None:
        """Delete the folder (once the assembled output is in place)."""
        shutil.rmtree(self.folder, ignore_errors=True)
