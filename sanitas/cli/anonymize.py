"""``sanitas anonymize``: detect and mask PII in a file on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sanitas.cli.common import console, fail, progress_bar


def anonymize(
    input: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSONL, CSV, Parquet or plain text file."
    ),
    out: Path | None = typer.Option(None, "--out", help="Anonymized file, in the input's format."),
    entities: Path | None = typer.Option(None, "--entities", help="JSON Lines: the entities found per row."),
    pii_types: str = typer.Option("", "--pii-types", help="Comma-separated types (default: all)."),
    method: str = typer.Option("aimon_pii_m1", "--method", help="heuristics, aimon_pii_m1, llm, … or all."),
    threshold: float = typer.Option(0.3, min=0.0, max=1.0, help="Minimum calibrated score."),
    mask_config: str = typer.Option(
        "{}", "--mask-config", help='JSON, e.g. {"email": "HASH", "person": "FAKE"}.'
    ),
) -> None:
    """Find PII/PHI and mask it.

    Example: sanitas anonymize chats.jsonl --pii-types person,email --out clean.jsonl --entities e.jsonl
    """
    from sanitas.pii.runner import anonymize_file
    from sanitas.pii.types import UnknownMethodError, UnknownPiiTypeError

    try:
        masks = json.loads(mask_config)
    except json.JSONDecodeError as exc:
        raise fail(f"--mask-config is not valid JSON: {exc}") from None
    types = [t.strip() for t in pii_types.split(",") if t.strip()] or None
    try:
        with progress_bar("anonymize") as update:
            summary = anonymize_file(
                input,
                out=out,
                entities_path=entities,
                pii_types=types,
                method=method,
                threshold=threshold,
                mask_config=masks,
                progress=update,
            )
    except (UnknownPiiTypeError, UnknownMethodError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"done: {summary}")


def register(app: typer.Typer) -> None:
    """Attach the command to the main app."""
    app.command("anonymize")(anonymize)
