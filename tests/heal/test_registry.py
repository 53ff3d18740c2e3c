"""The heal-check contract: a check declared in one detector appears in the options, the request
schema, the CLI, the pipeline's decisions, the scores and the report, with nothing else edited."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from sanitas.heal import pipeline
from sanitas.heal.detectors.base import (
    CHECKS,
    REGISTRY,
    Detector,
    DetectorContext,
    DetectorResult,
    RequestFlag,
    RequestOption,
    register,
    run_sequence,
    unregister,
)
from sanitas.heal.detectors.contract import HealOptions, request_defaults
from sanitas.heal.pipeline import HealRow, run_heal
from sanitas.heal.report import render_report
from sanitas.heal.schemas import HealRequest, build_request_model

SHOUT = "WHERE IS MY NEW CARD I ORDERED IT WEEKS AGO"
pytestmark = pytest.mark.usefixtures("pattern_pii")


class ShoutDetector(Detector):
    """A toy check: rows written in capitals, removed when they hold at least ``shout_min_words``."""

    name = "shout"
    order = 50
    run_order = 50
    flags = (RequestFlag("remove_shouting", "remove", False, "Remove rows written in capitals."),)
    options = (RequestOption("shout_min_words", 3, 1, 50, "Only rows with at least this many words."),)

    @classmethod
    def validate_options(cls, values: Mapping[str, Any]) -> None:
        if values.get("shout_min_words", 3) > 40:
            raise ValueError("shout_min_words above 40 would never match a sentence")

    @classmethod
    def applies(cls, flag: RequestFlag, detail: dict[str, Any] | None, options: Mapping[str, Any]) -> bool:
        return detail is not None and detail["words"] >= options["shout_min_words"]

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        upper = np.array(
            [sum(c.isupper() for c in t) / max(1, sum(c.isalpha() for c in t)) for t in ctx.texts]
        )
        return DetectorResult(
            scores=upper,
            flags=upper > 0.9,
            threshold=0.9,
            details=[{"words": len(t.split())} for t in ctx.texts],
        )


@pytest.fixture
def toy() -> Iterator[type[Detector]]:
    register(ShoutDetector)
    try:
        yield ShoutDetector
    finally:
        unregister("shout")
        pipeline._detectors.pop("shout", None)


@pytest.fixture
def rows(clean_rows) -> list[HealRow]:  # noqa: ANN001
    out = [HealRow(id=f"r{i}", text=t, label=lab) for i, (t, lab) in enumerate(clean_rows)]
    out.append(HealRow(id="shout", text=SHOUT, label="card_arrival"))
    return out


def test_toy_check_is_listed_and_runs_last(toy: type[Detector]) -> None:
    assert "shout" in CHECKS and list(CHECKS)[-1] == "shout"
    assert run_sequence()[-1] == "shout"
    assert list(request_defaults())[-2:] == ["off_topic_score_max", "shout_min_words"]
    unregister("shout")
    assert "shout" not in CHECKS and "remove_shouting" not in request_defaults()


def test_toy_check_in_options(toy: type[Detector]) -> None:
    opts = HealOptions(remove_shouting=True)
    assert opts.remove_shouting is True and opts.shout_min_words == 3
    assert opts.as_dict()["remove_shouting"] is True
    assert HealOptions().remove_shouting is False
    for bad in (0, 51, 41):  # the declared range, then the check's own constraint
        with pytest.raises(ValueError, match="shout_min_words"):
            HealOptions(shout_min_words=bad)
    with pytest.raises(TypeError, match="remove_everything"):
        HealOptions(remove_everything=True)


def test_toy_check_in_request_schema(toy: type[Detector]) -> None:
    model = build_request_model()
    fields = list(model.model_fields)
    assert fields.index("remove_shouting") < fields.index("shout_min_words") < fields.index("activate")
    assert fields[0] == "target"
    schema = model.model_json_schema()["properties"]
    assert schema["shout_min_words"]["maximum"] == 50 and schema["remove_shouting"]["default"] is False
    body = model.model_validate({"remove_shouting": True, "shout_min_words": 5})
    assert body.options()["remove_shouting"] is True and body.options()["shout_min_words"] == 5
    with pytest.raises(ValidationError, match="never match"):
        model.model_validate({"shout_min_words": 45})
    with pytest.raises(ValidationError, match="shout_min_words"):
        model.model_validate({"shout_min_words": 99})


def test_builtin_request_keeps_the_antidote_fields() -> None:
    fields = list(HealRequest.model_fields)
    assert fields == [
        "target",
        "fix_mislabeled",
        "remove_outliers",
        "remove_poisoned",
        "remove_off_topics",
        "remove_injection",
        "remove_sensitive_information",
        "anonymize_sensitive_information",
        "off_topic_score_min",
        "off_topic_score_max",
        "activate",
        "dry_run",
        "branch_name",
    ]
    with pytest.raises(ValidationError, match="off_topic_score_min"):
        HealRequest.model_validate({"off_topic_score_min": 80, "off_topic_score_max": 20})


def test_toy_check_in_cli(toy: type[Detector], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sanitas.cli import heal as cli_heal
    from sanitas.heal import runner

    seen: list[HealOptions] = []

    def fake_heal_file(path: Path, **kwargs: Any) -> SimpleNamespace:
        seen.append(kwargs["options"])
        return SimpleNamespace(manifest={"checks": {"shout": {"flagged": 1, "removed": 1, "threshold": 0.9}}})

    monkeypatch.setattr(runner, "heal_file", fake_heal_file)
    monkeypatch.setenv("SANITAS_HOME", str(tmp_path / "home"))
    app = typer.Typer()
    cli_heal.register(app)
    app.command("noop")(lambda: None)  # two commands: typer keeps the "heal" sub-command name
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": SHOUT, "label": "a"}) + "\n")
    runner_ = CliRunner()
    help_text = runner_.invoke(app, ["heal", "--help"], terminal_width=200).output
    assert "--remove-shouting" in help_text and "--shout-min-words" in help_text
    r = runner_.invoke(app, ["heal", str(src), "--remove-shouting", "--shout-min-words", "7"])
    assert r.exit_code == 0, r.output
    assert seen[-1].remove_shouting is True and seen[-1].shout_min_words == 7
    r = runner_.invoke(app, ["heal", str(src), "--all"])
    assert r.exit_code == 0, r.output
    assert seen[-1].remove_shouting is True and seen[-1].anonymize_sensitive_information is False
    r = runner_.invoke(app, ["heal", str(src), "--shout-min-words", "45"])
    assert r.exit_code == 1 and "never match" in r.output and len(seen) == 2


@pytest.mark.parametrize(("min_words", "removed"), [(3, True), (40, False)])
def test_toy_check_in_decisions_scores_and_report(
    toy: type[Detector],
    rows: list[HealRow],
    fake_embedder,  # noqa: ANN001
    min_words: int,
    removed: bool,
) -> None:
    opts = HealOptions(remove_shouting=True, remove_outliers=False, shout_min_words=min_words)
    result = run_heal(rows, opts, embedder=fake_embedder)
    d = next(d for d in result.decisions if d.id == "shout")
    assert d.removed is removed
    finding = next(f for f in d.findings if f["check"] == "shout")
    assert finding["detail"] == {"words": len(SHOUT.split())}
    assert not any(f["check"] == "shout" for x in result.decisions if x.id != "shout" for f in x.findings)
    assert set(result.scores[0]) >= {"shout", "suggested_label"}
    assert result.manifest["checks"]["shout"]["flagged"] == 1
    assert result.manifest["options"]["shout_min_words"] == min_words
    assert "<h2>shout</h2>" in render_report(result)
    # off: the same run flags the row and removes nothing
    quiet = run_heal(rows, HealOptions(remove_outliers=False), embedder=fake_embedder)
    assert not next(x for x in quiet.decisions if x.id == "shout").removed


def test_a_check_cannot_take_another_checks_field(toy: type[Detector]) -> None:
    class Clash(ShoutDetector):
        name = "clash"

    with pytest.raises(ValueError, match="remove_shouting"):
        register(Clash)
    assert "clash" not in REGISTRY
