"""The heal job as a pure function: rows in, decisions + scores + manifest summary out (no DB, no HTTP).

Phases: embed (through the content cache) -> every detector scores every row -> decide actions from
the options (removal wins over relabel/anonymize) -> summarise. ``progress(phase, percent, message)``
is called along the way and ``should_cancel()`` is polled between phases and batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.heal.detectors.base import (
    APPLIED,
    CHECKS,
    Detector,
    DetectorContext,
    DetectorResult,
    SkipCheck,
    empty_result,
    get_detector,
    registered,
    run_sequence,
)
from sanitas.heal.detectors.contract import HealOptions
from sanitas.heal.redact import redact
from sanitas.jobs.executor import Executor, get_executor
from sanitas.memory import release_free_memory

Progress = Callable[[str, float, str], None]

# Share of the progress bar each phase covers (embedding dominates a cold run).
_EMBED_SPAN = (2.0, 70.0)
_DETECT_SPAN = (70.0, 97.0)
_EMBED_CHUNK = 1024  # texts embedded (and cached, and reported) per step


class HealCancelled(Exception):
    """Raised when ``should_cancel()`` returned True; nothing partial is returned."""


@dataclass
class HealRow:
    """One comment to heal: its id, its text (subject + body + signature) and its label, if any."""

    id: str
    text: str
    label: str | None
    uid: str | None = None


@dataclass
class RowDecision:
    """What happens to one row and why."""

    id: str
    uid: str | None
    actions: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    labels_before: list[str] | None = None
    labels_after: list[str] | None = None
    new_text: str | None = None
    entities: list[dict[str, Any]] | None = None

    @property
    def removed(self) -> bool:
        """True when the row leaves the healed dataset."""
        return "removed" in self.actions


@dataclass
class HealResult:
    """Per-row decisions and scores (same order as the input) and the manifest summary."""

    rows: list[HealRow]
    decisions: list[RowDecision]
    scores: list[dict[str, Any]]
    manifest: dict[str, Any]

    def changed(self) -> list[RowDecision]:
        """Decisions with an action or a finding: the lines of manifest.jsonl."""
        return [d for d in self.decisions if d.actions or d.findings]

    def healed_rows(self) -> list[HealRow]:
        """The healed dataset: removed rows dropped, rewritten text and fixed labels applied."""
        out = []
        for row, d in zip(self.rows, self.decisions, strict=True):
            if d.removed:
                continue
            label = d.labels_after[0] if d.labels_after else row.label
            out.append(
                HealRow(
                    id=row.id,
                    text=d.new_text if d.new_text is not None else row.text,
                    label=label,
                    uid=row.uid,
                )
            )
        return out


def manifest_lines(result: HealResult) -> Iterator[dict[str, Any]]:
    """manifest.jsonl lines (README, "What heal writes"): one per changed or flagged comment."""
    for d in result.changed():
        line: dict[str, Any] = {"id": d.id, "uid": d.uid, "actions": d.actions, "findings": d.findings}
        if d.labels_before is not None or d.labels_after is not None:
            line["labels_before"] = d.labels_before
            line["labels_after"] = d.labels_after
        if d.entities:
            line["entities"] = d.entities
        yield line


def score_lines(result: HealResult) -> Iterator[dict[str, Any]]:
    """scores.jsonl lines (README, "What heal writes"): per comment, each check's score, the suggestion."""
    yield from result.scores


_detector_lock = threading.Lock()
_detectors: dict[str, Detector] = {}


def _detector(name: str) -> Detector:
    """Detectors are created once per process; each loads its models on first use (``setup``), so a
    re-run whose results are all cached never loads them."""
    with _detector_lock:
        det = _detectors.get(name)
        if det is None:
            det = get_detector(name)
            _detectors[name] = det
        return det


class _CheckStore:
    """Runs checks through the result cache (``engine.resultcache``) when the job has a cache dir."""

    def __init__(self, cache_dir: Path | None, ctx: DetectorContext) -> None:
        self.ctx = ctx
        self.cache: Any = None
        self.digest: Any = None
        if cache_dir is not None:
            from sanitas.heal.engine.resultcache import CheckCache, DatasetDigest

            self.cache = CheckCache(cache_dir / "heal_checks.sqlite")
            self.digest = DatasetDigest.of(ctx.texts, ctx.labels, ctx.embeddings)

    def run(self, det: Detector, should_cancel: Callable[[], bool] | None) -> Any:
        """The check's ``CachedCheck``: from the cache, or computed (and stored unless cancelled)."""
        from sanitas.heal.engine.resultcache import CachedCheck

        params = det.cache_params()
        key = self.digest.key(det.name, det.depends_on, params) if self.cache else None
        hit = self.cache.get(key) if key is not None else None
        if hit is not None:
            return hit
        try:
            entry = CachedCheck(result=det.detect(self.ctx), models=list(det.models))
        except SkipCheck as exc:
            entry = CachedCheck(empty_result(self.ctx.n, reason=str(exc)), list(det.models), str(exc))
        # Never keep a check a cancel may have stopped half way, nor one whose parameters changed
        # while it ran (a model that failed to load and was replaced by a fallback).
        cancelled = should_cancel is not None and should_cancel()
        if key is not None and not cancelled and det.cache_params() == params:
            self.cache.put(key, entry)
        return entry

    def close(self) -> None:
        """Close the cache file."""
        if self.cache is not None:
            self.cache.close()


