"""The ``anonymization`` job: detect PII per message part, mask it, write the anonymized dataset file."""

from __future__ import annotations

import hashlib
import hmac
import os
import zipfile
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

import orjson

from sanitas.datasets import branches
from sanitas.datasets.service import count_comments, get_dataset_by_id
from sanitas.jobs.context import JobContext
from sanitas.jobs.executor import Stage, get_executor
from sanitas.jobs.registry import JobKind, register
from sanitas.jobs.shards import ShardStore, digest
from sanitas.pii.masking import apply_masks
from sanitas.sources.text import PARTS

MAX_ENTITIES_IN_RESULT = 100_000


def uses_llm(method: str) -> bool:
    """Whether a detection method runs the LLM detector."""
    from sanitas.pii.types import METHOD_PARTS, normalize_method

    return "llm" in METHOD_PARTS[normalize_method(method)]


def project_key(secret: bytes, project: str) -> bytes:
    """The per-project key ENCRYPT uses (derived, never stored)."""
    return hmac.new(secret, f"project-key:{project}".encode(), hashlib.sha256).digest()


class AnonymizeStage(Stage[branches.Row, dict[str, Any]]):
    """Detect and mask every message part of a batch of comments."""

    name = "anonymize"

    def __init__(self, payload: dict[str, Any], *, salt: bytes, key: bytes) -> None:
        self.payload = payload
        self.salt = salt
        self.key = key
        self.engine: Any = None

    def setup(self) -> None:
        """Load the detection engine once."""
        from sanitas.pii.engine import PiiEngine
        from sanitas.pii.llm import LlmConfig

        llm = None
        # The model name only matters to a method that runs the LLM; clients (the vendor's own
        # example among them) send it with every method.
        if uses_llm(self.payload["detection_method"]) and self.payload.get("llm_model_name"):
            llm = LlmConfig.from_env(model=self.payload["llm_model_name"])
        self.engine = PiiEngine(
            method=self.payload["detection_method"],
            pii_types=self.payload["pii_types"],
            threshold=float(self.payload["threshold"]),
            llm=llm,
        )
        self.engine.setup()

    def process_batch(self, batch: list[branches.Row]) -> list[dict[str, Any]]:
        """Per comment: the anonymized comment and the entities found, located by message and part."""
        where: list[tuple[int, int, str]] = []
        texts: list[str] = []
        for r_i, row in enumerate(batch):
            for m_i, msg in enumerate(row.body.get("messages", [])):
                for part in PARTS:
                    value = msg.get(part)
                    if isinstance(value, dict) and value.get("text"):
                        where.append((r_i, m_i, part))
                        texts.append(value["text"])
        found = self.engine.analyze_batch(texts) if texts else []
        out: list[dict[str, Any]] = [
            {"row": row, "messages": [dict(m) for m in row.body.get("messages", [])], "entities": []}
            for row in batch
        ]
        for (r_i, m_i, part), text, ents in zip(where, texts, found, strict=True):
            item = out[r_i]
            entities: list[dict[str, Any]] = item["entities"]
            masked = apply_masks(
                text, ents, mask_config=self.payload.get("mask_config", {}), run_salt=self.salt, key=self.key
            )
            item["messages"][m_i][part] = {**item["messages"][m_i][part], "text": masked}
            for e in ents:
                entities.append(
                    {
                        "start": e.start,
                        "end": e.end,
                        "label": e.label,
                        "score": round(float(e.score), 4),
                        "sample_id": batch[r_i].id,
                        "uid": batch[r_i].uid,
                        "message_index": m_i,
                        "field": part,
                    }
                )
        return out


def _record(item: dict[str, Any]) -> bytes:
    """One anonymized comment as a line of the output file."""
    row = item["row"]
    record = {
        "id": row.id,
        "uid": row.uid,
        "timestamp": row.body.get("timestamp"),
        "messages": item["messages"],
        "user_properties": row.body.get("user_properties", {}),
    }
    if row.labels:
        record["labels"] = row.labels
    return orjson.dumps(record)


