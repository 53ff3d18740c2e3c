"""The ``train_model`` job: embed a branch's labelled comments, train a classifier, publish a version.

``run`` writes the model only under the job's own folder; ``publish`` numbers the version, copies the
files to ``home/models/<dataset_id>/<version>/`` and inserts the row in the transaction that finishes
the job, so a killed worker leaves either a whole version or none.
"""

from __future__ import annotations

import shutil
from numbers import Real
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanitas.datasets.branches import get_branch, iter_rows
from sanitas.datasets.service import get_dataset_by_id
from sanitas.datasets.tables import Dataset
from sanitas.errors import InvalidInput
from sanitas.jobs.context import JobContext
from sanitas.jobs.registry import JobKind, register
from sanitas.models.service import KIND, next_version
from sanitas.models.tables import ModelVersion
from sanitas.timeutil import utcnow


def jsonable(value: Any) -> Any:
    """Metrics and thresholds as JSON: tuple label names become ``"Parent > Child"`` keys."""
    if isinstance(value, dict):
        return {(" > ".join(k) if isinstance(k, tuple) else str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value) if not isinstance(value, int) else int(value)
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    return value


def collect(ctx: JobContext) -> tuple[list[str], list[list[tuple[str, ...]]]]:
    """Texts and assigned labels of the labelled comments of the job's branch."""
    texts: list[str] = []
    labels: list[list[tuple[str, ...]]] = []
    with ctx.db.read() as s:
        dataset = get_dataset_by_id(session=s, dataset_id=ctx.payload["dataset_id"])
        branch = get_branch(session=s, dataset=dataset, branch_id=ctx.payload.get("branch_id"))
        for batch in iter_rows(session=s, dataset=dataset, branch=branch):
            for row in batch:
                if row.labels:
                    texts.append(row.text)
                    labels.append([tuple(n) for n in row.labels])
    return texts, labels


def run_training(ctx: JobContext) -> dict[str, Any]:
    """Train on the branch and save the model in the job folder."""
    ctx.progress(1, "reading", "reading labelled comments")
    texts, labels = collect(ctx)
    distinct = {n for ls in labels for n in ls}
    if len(texts) < 2 or len(distinct) < 2:
        raise InvalidInput(
            f"training needs labelled comments with at least 2 different labels "
            f"(found {len(texts)} labelled comments, {len(distinct)} labels)"
        )
    from sanitas.embeddings.cache import EmbeddingCache
    from sanitas.embeddings.stages import embed_through
    from sanitas.jobs.executor import get_executor
    from sanitas.models.classifier import train_classifier

    def progress(*args: Any, **_: Any) -> None:
        nums = [a for a in args if isinstance(a, int | float)]
        msg = next((a for a in args if isinstance(a, str)), "training")
        if len(nums) >= 2:
            pct = 100.0 * nums[0] / max(nums[1], 1)
        elif nums:
            pct = nums[0] * 100.0 if nums[0] <= 1 else nums[0]
        else:
            pct = 50.0
        ctx.progress(min(95.0, 5 + 0.9 * pct), "training", msg)

    ctx.progress(5, "training", f"training on {len(texts)} comments, {len(distinct)} labels")
    cache = EmbeddingCache(ctx.settings.cache_dir / "embeddings.sqlite")
    # The heavy part, embedding, runs as stages on the worker's executor (local or Ray), vector for
    # vector as train_classifier would compute it, and each group lands in the cache as it comes back:
    # a retried job resumes from there. Fitting the heads is one solver run per view, done here.
    executor = get_executor(ctx.settings.executor, settings=ctx.settings)
    embeddings = embed_through(
        executor,
        texts,
        cache=cache,
        progress=lambda done, total: ctx.progress(
            5 + 50.0 * done / max(total, 1), "training", f"embedding: {done} of {total} comments"
        ),
    )
    try:
        model = train_classifier(
            texts,
            labels,
            cache=cache,
            progress=progress,
            seed=int(ctx.payload.get("seed", 0)),
            embeddings=embeddings,
        )
    except ValueError as exc:  # unusable labels: retrying cannot help
        raise InvalidInput(f"cannot train on this branch: {exc}") from exc
    ctx.check()
    out = ctx.output_dir / "model"
    if out.exists():
        shutil.rmtree(out)
    model.save(out)
    return {
        "model_dir": str(out),
        "labels": [list(n) for n in sorted(distinct)],
        "metrics": jsonable(getattr(model, "metrics", {}) or {}),
        "thresholds": jsonable(getattr(model, "thresholds", {}) or {}),
        "trained_on": len(texts),
        "executor": executor.name,
    }


def publish_training(session: Session, ctx: JobContext, result: dict[str, Any]) -> dict[str, Any]:
    """Number the version and make it visible, in the job's finishing transaction."""
    dataset_id = ctx.payload["dataset_id"]
    lock = select(Dataset).where(Dataset.id == dataset_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        lock = lock.with_for_update()  # versions of one dataset are numbered one at a time
    if session.scalar(lock) is None:
        raise InvalidInput(f"dataset {dataset_id} was deleted during training")
    version = next_version(session=session, dataset_id=dataset_id)
    target = ctx.settings.home / "models" / dataset_id / str(version)
    if target.exists():  # left by an earlier attempt whose transaction did not commit
        shutil.rmtree(target)
    shutil.copytree(result["model_dir"], target)
    session.add(
        ModelVersion(
            dataset_id=dataset_id,
            version=version,
            job_id=ctx.job.id,
            branch_id=ctx.payload.get("branch_id"),
            path=str(target),
            pinned=False,
            labels=result["labels"],
            metrics=result["metrics"],
            thresholds=result["thresholds"],
            trained_on=result["trained_on"],
            created_at=utcnow(),
        )
    )
    session.flush()
    out = {k: v for k, v in result.items() if k != "model_dir"}
    return {**out, "version": version, "path": str(target), "message": f"model version {version} trained"}


register(JobKind(name=KIND, run=run_training, publish=publish_training))