def run_heal(
    rows: list[HealRow],
    options: HealOptions,
    *,
    cache: Any = None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    cache_dir: Path | None = None,
    embedder: Any = None,
    executor: Executor | str | None = None,
) -> HealResult:
    """Heal ``rows`` according to ``options``; see the module docstring for the phases.

    ``cache`` is an ``EmbeddingCache`` (vectors are computed only for texts not in it); ``cache_dir``
    lets detectors cache per-text results (PII entities) between jobs. The embedding runs as stages on
    ``executor`` (an ``Executor`` or its name; default: ``SANITAS_EXECUTOR``), and so does a check's
    per-row batch work (the sensitive check's PII detection); the detectors' whole-dataset statistics
    run here. Raises ``HealCancelled``.
    """
    timings: dict[str, float] = {}

    def report(phase: str, pct: float, msg: str) -> None:
        if should_cancel is not None and should_cancel():
            raise HealCancelled(f"cancelled during {phase}")
        if progress is not None:
            progress(phase, round(float(pct), 1), msg)

    n = len(rows)
    report("starting", 0.0, f"{n} comments to heal")
    if n == 0:
        manifest = _summary([], [], {}, {}, {}, options, timings, message="empty dataset: nothing to do")
        report("done", 100.0, "empty dataset: nothing to do")
        return HealResult(rows=[], decisions=[], scores=[], manifest=manifest)

    texts = [r.text for r in rows]
    runner: list[Executor] = []

    def stages() -> Executor:
        # Resolved on first use, once per heal: a heal whose vectors are all cached never needs one.
        if not runner:
            runner.append(_executor(executor))
        return runner[0]

    t0 = time.perf_counter()
    embeddings = _embed(texts, cache=cache, embedder=embedder, executor=stages, report=report)
    timings["embedding"] = round(time.perf_counter() - t0, 3)

    def embed_more(extra: list[str]) -> np.ndarray:
        # Detectors embed a few extra texts, often several times: they run in this process like the
        # detectors (a cluster round trip per call would cost seconds), on the same stages.
        return _embed(extra, cache=cache, embedder=embedder, executor=_local, report=None)

    ctx = DetectorContext(
        texts=texts,
        labels=[r.label for r in rows],
        embeddings=embeddings,
        should_cancel=should_cancel,
        embed=embed_more,
        cache_dir=cache_dir,
        executor=stages,
    )
    results: dict[str, DetectorResult] = {}
    skipped: dict[str, str] = {}
    models: dict[str, list[str]] = {}
    store = _CheckStore(cache_dir, ctx)
    lo, hi = _DETECT_SPAN
    try:
        sequence = run_sequence()
        for k, name in enumerate(sequence):
            report(name, lo + (hi - lo) * k / len(sequence), f"checking {name.replace('_', '-')}")
            t = time.perf_counter()
            entry = store.run(_detector(name), should_cancel)
            results[name], models[name] = entry.result, entry.models
            if entry.skipped is not None:
                skipped[name] = entry.skipped
            timings[name] = round(time.perf_counter() - t, 3)
            # each check frees its working arrays: give their pages back before the next one grows
            release_free_memory()
    finally:
        store.close()
    report("deciding", hi, "deciding actions")
    t = time.perf_counter()
    decisions = _decide(rows, results, options)
    scores = _scores(rows, results)
    timings["deciding"] = round(time.perf_counter() - t, 3)
    manifest = _summary(rows, decisions, results, skipped, models, options, timings)
    # the executor the embedding stages were given ("local" or "ray")
    manifest["executor"] = runner[0].name if runner else _executor(executor).name
    report("done", 100.0, manifest["message"])
    return HealResult(rows=rows, decisions=decisions, scores=scores, manifest=manifest)


def _local() -> Executor:
    return get_executor("local")


def _executor(executor: Executor | str | None) -> Executor:
    """The executor the embedding stages run on: the one given, or the one ``SANITAS_EXECUTOR`` names."""
    if isinstance(executor, Executor):
        return executor
    if executor is None:
        from sanitas.config import load_settings

        # secret_key given: reading the executor's name must not create the installation's secret file.
        executor = load_settings(secret_key=b"").executor
    return get_executor(executor)


