"""``sanitas heal``: heal a file on this machine with the same pipeline the service's heal jobs run.

Its check switches and options are derived from the registered checks (``heal.detectors.contract``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sanitas.cli.common import console, fail, progress_bar


def heal(
    input: Path,
    out: Path | None,
    manifest: Path | None,
    scores: Path | None,
    report: Path | None,
    all_checks: bool,
    dry_run: bool,
    **checks: Any,
) -> None:
    """Heal a labelled dataset file: fix labels and remove bad rows, with a manifest of every change.

    Example: sanitas heal data.jsonl --all --out healed.jsonl --manifest m.jsonl --report r.html
    """
    from sanitas.config import load_settings
    from sanitas.heal.detectors.contract import HealOptions, request_flags
    from sanitas.heal.runner import InputError, heal_file

    if all_checks:
        # Every removal and relabel on; an in-place rewrite (anonymize) stays as asked, so removing
        # sensitive rows wins over masking them when both would be on.
        for _, flag in request_flags():
            if flag.action != "anonymize":
                checks[flag.name] = True
    try:
        options = HealOptions(**checks, scan_only=dry_run)
    except ValueError as exc:
        raise fail(str(exc).replace("_", "-")) from None
    named = (("--out", out), ("--manifest", manifest), ("--scores", scores), ("--report", report))
    outputs = {str(p): option for option, p in named if p is not None}
    for target, option in outputs.items():
        if Path(target).is_dir():
            raise fail(f"{option} {target} is a folder: give a file path")
    settings = load_settings()
    started = time.perf_counter()
    try:
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
    except InputError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        # an output that cannot be written (no permission, disk full): the heal itself went through
        written = set(outputs) | {str(d) for o in outputs for d in Path(o).parents}
        if exc.filename is None or str(exc.filename) not in written:
            raise
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    _summary(result, time.perf_counter() - started)
    for label, path in (("healed", out), ("manifest", manifest), ("scores", scores), ("report", report)):
        if path is not None:
            console.print(f"{label}: {path}")


def _parameters() -> list[inspect.Parameter]:
    """The command's parameters: files, ``--all``, one on/off switch per check flag and one integer
    option per check option (as the registered checks declare them), ``--dry-run``."""
    from sanitas.heal.detectors.contract import request_flags, request_options

    def kw(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [
        inspect.Parameter(
            "input",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Path,
            default=typer.Argument(..., exists=True, dir_okay=False, help="JSONL, CSV or Parquet file."),
        ),
        kw("out", Path | None, typer.Option(None, "--out", help="Healed dataset, in the input's format.")),
        kw(
            "manifest",
            Path | None,
            typer.Option(None, "--manifest", help="JSON Lines: one line per changed row."),
        ),
        kw(
            "scores",
            Path | None,
            typer.Option(None, "--scores", help="JSON Lines: every row's score per check."),
        ),
        kw("report", Path | None, typer.Option(None, "--report", help="A readable HTML report.")),
        kw("all_checks", bool, typer.Option(False, "--all", help="Turn every check on.")),
    ]
    for _, flag in request_flags():
        switch = flag.name.replace("_", "-")
        params.append(
            kw(flag.name, bool, typer.Option(flag.default, f"--{switch}/--no-{switch}", help=flag.help))
        )
    for _, opt in request_options():
        params.append(kw(opt.name, int, typer.Option(opt.default, min=opt.ge, max=opt.le, help=opt.help)))
    params.append(
        kw("dry_run", bool, typer.Option(False, "--dry-run", help="Score every row, change nothing."))
    )
    return params


def build_command() -> Callable[..., None]:
    """The ``heal`` command for the checks registered now (typer reads its signature)."""

    def command(**kwargs: Any) -> None:
        heal(**kwargs)

    params = _parameters()
    command.__doc__ = heal.__doc__
    command.__name__ = "heal"
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


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
    app.command("heal")(build_command())
