"""``sanitas datasets``: create, list, import files, export branches (on the local store)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sanitas.cli.common import console, fail, friendly_errors, local_db, progress_bar, split_ref

if TYPE_CHECKING:
    from sanitas.db import Database
    from sanitas.jobs.worker import Worker

# The dataset, job and database modules are imported inside each command: every ``sanitas`` command
# imports this module to build the command tree, and most never touch datasets (~0.5 s per process).

app = typer.Typer(help="Create, list, import into and export datasets (PROJECT/NAME).", no_args_is_help=True)


@app.command("create")
def create(
    ref: str = typer.Argument(..., help="PROJECT/NAME"), title: str = typer.Option("", help="Title.")
) -> None:
    """Create a dataset (or update its title)."""
    from sanitas.datasets import service
    from sanitas.datasets.schemas import DatasetFields

    project, name = split_ref(ref)
    with local_db() as (_, db), friendly_errors(), db.write() as s:
        row, created = service.put_dataset(
            session=s, project=project, name=name, fields=DatasetFields(title=title)
        )
    console.print(f"{'created' if created else 'updated'} dataset {project}/{name} (id {row.id})")


@app.command("list")
def list_() -> None:
    """List datasets with their comment counts and active branch."""
    from rich.table import Table

    from sanitas.datasets import branches, service

    table = Table("dataset", "id", "comments", "labels", "active branch")
    with local_db() as (_, db), db.read() as s:
        for d in service.list_datasets(session=s, projects=None):
            br = branches.get_branch(session=s, dataset=d)
            table.add_row(
                f"{d.project}/{d.name}",
                d.id,
                str(service.count_comments(session=s, dataset=d)),
                str(len(d.label_defs)),
                br.name,
            )
    console.print(table)


@app.command("import")
def import_(
    ref: str = typer.Argument(..., help="PROJECT/NAME (created if absent)"),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL, CSV or Parquet file."),
    format: str | None = typer.Option(None, help="jsonl, csv or parquet (default: from the extension)."),
) -> None:
    """Import a file: all rows or none; re-importing the same file changes nothing."""
    from sanitas.datasets import service
    from sanitas.datasets.files import detect_format, parse_file
    from sanitas.datasets.imports import import_rows
    from sanitas.datasets.schemas import DatasetFields

    project, name = split_ref(ref)
    with local_db() as (_, db), friendly_errors():
        fmt = detect_format(path.name, format)
        with console.status(f"reading {path.name}"):
            rows = parse_file(path.read_bytes(), fmt)
        with console.status(f"importing {len(rows)} rows"), db.write() as s:
            ds, _ = (
                service.put_dataset(session=s, project=project, name=name, fields=DatasetFields())
                if not _exists(s, project, name)
                else (service.get_dataset(session=s, project=project, name=name), False)
            )
            res = import_rows(session=s, dataset=ds, rows=rows, fmt=fmt)
    console.print(
        f"{project}/{name}: {res.rows} rows — {res.new} new, {res.updated} updated, "
        f"{res.unchanged} unchanged, {res.labelled} labels set"
    )


def _run_job(
    db: Database, worker: Worker, job_id: str, update: Callable[[float, str, str], None]
) -> tuple[str, dict[str, Any] | None, str | None]:
    """Run the job here until it is final, retries included; if a server's worker holds it, follow it."""
    from sanitas.jobs import service as jobs

    while True:
        ran = worker.run_once(job_id=job_id, on_progress=update)
        with db.read() as s:
            job = jobs.get_job(session=s, job_id=job_id)
            state = (job.status, job.result, job.error)
            update(job.progress, job.phase, job.message)
        if state[0] in jobs.FINAL:
            return state
        if not ran:
            time.sleep(0.5)


def _exists(s: object, project: str, name: str) -> bool:
    from sanitas.datasets import service
    from sanitas.errors import NotFound

    try:
        service.get_dataset(session=s, project=project, name=name)  # type: ignore[arg-type]
        return True
    except NotFound:
        return False


@app.command("export")
def export(
    ref: str = typer.Argument(..., help="PROJECT/NAME"),
    out: Path = typer.Argument(..., help="Output file."),
    format: str | None = typer.Option(None, help="jsonl, csv or parquet (default: from the extension)."),
    branch: str | None = typer.Option(None, help="Branch id or name (default: the active branch)."),
) -> None:
    """Export a branch, as a durable export job run here."""
    from sanitas.datasets import service
    from sanitas.datasets.export_job import enqueue_export
    from sanitas.datasets.files import detect_format
    from sanitas.jobs.worker import Worker

    project, name = split_ref(ref)
    with local_db() as (settings, db), friendly_errors():
        fmt = detect_format(out.name, format)
        with db.write() as s:
            ds = service.get_dataset(session=s, project=project, name=name)
            job_id = enqueue_export(session=s, dataset=ds, fmt=fmt, branch_ref=branch).id
        with progress_bar("export") as update:
            worker = Worker(db=db, settings=settings, kinds=["export"])
            status, result, error = _run_job(db, worker, job_id, update)
    if status != "succeeded" or not result:
        raise fail(f"export {status}: {error}")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result["path"], out)
    console.print(f"wrote {result['rows']} rows to {out}")
