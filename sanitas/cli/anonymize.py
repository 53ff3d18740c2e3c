"""``sanitas anonymize`` masks PII in a file on this machine; ``sanitas deanonymize`` reverses ENCRYPT."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sanitas.cli.common import console, fail, progress_bar
from sanitas.config import current

LOCAL_PROJECT = "local"


def _key() -> bytes:
    """The ENCRYPT key of local runs: derived from this installation's secret (SANITAS_HOME)."""
    from sanitas.anonymization.job import project_key
    from sanitas.config import load_settings

    return project_key(load_settings().secret_key, LOCAL_PROJECT)


def _encrypts(masks: dict[str, object]) -> bool:
    """Whether ``--mask-config`` names the ENCRYPT strategy for some type (or as the default)."""
    return any(str(v).strip().upper() == "ENCRYPT" for v in masks.values())


def anonymize(
    input: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSONL, CSV, Parquet or plain text file."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Anonymized file, same format (default: IN.anonymized.EXT)."
    ),
    entities: Path | None = typer.Option(None, "--entities", help="JSON Lines: the entities found per row."),
    pii_types: str = typer.Option("", "--pii-types", help="Comma-separated types (default: all)."),
    method: str = typer.Option("aimon_pii_m1", "--method", help="heuristics, aimon_pii_m1, llm, … or all."),
    threshold: float = typer.Option(0.3, min=0.0, max=1.0, help="Minimum calibrated score."),
    mask_config: str = typer.Option(
        "{}", "--mask-config", help='JSON, e.g. {"email": "HASH", "person": "FAKE"}.'
    ),
    llm_model: str | None = typer.Option(None, "--llm-model", help="Model name for the llm methods."),
) -> None:
    """Find PII/PHI and mask it (REDACT by default; REPLACE, MASK, HASH, FAKE, ENCRYPT or a literal per type).

    Example: sanitas anonymize chats.jsonl --pii-types person,email --out clean.jsonl --entities e.jsonl
    """
    import secrets

    from sanitas.pii.llm import LlmConfig
    from sanitas.pii.runner import anonymize_file

    try:
        masks = json.loads(mask_config)
    except json.JSONDecodeError as exc:
        raise fail(f"--mask-config is not valid JSON: {exc}") from None
    if not isinstance(masks, dict):
        raise fail('--mask-config must be a JSON object such as {"email": "HASH"}')
    types = [t.strip() for t in pii_types.split(",") if t.strip()] or None
    out = out or input.with_name(f"{input.stem}.anonymized{input.suffix}")
    llm = None
    if "llm" in method or method == "all":
        conf = current()
        if not conf.llm_base_url or not llm_model:
            raise fail("the llm methods need SANITAS_LLM_BASE_URL and --llm-model")
        llm = LlmConfig(base_url=conf.llm_base_url, model=llm_model, api_key=conf.llm_api_key)
    try:
        with progress_bar("anonymize") as update:

            def progress(done: int, total: int | None) -> None:
                pct = 100.0 * done / total if total else 0.0
                update(min(99.0, pct), "anonymize", f"{done} of {total or '?'} rows")

            summary = anonymize_file(
                input,
                out=out,
                entities_path=entities,
                pii_types=types,
                method=method,
                threshold=threshold,
                mask_config=masks,
                progress=progress,
                run_salt=secrets.token_bytes(16),
                # Only ENCRYPT reads the key; deriving it imports the job layer (~1 s per process).
                key=_key() if _encrypts(masks) else None,
                llm=llm,
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    found = summary.get("entity_summary", {})
    console.print(
        f"{summary.get('samples_processed', 0)} rows, {sum(found.values())} entities masked: "
        + ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
    )
    console.print(f"anonymized: {out}" + (f"\nentities: {entities}" if entities else ""))


def deanonymize(
    input: Path = typer.Argument(..., exists=True, dir_okay=False, help="A file anonymized with ENCRYPT."),
    out: Path = typer.Option(..., "--out", help="Where to write the restored text."),
) -> None:
    """Reverse the ENCRYPT strategy of `sanitas anonymize` (same SANITAS_HOME, so the same key)."""
    from sanitas.pii.masking import deanonymize as restore

    out.write_text(restore(input.read_text(encoding="utf-8"), _key()), encoding="utf-8")
    console.print(f"restored: {out}")


def register(app: typer.Typer) -> None:
    """Attach the commands to the main app."""
    app.command("anonymize")(anonymize)
    app.command("deanonymize")(deanonymize)
