"""The ``heal`` job: run the heal pipeline on a branch, write its files, publish a branch atomically.

The heavy work happens in ``run`` and writes only job-scoped files; ``publish`` creates the healed branch
in the same transaction that marks the job done, so a worker killed at any point leaves either no
branch or exactly one, and the parent branch is never modified.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import orjson

from sanitas.datasets import branches
from sanitas.datasets.files import Layout, write_records
from sanitas.datasets.service import get_dataset_by_id
from sanitas.embeddings import EmbeddingCache
from sanitas.heal.pipeline import (
    HealCancelled,
    HealOptions,
    HealResult,
    HealRow,
    manifest_lines,
    run_heal,
    score_lines,
)
from sanitas.heal.redact import redact_messages
from sanitas.heal.report import write_report
from sanitas.jobs.context import JobCancelled, JobContext
from sanitas.jobs.executor import get_executor
from sanitas.jobs.registry import JobKind, register
from sanitas.sources.text import comment_text


def _write_lines(path: Path, lines: Any, attempt: int) -> None:
    tmp = path.with_name(f".{path.name}.attempt{attempt}")
    with open(tmp, "wb") as fh:
        for line in lines:
            fh.write(orjson.dumps(line) + b"\n")
    os.replace(tmp, path)


def _changes(result: HealResult, rows: list[branches.Row]) -> dict[str, Any]:
    excluded, labels, messages = [], {}, {}
    for row, d in zip(rows, result.decisions, strict=True):
        if d.removed:
            excluded.append(row.pk)
            continue
        if "relabeled" in d.actions and d.labels_after:
            labels[str(row.pk)] = [[p.strip() for p in lab.split(">")] for lab in d.labels_after]
        if "anonymized" in d.actions and d.entities:
            messages[str(row.pk)] = redact_messages(row.body.get("messages", []), d.entities)
    return {"excluded": excluded, "labels": labels, "messages": messages}


def healed_branch_rows(rows: list[branches.Row], changes: dict[str, Any]) -> list[branches.Row]:
    """The rows as the healed branch would read them (what ``target=dataset`` publishes)."""
    excluded = set(changes["excluded"])
    out = []
    for row in rows:
        if row.pk in excluded:
            continue
        key = str(row.pk)
        if key in changes["messages"]:
            msgs = changes["messages"][key]
            row = dataclasses.replace(row, body={**row.body, "messages": msgs}, text=comment_text(msgs))
        if key in changes["labels"]:
            row = dataclasses.replace(row, labels=changes["labels"][key])
        out.append(row)
    return out


def _write_healed(path: Path, rows: list[branches.Row], layout: Layout, attempt: int) -> int:
    """The healed dataset in the imported file's layout (shape and format), replaced atomically."""
    tmp = path.with_name(f".{path.name}.attempt{attempt}")
    try:
        with open(tmp, "wb") as fh:
            n = write_records(iter([[layout.record(r) for r in rows]]), layout.format, fh, layout.columns())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def run_heal_job(ctx: JobContext) -> dict[str, Any]:
    """Score and decide on every comment of the branch; write manifest, scores, report and healed file."""
    p = ctx.payload
    ctx.progress(1, "loading", "reading the dataset")
    with ctx.db.read() as session:
        dataset = get_dataset_by_id(session=session, dataset_id=p["dataset_id"])
        layout = Layout.of(dataset.file_layout)
        branch = branches.get_branch(session=session, dataset=dataset, branch_id=p.get("branch_id"))
        rows = [
            r for batch in branches.iter_rows(session=session, dataset=dataset, branch=branch) for r in batch
        ]
    heal_rows = [
        HealRow(id=r.id, uid=r.uid, text=r.text, label=" > ".join(r.labels[0]) if r.labels else None)
        for r in rows
    ]
    options = HealOptions(**p["options"], scan_only=bool(p.get("dry_run")))

    def progress(phase: str, pct: float, message: str) -> None:
        ctx.progress(1 + 0.94 * pct, phase, message)

    try:
        result = run_heal(
            heal_rows,
            options,
            cache=EmbeddingCache(ctx.settings.cache_dir / "embeddings.sqlite"),
            cache_dir=ctx.settings.cache_dir,
            progress=progress,
            should_cancel=ctx.should_cancel,
            # the worker's own settings (SANITAS_EXECUTOR, RAY_ADDRESS), read once at its start
            executor=get_executor(ctx.settings.executor, settings=ctx.settings),
        )
    except HealCancelled as exc:
        raise JobCancelled(ctx.job.id) from exc
    ctx.progress(96, "writing", "writing manifest, scores and report")
    out, attempt = ctx.output_dir, ctx.job.attempts
    files = {name: str(out / name) for name in ("manifest.jsonl", "scores.jsonl", "download", "changes.json")}
    _write_lines(out / "manifest.jsonl", manifest_lines(result), attempt)
    _write_lines(out / "scores.jsonl", score_lines(result), attempt)
    changes = _changes(result, rows)
    _write_healed(out / "download", healed_branch_rows(rows, changes), layout, attempt)
    (out / "changes.json").write_bytes(orjson.dumps(changes))
    write_report(out / "report.html", result)
    files["report.html"] = str(out / "report.html")
    ctx.check()
    manifest = dict(result.manifest)
    filename = f"{p.get('dataset_name', 'dataset')}-healed.{layout.format}"
    return {
        "manifest": manifest,
        "files": files,
        "message": manifest.get("message", "done"),
        "output_filename": filename if p["target"] == "download" else None,
        # What ``GET /api/jobs/{id}/download`` serves: the healed file, under its name.
        "path": files["download"],
        "filename": filename,
        "format": layout.format,
    }


def publish_heal(session: Any, ctx: JobContext, result: dict[str, Any]) -> dict[str, Any]:
    """Create the healed branch (``target=dataset``) in the job's finishing transaction."""
    p = ctx.payload
    result = {**result, "activated": False, "created_branch_id": None, "created_branch_name": None}
    if p["target"] != "dataset" or p.get("dry_run"):
        return result
    raw = orjson.loads(Path(result["files"]["changes.json"]).read_bytes())
    changes = branches.ChangeSet(
        excluded=set(raw["excluded"]),
        labels={int(k): v for k, v in raw["labels"].items()},
        messages={int(k): v for k, v in raw["messages"].items()},
    )
    dataset = get_dataset_by_id(session=session, dataset_id=p["dataset_id"])
    parent = branches.get_branch(session=session, dataset=dataset, branch_id=p.get("branch_id"))
    branch = branches.create_branch(
        session=session,
        dataset=dataset,
        changes=changes,
        parent=parent,
        origin="healing",
        job_id=ctx.job.id,
        name=p.get("branch_name") or f"healed-{ctx.job.id[:8]}",
        activate=bool(p.get("activate")),
    )
    result.update(
        activated=bool(p.get("activate")), created_branch_id=branch.id, created_branch_name=branch.name
    )
    return result


register(JobKind(name="heal", run=run_heal_job, publish=publish_heal))
