"""The ``export`` job: write a branch of a dataset as JSONL, CSV or Parquet, through the executor."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from sanitas.datasets import branches
from sanitas.datasets.files import simple_record, write_records
from sanitas.datasets.service import count_comments, get_dataset_by_id
from sanitas.datasets.tables import Dataset
from sanitas.jobs import service as jobs
from sanitas.jobs.context import JobContext
from sanitas.jobs.executor import Stage, get_executor
from sanitas.jobs.registry import JobKind, register
from sanitas.jobs.tables import Job

KIND = "export"


def enqueue_export(*, session: Session, dataset: Dataset, fmt: str, branch_ref: str | None = None) -> Job:
    """Queue an export of a branch (id or name; the active one by default); the API and CLI both call it."""
    branch = branches.resolve_branch(session=session, dataset=dataset, ref=branch_ref)
    return jobs.enqueue(
        session=session,
        kind=KIND,
        project=dataset.project,
        dataset_id=dataset.id,
        payload={"dataset_id": dataset.id, "branch_id": branch.id, "format": fmt},
    )


class RecordStage(Stage[branches.Row, dict[str, Any]]):
    """Turn branch rows into flat ``{"id","text","label"}`` records."""

    name = "records"

    def process_batch(self, batch: list[branches.Row]) -> list[dict[str, Any]]:
        """See :meth:`Stage.process_batch`."""
        return [simple_record(r) for r in batch]


def run_export(ctx: JobContext) -> dict[str, Any]:
    """Write the export to a temporary file in the job folder, then rename it into place (idempotent)."""
    fmt = ctx.payload["format"]
    # A killed earlier attempt may have left its partial file; it is never an output, so drop it.
    for stale in ctx.output_dir.glob(".export.*"):
        stale.unlink(missing_ok=True)
    with ctx.db.read() as session:
        dataset = get_dataset_by_id(session=session, dataset_id=ctx.payload["dataset_id"])
        branch = branches.get_branch(session=session, dataset=dataset, branch_id=ctx.payload.get("branch_id"))
        total = max(1, count_comments(session=session, dataset=dataset))
        ctx.progress(1, "reading", f"exporting {total} comments of branch {branch.name!r}")
        row_batches = branches.iter_rows(
            session=session,
            dataset=dataset,
            branch=branch,
            batch_size=int(ctx.payload.get("batch_size", 2000)),
        )

        def on_batch(done: int) -> None:
            ctx.progress(min(99.0, 100.0 * done / total), "writing", f"{done} of about {total} rows written")

        executor = get_executor(ctx.settings.executor)
        records: Iterator[list[dict[str, Any]]] = executor.map(RecordStage(), row_batches, on_batch=on_batch)
        branch_id, filename = branch.id, f"{dataset.name}.{fmt}"
        final = ctx.output_dir / f"export.{fmt}"
        tmp = ctx.output_dir / f".export.{fmt}.attempt{ctx.job.attempts}"
        with open(tmp, "wb") as out:
            rows = write_records(records, fmt, out)
            out.flush()
            os.fsync(out.fileno())
    ctx.check()
    os.replace(tmp, final)
    return {
        "format": fmt,
        "rows": rows,
        "branch_id": branch_id,
        "filename": filename,
        "path": str(final),
        "message": f"exported {rows} rows",
    }


register(JobKind(name=KIND, run=run_export))