def _batch_digest(batch: list[branches.Row]) -> str:
    """What a shard was made from: the rows as this branch shows them (an edit makes it stale)."""
    return digest([r.pk, r.seq, r.body, r.labels] for r in batch)


def run_anonymization(ctx: JobContext) -> dict[str, Any]:
    """Anonymize the dataset's active branch (as of the request) into one JSONL file plus a zip of it.

    Each batch's output is kept as a shard (``sanitas.jobs.shards``): a retried attempt recomputes only
    the batches no earlier attempt finished, and the file is the same either way.
    """
    p = ctx.payload
    salt = hmac.new(ctx.settings.secret_key, f"run-salt:{ctx.job.id}".encode(), hashlib.sha256).digest()
    stage = AnonymizeStage(p, salt=salt, key=project_key(ctx.settings.secret_key, ctx.job.project))
    ctx.progress(1, "loading", "loading the detection models")
    store = ShardStore(ctx.output_dir / "shards", attempt=ctx.job.attempts)
    name = f"{p.get('dataset_name') or 'dataset'}-anonymized.jsonl"
    tmp = ctx.output_dir / f".{name}.attempt{ctx.job.attempts}"
    pending: deque[tuple[int, str]] = deque()
    shards = 0
    resumed = 0
    with ctx.db.read() as session:
        dataset = get_dataset_by_id(session=session, dataset_id=p["dataset_id"])
        branch = branches.get_branch(session=session, dataset=dataset, branch_id=p.get("branch_id"))
        total = max(1, count_comments(session=session, dataset=dataset))

        def todo() -> Iterator[list[branches.Row]]:
            nonlocal shards, resumed
            for k, batch in enumerate(
                branches.iter_rows(session=session, dataset=dataset, branch=branch, batch_size=256)
            ):
                shards = k + 1
                key = _batch_digest(batch)
                if store.done(k, key):
                    resumed += len(batch)
                    continue
                pending.append((k, key))
                yield batch

        def on_batch(done: int) -> None:
            rows = done + resumed
            ctx.progress(min(98.0, 2 + 96.0 * rows / total), "detecting", f"{rows} of about {total} comments")

        for results in get_executor(ctx.settings.executor, settings=ctx.settings).map(
            stage, todo(), on_batch=on_batch
        ):
            k, key = pending.popleft()
            entities = [e for item in results for e in item["entities"]]
            counts = Counter(e["label"] for e in entities)
            store.write(k, key, map(_record, results), {"summary": counts, "entities": entities})
    summary: Counter[str] = Counter()
    found: list[dict[str, Any]] = []
    samples = 0
    with open(tmp, "wb") as fh:
        for k in range(shards):
            meta = store.meta(k)
            if meta is None:  # every shard was found or written above; only outside hands remove one
                raise RuntimeError(f"shard {k} of the anonymized file is missing from {store.folder}")
            summary.update(meta["summary"])
            found.extend(meta["entities"][: MAX_ENTITIES_IN_RESULT - len(found)])
            for line in store.lines(k):
                samples += 1
                fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
    ctx.check()
    final = ctx.output_dir / name
    os.replace(tmp, final)
    zpath = ctx.output_dir / "anonymized.zip"
    ztmp = ctx.output_dir / f".anonymized.zip.attempt{ctx.job.attempts}"
    with zipfile.ZipFile(ztmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(final, arcname=name)
    os.replace(ztmp, zpath)
    store.remove()
    files = [
        {
            "id": "f1",
            "path": name,
            "size_in_bytes": final.stat().st_size,
            "content_type": "application/x-ndjson",
            "local_path": str(final),
        }
    ]
    return {
        "entity_summary": dict(sorted(summary.items())),
        "samples_processed": samples,
        "entities_found": found,
        "entities_truncated": sum(summary.values()) > len(found),
        "files": files,
        "zip_path": str(zpath),
        "message": f"{sum(summary.values())} entities masked in {samples} comments",
    }


register(JobKind(name="anonymization", run=run_anonymization))