def _embed(
    texts: list[str],
    *,
    cache: Any,
    embedder: Any,
    executor: Callable[[], Executor],
    report: Callable[[str, float, str], None] | None,
) -> Any:
    """The texts' vectors through the content cache: a given ``embedder`` (a test double) runs here,
    the configured model runs as tokenize and encode stages on the executor (nothing is loaded when
    every vector is cached, so a warm re-run never imports torch)."""
    from sanitas.embeddings import embed_texts
    from sanitas.embeddings.stages import embed_through

    lo, hi = _EMBED_SPAN

    def cb(done: int, total: int) -> None:
        if report is not None:
            report("embedding", lo + (hi - lo) * done / max(total, 1), f"embedded {done}/{total} comments")

    if embedder is not None:
        return embed_texts(texts, cache=cache, embedder=embedder, progress=cb, batch_size=_EMBED_CHUNK)
    return embed_through(executor(), texts, cache=cache, progress=cb, batch_size=_EMBED_CHUNK)


def _decide(rows: list[HealRow], results: dict[str, DetectorResult], opt: HealOptions) -> list[RowDecision]:
    """Each row's findings (one per check that flags it) and actions: the request's flags, as the
    checks declare them; a removal wins over a relabel or an anonymization."""
    values = opt.as_dict()
    checks = [(cls, results[cls.name]) for cls in registered() if cls.name in results]
    decisions = []
    for i, row in enumerate(rows):
        d = RowDecision(id=row.id, uid=row.uid)
        apply: dict[str, dict[str, Any]] = {}
        for cls, res in checks:
            if not res.flags[i]:
                continue
            detail = res.details[i]
            score = round(float(res.scores[i]), 4)
            d.findings.append({"check": cls.name, "score": score, **cls.finding(detail)})
            if detail and detail.get("entities") and d.entities is None:
                d.entities = detail["entities"]
            for flag in cls.flags:
                if opt.enabled(flag) and flag.action not in apply and cls.applies(flag, detail, values):
                    apply[flag.action] = detail or {}
        decisions.append(d)
        if opt.scan_only:
            continue
        if "remove" in apply:
            d.actions.append(APPLIED["remove"])
            continue
        if "relabel" in apply:
            d.actions.append(APPLIED["relabel"])
            d.labels_before = [row.label] if row.label is not None else []
            d.labels_after = [apply["relabel"]["suggested_label"]]
        if "anonymize" in apply:
            d.actions.append(APPLIED["anonymize"])
            d.new_text = redact(row.text, apply["anonymize"]["entities"])
    return decisions


def _suggested_label(row: HealRow, results: dict[str, DetectorResult], i: int) -> str | None:
    """What a relabelling check suggests for row ``i`` (flagged or not), else the row's label."""
    for cls in registered():
        res = results.get(cls.name)
        if res is None or not any(f.action == "relabel" for f in cls.flags):
            continue
        detail = res.details[i]
        if detail and "suggested_label" in detail:
            return str(detail["suggested_label"])
    return row.label


def _scores(rows: list[HealRow], results: dict[str, DetectorResult]) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(rows):
        line: dict[str, Any] = {"id": row.id, "uid": row.uid}
        for name in CHECKS:
            if name in results:
                line[name] = round(float(results[name].scores[i]), 4)
        line["suggested_label"] = _suggested_label(row, results, i)
        out.append(line)
    return out


def _summary(
    rows: list[HealRow],
    decisions: list[RowDecision],
    results: dict[str, DetectorResult],
    skipped: dict[str, str],
    models: dict[str, list[str]],
    options: HealOptions,
    timings: dict[str, float],
    *,
    message: str | None = None,
) -> dict[str, Any]:
    actions = {a: sum(a in d.actions for d in decisions) for a in APPLIED.values()}
    checks: dict[str, Any] = {}
    for name in CHECKS:
        res = results.get(name)
        flagged = [d for d in decisions if any(f["check"] == name for f in d.findings)]
        checks[name] = {
            "flagged": len(flagged),
            "removed": sum(d.removed for d in flagged),
            "threshold": None if res is None else round(float(res.threshold), 4),
            "summary": {} if res is None else res.summary,
        }
    poisoned = results.get("poisoned")
    triggers = poisoned.summary.get("triggers", []) if poisoned is not None else []
    if message is None:
        parts = [f"{v} {k}" for k, v in actions.items() if v]
        message = "healed: " + (", ".join(parts) if parts else "no changes")
        if options.scan_only:
            message = "scan only: " + ", ".join(
                f"{c['flagged']} {k}" for k, c in checks.items() if c["flagged"]
            )
        if skipped:
            message += "; skipped " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
    return {
        "rows": len(rows),
        "rows_after": len(rows) - actions["removed"],
        "actions": actions,
        "checks": checks,
        "thresholds": {k: c["threshold"] for k, c in checks.items()},
        "triggers": triggers,
        "models": models,
        "timings": timings,
        "skipped": skipped,
        "options": options.as_dict(),
        "message": message,
    }
