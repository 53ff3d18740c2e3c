"""Nothing of a heal review crosses projects: another project's job, its changes, decisions and
review branches answer 404 to a key of this project, whatever its role, and are left untouched."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sanitas.config import Settings
from sanitas.db import Database
from tests.api.helpers import antidote_error
from tests.heal.review_fixture import make_fake_heal


def test_other_projects_review_is_invisible(
    anon: TestClient, db: Database, settings: Settings, make_key: Callable[..., str]
) -> None:
    anon.headers["Authorization"] = f"Bearer {make_key('admin', ['globex'])}"
    theirs = make_fake_heal(anon, db, settings, project="globex")
    base = f"/api/healing/{theirs.job_id}"
    anon.patch(f"{base}/changes/{theirs.uid['r1']}", json={"decision": "reject"})
    branch = anon.post(f"{base}/apply", json={"name": "theirs"}).json()["branch_id"]
    mine = make_key("admin", ["acme"])
    anon.headers["Authorization"] = f"Bearer {mine}"
    calls = [
        ("GET", f"{base}/changes", None),
        ("GET", f"{base}/changes?decision=reject", None),
        ("GET", f"{base}/changes/summary", None),
        ("PATCH", f"{base}/changes/{theirs.uid['r1']}", {"decision": "accept"}),
        ("POST", f"{base}/changes/decisions", {"decision": "accept"}),
        ("POST", f"{base}/apply", {"name": "stolen"}),
    ]
    for method, path, body in calls:
        r = anon.request(method, path, json=body)
        antidote_error(r, 404, "JOB_NOT_FOUND")
        assert "globex" not in r.text and theirs.uid["r1"] not in r.text
    for ref in (branch, "theirs"):
        r = anon.get(f"/api/datasets/{theirs.dataset_id}/branches/{ref}/manifest")
        antidote_error(r, 404, "DATASET_NOT_FOUND")
    # Their decision and their branches are as they left them.
    anon.headers["Authorization"] = f"Bearer {make_key('read', ['globex'])}"
    items = anon.get(f"{base}/changes", params={"decision": "reject"}).json()["items"]
    assert [i["row_id"] for i in items] == [theirs.uid["r1"]]
    assert anon.get(f"{base}/changes", params={"decision": "accept"}).json()["total"] == 0
    names = {
        b["branch_name"] for b in anon.get(f"/api/datasets/{theirs.dataset_id}/branches").json()["branches"]
    }
    assert names == {"main", "theirs"}


def test_a_row_of_another_job_is_not_a_change_of_this_one(
    client: TestClient, db: Database, settings: Settings
) -> None:
    one = make_fake_heal(client, db, settings)
    two = make_fake_heal(client, db, settings)
    r = client.patch(f"/api/healing/{one.job_id}/changes/{two.uid['r1']}", json={"decision": "accept"})
    antidote_error(r, 404, "CHANGE_NOT_FOUND")
