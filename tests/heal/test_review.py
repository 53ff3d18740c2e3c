"""The heal review API: a job's changes listed, filtered, paged and summarised; decisions taken one by one
or by filter, kept in the database; and "apply", which publishes a branch holding exactly the accepted
changes, checked row by row through the datasets' export API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from sanitas.api.app import create_app
from sanitas.config import Settings
from sanitas.db import Database
from sanitas.heal import review
from sanitas.jobs.worker import Worker
from tests.api.helpers import antidote_error
from tests.heal.review_fixture import LABELS, FakeHeal, make_fake_heal


@pytest.fixture()
def heal(client: TestClient, db: Database, settings: Settings) -> FakeHeal:
    """Twelve rows, six changes: removals r0, r4, r5; relabel r1; redaction r2; off-topic flag r3."""
    return make_fake_heal(client, db, settings)


def _changes(client: TestClient, job_id: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/api/healing/{job_id}/changes", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["row_id"].rsplit(".", 1)[1] for item in page["items"]]


def _export(
    client: TestClient, db: Database, settings: Settings, dataset_id: str, branch: str
) -> dict[str, Any]:
    """The branch's rows by id, through the datasets' export API."""
    r = client.post(f"/api/datasets/{dataset_id}/exports?format=jsonl&branch={branch}")
    assert r.status_code == 202, r.text
    worker = Worker(db=db, settings=settings)
    while worker.run_once():
        pass
    body = client.get(f"/api/jobs/{r.json()['id']}/download").content
    return {row["id"]: row for row in map(orjson.loads, body.splitlines()) if row}


def test_changes_carry_what_a_reviewer_needs(client: TestClient, heal: FakeHeal) -> None:
    page = _changes(client, heal.job_id)
    assert page["total"] == 6 and page["next_cursor"] is None
    assert _ids(page) == ["r4", "r0", "r1", "r2", "r5", "r3"]  # highest score first
    by_id = {i["row_id"]: i for i in page["items"]}
    poisoned = by_id[heal.uid["r4"]]
    assert poisoned["action"] == "remove" and poisoned["checks"] == ["poisoned", "outlier"]
    assert poisoned["score"] == 0.95 and poisoned["findings"][0]["trigger"] == "cf zx"
    assert poisoned["text"] == "row 4 about my card" and poisoned["decision"] is None
    relabel = by_id[heal.uid["r1"]]
    assert relabel["action"] == "relabel" and relabel["labels_before"] == [LABELS[1]]
    assert relabel["labels_after"] == ["top_up_failed"] and relabel["suggested_label"] == "top_up_failed"
    pii = by_id[heal.uid["r2"]]
    assert pii["action"] == "redact"
    assert pii["findings"][0]["entities"] == [{"type": "phone_number", "start": 11, "end": 23}]
    assert pii["text"][11:23] == "415 555 0132"
    flag = by_id[heal.uid["r3"]]
    assert flag["action"] == "flag" and flag["findings"][0]["off_topic_score"] == 70
    assert flag["labels_after"] == flag["labels_before"] == [LABELS[3]]
    assert set(flag) >= {"decision_label", "decided_by", "decided_at"}


def test_filters_and_sorts(client: TestClient, heal: FakeHeal) -> None:
    assert _ids(_changes(client, heal.job_id, check="outlier")) == ["r4", "r0", "r5"]
    # With a check named, the score range bounds that check's finding (r4's outlier score is 0.65).
    assert _ids(_changes(client, heal.job_id, check="outlier", score_min=0.63)) == ["r4", "r0"]
    assert _ids(_changes(client, heal.job_id, score_min=0.6, score_max=0.8)) == ["r1", "r2", "r5", "r3"]
    assert _ids(_changes(client, heal.job_id, action=["relabel", "flag"])) == ["r1", "r3"]
    assert _ids(_changes(client, heal.job_id, check=["sensitive", "off_topic"], sort="row")) == ["r2", "r3"]
    assert _ids(_changes(client, heal.job_id, sort="score_asc"))[:2] == ["r3", "r5"]
    assert _changes(client, heal.job_id, decision="accept")["total"] == 0
    assert _changes(client, heal.job_id, decision="undecided")["total"] == 6


def test_cursor_pages_through_everything_once(client: TestClient, heal: FakeHeal) -> None:
    seen, cursor = [], None
    for _ in range(10):
        page = _changes(client, heal.job_id, limit=2, **({"cursor": cursor} if cursor else {}))
        assert page["total"] == 6
        seen += _ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["r4", "r0", "r1", "r2", "r5", "r3"]
    # Deciding while paging an "undecided" filter neither skips nor repeats a change.
    first = _changes(client, heal.job_id, limit=2, decision="undecided")
    for item in first["items"]:
        client.patch(f"/api/healing/{heal.job_id}/changes/{item['row_id']}", json={"decision": "accept"})
    rest = _changes(client, heal.job_id, limit=10, decision="undecided", cursor=first["next_cursor"])
    assert _ids(rest) == ["r1", "r2", "r5", "r3"] and rest["total"] == 4


def test_summary_counts_and_histograms(client: TestClient, heal: FakeHeal) -> None:
    client.patch(f"/api/healing/{heal.job_id}/changes/{heal.uid['r0']}", json={"decision": "reject"})
    r = client.get(f"/api/healing/{heal.job_id}/changes/summary")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["total"] == 6
    assert s["by_check"]["outlier"] == 3 and s["by_check"]["injection"] == 0
    assert s["by_action"] == {"remove": 3, "relabel": 1, "redact": 1, "flag": 1}
    assert s["by_decision"] == {"undecided": 5, "accept": 0, "reject": 1}
    hist = s["histograms"]["outlier"]
    assert len(hist["edges"]) == 21 and hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
    assert len(hist["counts"]) == 20 and sum(hist["counts"]) == len(heal.rows)  # every row, not only flagged
    assert hist["counts"][18] == 1  # r0 at 0.91
    assert s["thresholds"]["outlier"] == 0.6


def test_decide_one_and_clear(client: TestClient, heal: FakeHeal) -> None:
    url = f"/api/healing/{heal.job_id}/changes/{heal.uid['r1']}"
    r = client.patch(url, json={"decision": "accept", "label": "card_arrival"})
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["decision"] == "accept" and item["decision_label"] == "card_arrival"
    assert item["decided_by"].startswith("test (") and item["decided_at"]
    assert _changes(client, heal.job_id, decision="accept")["total"] == 1
    item = client.patch(url, json={"decision": "reject"}).json()
    assert item["decision"] == "reject" and item["decision_label"] is None
    item = client.patch(url, json={"decision": None}).json()
    assert item["decision"] is None and item["decided_by"] is None


BAD_PATCHES = [
    ({"decision": "maybe"}, "decision"),
    ({}, "decision"),
    ({"decision": "accept", "colour": "red"}, "colour"),
    ({"decision": "reject", "label": "card_arrival"}, "label is allowed only with decision 'accept'"),
    ({"decision": "accept", "label": "no_such_label"}, "not one of the dataset's labels"),
    ({"decision": "accept", "label": ""}, "label"),
    ({"decision": "accept", "label": 3}, "label"),
]


@pytest.mark.parametrize(("body", "needle"), BAD_PATCHES)
def test_bad_decisions_are_422(client: TestClient, heal: FakeHeal, body: dict[str, Any], needle: str) -> None:
    r = client.patch(f"/api/healing/{heal.job_id}/changes/{heal.uid['r1']}", json=body)
    antidote_error(r, 422, None, needle)


def test_a_label_only_for_relabel_or_flag_changes(client: TestClient, heal: FakeHeal) -> None:
    r = client.patch(
        f"/api/healing/{heal.job_id}/changes/{heal.uid['r0']}",
        json={"decision": "accept", "label": "card_arrival"},
    )
    antidote_error(r, 422, "VALIDATION_ERROR", "relabel or flag", "remove")
    r = client.patch(
        f"/api/healing/{heal.job_id}/changes/{heal.uid['r3']}",
        json={"decision": "accept", "label": "card_arrival"},
    )
    assert r.status_code == 200, r.text


BAD_QUERIES = [
    ({"score_min": 0.9, "score_max": 0.1}, "score_max: score_min (0.9) must not exceed"),
    ({"score_min": 2}, "score_min"),
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"sort": "random"}, "sort"),
    ({"action": "explode"}, "action"),
    ({"decision": "maybe"}, "decision"),
    ({"check": "not_a_check"}, "not one of this job's checks"),
    ({"check": "Bad Name!"}, "check: 'Bad Name!' is not a check name"),
    ({"cursor": "garbage"}, "cursor"),
]


@pytest.mark.parametrize(("params", "needle"), BAD_QUERIES)
def test_bad_queries_are_422(client: TestClient, heal: FakeHeal, params: dict[str, Any], needle: str) -> None:
    antidote_error(client.get(f"/api/healing/{heal.job_id}/changes", params=params), 422, None, needle)


def test_a_cursor_belongs_to_its_sort(client: TestClient, heal: FakeHeal) -> None:
    cursor = _changes(client, heal.job_id, limit=1)["next_cursor"]
    r = client.get(f"/api/healing/{heal.job_id}/changes", params={"cursor": cursor, "sort": "row"})
    antidote_error(r, 422, "VALIDATION_ERROR", "sort")


def test_bulk_decisions_over_a_filter(client: TestClient, heal: FakeHeal) -> None:
    url = f"/api/healing/{heal.job_id}/changes/decisions"
    r = client.post(url, json={"decision": "accept", "filter": {"check": ["outlier"], "score_min": 0.63}})
    assert r.status_code == 200 and r.json() == {"updated": 2}, r.text
    assert _ids(_changes(client, heal.job_id, decision="accept")) == ["r4", "r0"]
    assert client.post(url, json={"decision": "reject", "filter": {"decision": "undecided"}}).json() == {
        "updated": 4
    }
    assert client.post(url, json={"decision": None}).json() == {"updated": 6}
    assert _changes(client, heal.job_id, decision="undecided")["total"] == 6
    for body, needle in [
        ({"decision": "accept", "filter": {"score_min": 0.9, "score_max": 0.1}}, "score_min"),
        ({"decision": "accept", "filter": {"check": ["nope"]}}, "not one of this job's checks"),
        ({"decision": "accept", "filter": {"colour": "red"}}, "colour"),
        ({"filter": {}}, "decision"),
    ]:
        antidote_error(client.post(url, json=body), 422, None, needle)


def test_a_job_that_did_not_finish_has_nothing_to_review(
    client: TestClient, db: Database, settings: Settings
) -> None:
    heal = make_fake_heal(client, db, settings, status="failed")
    for method, path, body in [
        ("GET", "changes", None),
        ("GET", "changes/summary", None),
        ("POST", "changes/decisions", {"decision": "accept"}),
        ("PATCH", f"changes/{heal.uid['r0']}", {"decision": "accept"}),
        ("POST", "apply", {}),
    ]:
        r = client.request(method, f"/api/healing/{heal.job_id}/{path}", json=body)
        antidote_error(r, 409, "CONFLICT", "failed", "completed")


def test_unknown_row_and_job_are_404(client: TestClient, heal: FakeHeal) -> None:
    r = client.patch(f"/api/healing/{heal.job_id}/changes/{heal.source_id}.r9", json={"decision": "accept"})
    antidote_error(r, 404, "CHANGE_NOT_FOUND")
    r = client.get("/api/healing/00000000-0000-0000-0000-000000000000/changes")
    antidote_error(r, 404, "JOB_NOT_FOUND")


def test_read_key_can_look_but_not_decide(
    anon: TestClient, heal: FakeHeal, make_key: Callable[..., str]
) -> None:
    read = {"Authorization": f"Bearer {make_key('read', ['acme'])}"}
    assert anon.get(f"/api/healing/{heal.job_id}/changes", headers=read).status_code == 200
    assert anon.get(f"/api/healing/{heal.job_id}/changes/summary", headers=read).status_code == 200
    for method, path, body in [
        ("PATCH", f"changes/{heal.uid['r0']}", {"decision": "accept"}),
        ("POST", "changes/decisions", {"decision": "accept"}),
        ("POST", "apply", {}),
    ]:
        r = anon.request(method, f"/api/healing/{heal.job_id}/{path}", json=body, headers=read)
        antidote_error(r, 403, "FORBIDDEN")
    assert _changes(anon, heal.job_id, decision="undecided")["total"] == 6


def test_apply_publishes_exactly_the_decisions(
    client: TestClient, db: Database, settings: Settings, heal: FakeHeal
) -> None:
    base = f"/api/healing/{heal.job_id}"
    client.patch(f"{base}/changes/{heal.uid['r0']}", json={"decision": "accept"})  # remove r0
    client.patch(f"{base}/changes/{heal.uid['r1']}", json={"decision": "reject"})  # keep r1's label
    client.patch(f"{base}/changes/{heal.uid['r2']}", json={"decision": "accept"})  # redact r2
    client.patch(f"{base}/changes/{heal.uid['r3']}", json={"decision": "accept", "label": "card_arrival"})
    r = client.post(f"{base}/apply", json={"name": "reviewed"})  # r4 and r5 undecided: left out
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["branch_name"] == "reviewed" and out["activated"] is False
    assert out["applied"] == {"removed": 1, "relabeled": 1, "redacted": 1}
    assert out["decisions"] == {"accept": 3, "reject": 1, "undecided": 2}
    main = _export(client, db, settings, heal.dataset_id, "main")
    rows = _export(client, db, settings, heal.dataset_id, out["branch_id"])
    assert set(rows) == set(main) - {"r0"}
    assert rows["r1"]["label"] == main["r1"]["label"] == LABELS[1]
    assert rows["r2"]["text"] == "call me on [REDACTED_PHONE_NUMBER] please"
    assert rows["r3"]["label"] == "card_arrival"
    changed = {"r0", "r2", "r3"}
    assert all(rows[k] == main[k] for k in set(rows) - changed)
    listing = client.get(f"/api/datasets/{heal.dataset_id}/branches").json()
    mine = next(b for b in listing["branches"] if b["dataset_id"] == out["branch_id"])
    assert mine["created_from_healing_job_id"] == heal.job_id and not mine["is_active"]
    manifest = client.get(f"/api/datasets/{heal.dataset_id}/branches/reviewed/manifest").json()
    assert manifest["job_id"] == heal.job_id and manifest["applied_by"].startswith("test (")
    entries = {e["row_id"].rsplit(".", 1)[1]: e for e in manifest["decisions"]}
    assert entries["r3"]["decision"] == "accept" and entries["r3"]["label"] == "card_arrival"
    assert entries["r3"]["decided_by"].startswith("test (") and entries["r3"]["decided_at"]
    assert entries["r1"]["decision"] == "reject" and not entries["r1"]["applied"]
    assert entries["r4"]["decision"] is None and not entries["r4"]["applied"]
    assert entries["r0"]["applied"] and entries["r2"]["applied"]


def test_apply_undecided_as_decided_and_activate(
    client: TestClient, db: Database, settings: Settings, heal: FakeHeal
) -> None:
    base = f"/api/healing/{heal.job_id}"
    client.patch(f"{base}/changes/{heal.uid['r4']}", json={"decision": "reject"})
    r = client.post(f"{base}/apply", json={"undecided": "as_decided", "activate": True})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["activated"] is True and out["branch_name"].startswith("reviewed-")
    assert out["applied"] == {"removed": 2, "relabeled": 1, "redacted": 1}
    listing = client.get(f"/api/datasets/{heal.dataset_id}/branches").json()
    assert listing["selected_branch_id"] == out["branch_id"]
    rows = _export(client, db, settings, heal.dataset_id, out["branch_id"])
    assert "r4" in rows and not {"r0", "r5"} & set(rows)
    assert rows["r1"]["label"] == "top_up_failed" and rows["r3"]["label"] == LABELS[3]
    # A second apply under a taken name is a conflict, not a second branch.
    antidote_error(client.post(f"{base}/apply", json={"name": out["branch_name"]}), 409, "CONFLICT")
    for body, needle in [
        ({"undecided": "all"}, "undecided"),
        ({"name": "no spaces"}, "name"),
        ({"x": 1}, "x"),
    ]:
        antidote_error(client.post(f"{base}/apply", json=body), 422, None, needle)


def test_manifest_of_a_branch_not_made_by_a_review_is_404(client: TestClient, heal: FakeHeal) -> None:
    r = client.get(f"/api/datasets/{heal.dataset_id}/branches/main/manifest")
    antidote_error(r, 404, "MANIFEST_NOT_FOUND")
    r = client.get(f"/api/datasets/{heal.dataset_id}/branches/nope/manifest")
    antidote_error(r, 404, "BRANCH_NOT_FOUND")


def test_decisions_survive_a_restart(
    client: TestClient, settings: Settings, heal: FakeHeal, make_key: Callable[..., str]
) -> None:
    client.patch(
        f"/api/healing/{heal.job_id}/changes/{heal.uid['r1']}",
        json={"decision": "accept", "label": "exchange_rate"},
    )
    review._cache.clear()  # a new process: nothing read from the job's files yet
    other = Database(settings.database_url)  # its own engine on the same database
    try:
        with TestClient(create_app(settings, db=other)) as fresh:
            fresh.headers["Authorization"] = f"Bearer {make_key('read', ['acme'])}"
            item = _changes(fresh, heal.job_id, decision="accept")["items"][0]
    finally:
        other.dispose()
    assert item["row_id"] == heal.uid["r1"] and item["decision_label"] == "exchange_rate"
    assert item["decided_by"].startswith("test (")


@pytest.mark.slow
def test_accepting_every_change_of_a_real_heal_publishes_the_heal_branch(
    client: TestClient, db: Database, settings: Settings
) -> None:
    """On a heal the detectors really ran: the review reads its files as the job wrote them, and
    accepting everything publishes the same rows as the branch the job published itself."""
    from tests.heal.test_views import make_dataset, run_jobs, sample_rows

    dataset_id = make_dataset(client, sample_rows(15))
    body = {"target": "dataset", "remove_off_topics": True, "anonymize_sensitive_information": True}
    job_id = client.post(f"/api/datasets/{dataset_id}/heal", json=body).json()["id"]
    run_jobs(db, settings)
    job = client.get(f"/api/healing/{job_id}").json()
    assert job["status"] == "completed", job
    manifest = [
        orjson.loads(x) for x in client.get(f"/api/healing/{job_id}/manifest.jsonl").content.splitlines()
    ]
    page = _changes(client, job_id, limit=500)
    assert page["total"] == len(manifest) > 0
    items = {i["row_id"]: i for i in page["items"]}
    for m in manifest:
        item = items[m["uid"]]
        assert item["text"] and [f["check"] for f in item["findings"]] == [f["check"] for f in m["findings"]]
    pii = next(i for i in page["items"] if i["action"] == "redact")
    spans = [e for f in pii["findings"] for e in f["entities"]]
    assert spans and "@" in "".join(pii["text"][e["start"] : e["end"]] for e in spans)
    summary = client.get(f"/api/healing/{job_id}/changes/summary").json()
    assert sum(summary["histograms"]["outlier"]["counts"]) == len(sample_rows(15))
    assert client.post(f"/api/healing/{job_id}/changes/decisions", json={"decision": "accept"}).json() == {
        "updated": len(manifest)
    }
    out = client.post(f"/api/healing/{job_id}/apply", json={}).json()
    assert out["applied"]["removed"] == job["manifest"]["actions"]["removed"]
    reviewed = _export(client, db, settings, dataset_id, out["branch_id"])
    healed = _export(client, db, settings, dataset_id, job["created_branch_id"])
    assert reviewed == healed
