"""run_heal end to end with a model-free embedder: actions, precedence, skips, cancel, output formats."""

from __future__ import annotations

import json

import pytest

from sanitas.heal.detectors.base import CHECKS
from sanitas.heal.pipeline import HealCancelled, HealOptions, HealRow, manifest_lines, run_heal, score_lines

OUTLIER = "the senate chose the governor in 1820"
SENSITIVE = "where is my new card ref7, write to jane.doe@example.com"

pytestmark = pytest.mark.usefixtures("pattern_pii")


@pytest.fixture
def rows(clean_rows) -> list[HealRow]:  # noqa: ANN001
    out = [HealRow(id=f"r{i}", text=t, label=lab) for i, (t, lab) in enumerate(clean_rows)]
    out.append(HealRow(id="far", text=OUTLIER, label="card_arrival"))
    out.append(HealRow(id="pii", text=SENSITIVE, label="card_arrival"))
    out.append(HealRow(id="flip", text="my pin is blocked ref77", label="refund_missing"))
    return out


def _by_id(result) -> dict:  # noqa: ANN001
    return {d.id: d for d in result.decisions}


@pytest.mark.parametrize(
    ("options", "far_removed", "pii_actions", "flip_relabeled"),
    [
        (HealOptions(), True, [], True),
        (HealOptions(remove_outliers=False, fix_mislabeled=False), False, [], False),
        (HealOptions(anonymize_sensitive_information=True), True, ["anonymized"], True),
        (
            HealOptions(remove_sensitive_information=True, anonymize_sensitive_information=True),
            True,
            ["removed"],
            True,
        ),
        (HealOptions(scan_only=True), False, [], False),
    ],
)
def test_actions_follow_options(
    rows, fake_embedder, options, far_removed, pii_actions, flip_relabeled
) -> None:  # noqa: ANN001
    result = run_heal(rows, options, embedder=fake_embedder)
    d = _by_id(result)
    assert d["far"].removed is far_removed
    assert any(f["check"] == "outlier" for f in d["far"].findings)  # flagged even when not acted on
    assert d["pii"].actions == pii_actions
    assert ("relabeled" in d["flip"].actions) is flip_relabeled
    if flip_relabeled:
        assert d["flip"].labels_after == ["pin_blocked"] and d["flip"].labels_before == ["refund_missing"]
    if "anonymized" in pii_actions:
        assert "[REDACTED_EMAIL]" in d["pii"].new_text and "jane.doe" not in d["pii"].new_text
    healed_ids = {r.id for r in result.healed_rows()}
    assert ("far" in healed_ids) is not far_removed


def test_removal_wins_over_relabel(rows, fake_embedder) -> None:  # noqa: ANN001
    result = run_heal(rows, HealOptions(), embedder=fake_embedder)
    for d in result.decisions:
        if d.removed:
            assert d.actions == ["removed"] and d.labels_after is None


def test_output_lines_have_spec_shapes(rows, fake_embedder) -> None:  # noqa: ANN001
    result = run_heal(rows, HealOptions(), embedder=fake_embedder)
    scores = list(score_lines(result))
    assert len(scores) == len(rows)
    assert set(scores[0]) == {"id", "uid", *CHECKS, "suggested_label"}
    assert all(0.0 <= s[c] <= 1.0 for s in scores for c in CHECKS)
    lines = list(manifest_lines(result))
    assert lines and all({"id", "uid", "actions", "findings"} <= set(line) for line in lines)
    assert all(f["check"] in CHECKS and 0 <= f["score"] <= 1 for line in lines for f in line["findings"])
    json.dumps(lines)  # serialisable as JSON Lines
    m = result.manifest
    assert set(m["checks"]) == set(CHECKS) and m["rows"] == len(rows)
    assert m["actions"]["removed"] == sum(d.removed for d in result.decisions)
    assert "embedding" in m["timings"]


@pytest.mark.parametrize(("window", "removed"), [((0, 100), True), ((0, 10), False)])
def test_off_topic_window(rows, fake_embedder, window, removed) -> None:  # noqa: ANN001
    opts = HealOptions(
        remove_outliers=False,
        remove_off_topics=True,
        off_topic_score_min=window[0],
        off_topic_score_max=window[1],
    )
    d = _by_id(run_heal(rows, opts, embedder=fake_embedder))["far"]
    assert d.removed is removed
    finding = next(f for f in d.findings if f["check"] == "off_topic")
    assert 0 <= finding["off_topic_score"] <= 100


def test_empty_dataset_finishes_with_nothing_to_do(fake_embedder) -> None:  # noqa: ANN001
    result = run_heal([], HealOptions(), embedder=fake_embedder)
    assert result.decisions == [] and "nothing to do" in result.manifest["message"]


def test_unlabelled_dataset_skips_label_checks(rows, fake_embedder) -> None:  # noqa: ANN001
    unlabelled = [HealRow(id=r.id, text=r.text, label=None) for r in rows]
    result = run_heal(unlabelled, HealOptions(), embedder=fake_embedder)
    assert {"mislabeled", "poisoned"} <= set(result.manifest["skipped"])
    assert "skipped" in result.manifest["message"]
    assert not any(d.actions == ["relabeled"] for d in result.decisions)


@pytest.mark.parametrize("cancel_after", [1, 3])
def test_cancel_raises(rows, fake_embedder, cancel_after: int) -> None:  # noqa: ANN001
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > cancel_after

    with pytest.raises(HealCancelled):
        run_heal(rows, HealOptions(), embedder=fake_embedder, should_cancel=should_cancel)


def test_progress_is_monotonic_and_ends_at_100(rows, fake_embedder) -> None:  # noqa: ANN001
    seen: list[tuple[str, float, str]] = []
    run_heal(
        rows, HealOptions(), embedder=fake_embedder, progress=lambda p, pct, msg: seen.append((p, pct, msg))
    )
    pcts = [p for _, p, _ in seen]
    assert pcts == sorted(pcts) and pcts[-1] == 100.0
    assert {"embedding", "mislabeled", "done"} <= {p for p, _, _ in seen}


@pytest.mark.parametrize(("lo", "hi"), [(-1, 100), (0, 101), (60, 40)])
def test_options_validate_the_window(lo: int, hi: int) -> None:
    with pytest.raises(ValueError):
        HealOptions(off_topic_score_min=lo, off_topic_score_max=hi)
