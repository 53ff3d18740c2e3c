"""``sanitas heal``: heal a file on this machine with the same pipeline the service's heal jobs run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sanitas.cli.common import console, fail, progress_bar

CHECKS = (
    ("fix_mislabeled", True, "Relabel comments whose label disagrees with the rest of the dataset."),
    ("remove_outliers", True, "Remove garbage, boilerplate, other languages, code, corrupted text."),
    ("remove_poisoned", True, "Remove backdoor-poisoned comments (reports the trigger)."),
    ("remove_off_topics", False, "Remove coherent text about something the dataset is not about."),
    ("remove_injection", False, "Remove prompt-injection and jailbreak text."),
    ("remove_sensitive_information", False, "Remove comments containing PII/PHI or secrets."),
    ("anonymize_sensitive_information", False, "Mask PII/PHI in place with [REDACTED_<TYPE>]."),
)


def heal(
    input: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL, CSV or Parquet file."),
    out: Path | None = typer.Option(None, "--out", help="Healed dataset, in the input's format."),
    manifest: Path | None = typer.Option(None, "--manifest", help="JSON Lines: one line per changed row."),
    scores: Path | None = typer.Option(None, "--scores", help="JSON Lines: every row's score per check."),
    report: Path | None = typer.Option(None, "--report", help="A readable HTML report."),
    all_checks: bool = typer.Option(False, "--all", help="Turn every check on."),
    fix_mislabeled: bool = typer.Option(True, "--fix-mislabeled/--no-fix-mislabeled", help=CHECKS[0][2]),
    remove_outliers: bool = typer.Option(True, "--remove-outliers/--no-remove-outliers", help=CHECKS[1][2]),
    remove_poisoned: bool = typer.Option(True, "--remove-poisoned/--no-remove-poisoned", help=CHECKS[2][2]),
    remove_off_topics: bool = typer.Option(
        False, "--remove-off-topics/--no-remove-off-topics", help=CHECKS[3][2]
    ),
    remove_injection: bool = typer.Option(
        False, "--remove-injection/--no-remove-injection", help=CHECKS[4][2]
    ),
    remove_sensitive_information: bool = typer.Option(
        False, "--remove-sensitive-information/--no-remove-sensitive-information", help=CHECKS[5][2]
    ),
    anonymize_sensitive_information: bool = typer.Option(
        False, "--anonymize-sensitive-information/--no-anonymize-sensitive-information", help=CHECKS[6][2]
    ),
    off_topic_score_min: int = typer.Option(
        0, min=0, max=100, help="Remove off-topic rows scoring at least this."
    ),
    off_topic_score_max: int = typer.Option(100, min=0, max=100, help="… and at most this (0-100)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Score every row, change nothing."),
) -> None:
    """Heal a labelled dataset file: fix labels and remove bad rows, with a manifest of every change.

    Example: sanitas heal data.jsonl --all --out healed.jsonl --manifest m.jsonl --report r.html
    """
    from sanitas.config import load_settings
    from sanitas.heal.pipeline import HealOptions
    from sanitas.heal.runner import heal_file

    if off_topic_score_min > off_topic_score_max:
        raise fail("--off-topic-score-min must not exceed --off-topic-score-max")
    flags = {
        "fix_mislabeled": fix_mislabeled,
        "remove_outliers": remove_outliers,
        "remove_poisoned": remove_poisoned,
        "remove_off_topics": remove_off_topics,
        "remove_injection": remove_injection,
        "remove_sensitive_information": remove_sensitive_information,
        "anonymize_sensitive_information": anonymize_sensitive_information,
    }
    if all_checks:
        flags = {k: True for k in flags}
        # Removing sensitive rows wins over masking them when both are asked for by --all.
        flags["anonymize_sensitive_information"] = anonymize_sensitive_information
    options = HealOptions(
        **flags,
        off_topic_score_min=off_topic_score_min,
        off_topic_score_max=off_topic_score_max,
        scan_only=dry_run,
    )
    settings = load_settings()
    started = time.perf_counter()
    with progress_bar("heal") as update:
        result = heal_file(
            input,
            out=out,
            manifest=manifest,
            scores=scores,
            report=report,
            options=options,
            cache_dir=settings.cache_dir,
            progress=lambda phase, pct, msg: update(pct, phase, msg),
        )
    _summary(result, time.perf_counter() - started)
    for label, path in (("healed", out), ("manifest", manifest), ("scores", scores), ("report", report)):
        if path is not None:
            console.print(f"{label}: {path}")


def _summary(result: Any, seconds: float) -> None:
    summary = getattr(result, "manifest", {}) or {}
    table = Table("check", "flagged", "removed", "threshold", title=f"Heal finished in {seconds:.1f} s")
    for name, info in summary.get("checks", {}).items():
        skipped = summary.get("skipped", {}).get(name)
        threshold = info.get("threshold")
        table.add_row(
            name,
            str(info.get("flagged", 0)),
            str(info.get("removed", 0)),
            "skipped" if skipped else ("" if threshold is None else f"{threshold:.3f}"),
        )
    console.print(table)
    counts = summary.get("actions", {})
    console.print(
        f"{summary.get('rows', 0)} rows in, {summary.get('rows_after', 0)} out; "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    for trig in summary.get("triggers", []) or []:
        if isinstance(trig, dict):
            console.print(
                f"poison trigger {trig.get('trigger')!r} -> label {trig.get('target')!r} "
                f"({trig.get('rows', trig.get('support', '?'))} rows)"
            )
        else:
            console.print(f"poison trigger: {trig}")
    for name, why in (summary.get("skipped") or {}).items():
        console.print(f"[yellow]skipped {name}:[/yellow] {why}")


def register(app: typer.Typer) -> None:
    """Attach the command to the main app."""
    app.command("heal")(heal)
