"""The ``heal`` job: run the heal pipeline on a branch, write its files, publish a branch atomically.

The heavy work happens in ``run`` and writes only job-scoped files; ``publish`` creates the healed branch
in the same transaction that marks the job done, so a worker killed at any point leaves either no
branch or exactly one, and the parent branch is never modified.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from sanitas.datasets import branches
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
from sanitas.heal.report import write_report
from sanitas.jobs.context import JobCancelled, JobContext
from sanitas.jobs.registry import JobKind, register
from sanitas.sources.text import text_segments


def rewrite_messages(messages: list[dict[str, Any]], entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mask entities (offsets into the comment text) inside the message parts they fall in."""
    out = [dict(m) for m in messages]
    pos = 0
    for index, part, text in text_segments(messages):
        end = pos + len(text)
        local = [e for e in entities if pos <= e["start"] < end]
        if local:
            pieces, cur = [], 0
            for e in sorted(local, key=lambda x: x["start"]):
                s, t = e["start"] - pos, min(e["end"], end) - pos
                if s < cur:
                    continue
                pieces += [text[cur:s], f"[REDACTED_{str(e['label']).upper()}]"]
                cur = t
            pieces.append(text[cur:])
            out[index] = {**out[index], part: {**out[index][part], "text": "".join(pieces)}}
        pos = end + 1
    return out


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
            messages[str(row.pk)] = rewrite_messages(row.body.get("messages", []), d.entities)
    return {"excluded": excluded, "labels": labels, "messages": messages}


def run_heal_job(ctx: JobContext) -> dict[str, Any]:
    """Score and decide on every comment of the branch; write manifest, scores, report and healed file."""
    p = ctx.payload
    ctx.progress(1, "loading", "reading the dataset")
    with ctx.db.read() as session:
        dataset = get_dataset_by_id(session=session, dataset_id=p["dataset_id"])
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
        )
    except HealCancelled as exc:
        raise JobCancelled(ctx.job.id) from exc
    ctx.progress(96, "writing", "writing manifest, scores and report")
    out, attempt = ctx.output_dir, ctx.job.attempts
    files = {name: str(out / name) for name in ("manifest.jsonl", "scores.jsonl", "download", "changes.json")}
    _write_lines(out / "manifest.jsonl", manifest_lines(result), attempt)
    _write_lines(out / "scores.jsonl", score_lines(result), attempt)
    healed = ({"id": r.id, "text": r.text, "label": r.label} for r in result.healed_rows())
    _write_lines(out / "download", healed, attempt)
    (out / "changes.json").write_bytes(orjson.dumps(_changes(result, rows)))
    write_report(out / "report.html", result)
    files["report.html"] = str(out / "report.html")
    ctx.check()
    manifest = dict(result.manifest)
    return {
        "manifest": manifest,
        "files": files,
        "message": manifest.get("message", "done"),
        "output_filename": f"{p.get('dataset_name', 'dataset')}-healed.jsonl"
        if p["target"] == "download"
        else None,
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
