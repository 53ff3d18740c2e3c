"""Copy-on-write branches: change sets, overlays, grandchildren, activation and the Antidote listing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sanitas.datasets import branches
from sanitas.datasets.files import parse_file
from sanitas.datasets.imports import import_rows
from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.service import get_dataset_by_id, put_dataset, resolve_uids
from sanitas.datasets.tables import Branch, BranchChange, Dataset, DatasetComment
from sanitas.db import Database
from sanitas.errors import Conflict, InvalidInput, NotFound
from sanitas.sources.tables import Comment

N = 12
ANTIDOTE_BRANCH_FIELDS = {
    "dataset_id",
    "dataset_name",
    "branch_name",
    "branch_family_uuid",
    "is_main_branch",
    "branch_origin",
    "source_branch_uuid",
    "created_from_healing_job_id",
    "source_snapshot_created_at",
    "created_at",
    "updated_at",
    "can_edit",
    "has_drift_snapshots",
    "drift_snapshot_count",
    "current_snapshot_created_at",
}


def make_dataset(db: Database, name: str = "tickets") -> tuple[str, dict[str, int]]:
    """A dataset of ``N`` labelled comments; returns its id and the comment pks by comment id."""
    lines = [{"id": f"c{i}", "text": f"text {i}", "label": "A" if i % 2 else "B > C"} for i in range(N)]
    with db.write() as s:
        ds, _ = put_dataset(session=s, project="acme", name=name, fields=DatasetFields())
        res = import_rows(
            session=s, dataset=ds, rows=parse_file(b"\n".join(map(orjson.dumps, lines)), "jsonl")
        )
        pks = resolve_uids(session=s, dataset=ds, uids=[f"{res.source_id}.c{i}" for i in range(N)])
        return ds.id, {uid.split(".", 1)[1]: pk for uid, pk in pks.items()}


def view(db: Database, dataset_id: str, branch_id: str | None = None) -> list[tuple[str, str, Any]]:
    """``(id, text, labels)`` of every row a branch shows (the active one by default)."""
    with db.read() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        br = branches.get_branch(session=s, dataset=ds, branch_id=branch_id)
        return [
            (r.id, r.text, r.labels) for b in branches.iter_rows(session=s, dataset=ds, branch=br) for r in b
        ]


def stored(db: Database) -> dict[str, Any]:
    """Everything main is made of (memberships, comments), to prove a branch never modifies it."""
    with db.read() as s:
        return {
            "members": sorted(
                s.execute(select(DatasetComment.comment_pk, DatasetComment.seq, DatasetComment.labels)).all(),
                key=lambda r: r[0],
            ),
            "comments": sorted(
                s.execute(select(Comment.pk, Comment.body, Comment.text)).all(), key=lambda r: r[0]
            ),
        }


def branch(
    db: Database,
    dataset_id: str,
    pks: dict[str, int],
    *,
    excluded: tuple[str, ...] = (),
    labels: dict[str, list[list[str]]] | None = None,
    texts: dict[str, str] | None = None,
    parent: str | None = None,
    name: str | None = None,
    activate: bool = False,
) -> str:
    """Create a branch from a change set named by comment id."""
    change = branches.ChangeSet(
        excluded={pks[c] for c in excluded},
        labels={pks[c]: v for c, v in (labels or {}).items()},
        messages={pks[c]: [{"body": {"text": t}}] for c, t in (texts or {}).items()},
    )
    with db.write() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        par = branches.get_branch(session=s, dataset=ds, branch_id=parent) if parent else None
        return branches.create_branch(
            session=s, dataset=ds, changes=change, parent=par, name=name, activate=activate
        ).id


def main_row(i: int) -> tuple[str, str, Any]:
    """Row ``i`` as main shows it."""
    return (f"c{i}", f"text {i}", [["A"]] if i % 2 else [["B", "C"]])


def test_a_child_branch_overlays_its_changes_and_stores_only_them(db: Database) -> None:
    dataset_id, pks = make_dataset(db)
    before = stored(db)
    child = branch(
        db, dataset_id, pks, excluded=("c0", "c5"), labels={"c1": [["Z"]]}, texts={"c2": "new words"}
    )
    want = [main_row(i) for i in range(N) if i not in (0, 5)]
    want[0] = ("c1", "text 1", [["Z"]])
    want[1] = ("c2", "new words", [["B", "C"]])
    assert view(db, dataset_id, child) == want
    assert view(db, dataset_id) == [main_row(i) for i in range(N)]  # main is still active and unchanged
    assert stored(db) == before
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(BranchChange)) == 4  # copy-on-write, not a copy


def test_a_grandchild_sees_its_parents_changes_with_the_nearest_winning(db: Database) -> None:
    dataset_id, pks = make_dataset(db)
    child = branch(db, dataset_id, pks, excluded=("c0",), labels={"c1": [["Z"]], "c3": [["Y"]]})
    child_view = view(db, dataset_id, child)
    grand = branch(
        db,
        dataset_id,
        pks,
        parent=child,
        excluded=("c4",),
        labels={"c1": [["W"]]},
        texts={"c3": "grand text"},
    )
    got = dict((r[0], r[1:]) for r in view(db, dataset_id, grand))
    assert set(got) == {f"c{i}" for i in range(N)} - {"c0", "c4"}
    assert got["c1"] == ("text 1", [["W"]])  # the grandchild's label wins over the child's
    assert got["c3"] == ("grand text", [["Y"]])  # the child's label stays, the grandchild's text applies
    assert got["c2"] == main_row(2)[1:]
    assert view(db, dataset_id, child) == child_view  # the parent is never modified
    with db.read() as s:
        rows = {b.id: b.parent_id for b in s.scalars(select(Branch))}
    assert rows[grand] == child and rows[child] is not None and rows[rows[child]] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("other_dataset", InvalidInput),  # a comment that belongs to another dataset
        ("missing_pk", InvalidInput),
        ("duplicate_name", Conflict),
        ("foreign_parent", NotFound),
    ],
)
def test_a_bad_change_set_is_rejected_and_nothing_is_written(db: Database, bad: str, error: type) -> None:
    dataset_id, pks = make_dataset(db)
    other_id, other_pks = make_dataset(db, name="other")
    existing = branch(db, dataset_id, pks, excluded=("c1",), name="taken")
    foreign = branch(db, other_id, other_pks, excluded=("c1",))
    with db.read() as s:
        counts = (
            s.scalar(select(func.count()).select_from(Branch)),
            s.scalar(select(func.count()).select_from(BranchChange)),
        )
    change = branches.ChangeSet(excluded={pks["c2"]}, labels={pks["c3"]: [["Q"]]})
    name, parent_id = "fresh", None
    if bad == "other_dataset":
        change.labels[other_pks["c4"]] = [["Q"]]
    elif bad == "missing_pk":
        change.excluded.add(max(pks.values()) + max(other_pks.values()) + 1000)
    elif bad == "duplicate_name":
        name = "taken"
    else:
        parent_id = foreign
    with pytest.raises(error), db.write() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        parent = s.get(Branch, parent_id) if parent_id else None
        branches.create_branch(session=s, dataset=ds, changes=change, name=name, parent=parent, activate=True)
    with db.read() as s:
        after = (
            s.scalar(select(func.count()).select_from(Branch)),
            s.scalar(select(func.count()).select_from(BranchChange)),
        )
        ds_row = s.get(Dataset, dataset_id)
        assert ds_row is not None and ds_row.active_branch_id != existing
    assert after == counts
    assert view(db, dataset_id) == [main_row(i) for i in range(N)]


def test_activation_is_instant_and_reversible(db: Database) -> None:
    dataset_id, pks = make_dataset(db)
    with db.read() as s:
        main_id = get_dataset_by_id(session=s, dataset_id=dataset_id).active_branch_id
    child = branch(db, dataset_id, pks, excluded=("c0",), name="healed", activate=True)
    assert [r[0] for r in view(db, dataset_id)] == [f"c{i}" for i in range(1, N)]
    for ref, active in (("main", main_id), (child, child), (main_id, main_id), ("healed", child)):
        with db.write() as s:
            ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
            branches.activate_branch(session=s, dataset=ds, branch_id=ref)  # type: ignore[arg-type]
        with db.read() as s:
            assert get_dataset_by_id(session=s, dataset_id=dataset_id).active_branch_id == active
        assert len(view(db, dataset_id)) == (N if active == main_id else N - 1)
    with pytest.raises(NotFound), db.write() as s:
        ds = get_dataset_by_id(session=s, dataset_id=dataset_id)
        branches.activate_branch(session=s, dataset=ds, branch_id="no-such-branch")


def test_branches_route_answers_antidotes_shape(client: TestClient, db: Database) -> None:
    dataset_id, pks = make_dataset(db)
    child = branch(db, dataset_id, pks, excluded=("c0",), name="healed")
    grand = branch(db, dataset_id, pks, excluded=("c1",), name="healed-again", parent=child)
    r = client.get(f"/api/datasets/{dataset_id}/branches")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in ("family_dataset_id", "family_name", "branch_count")} == {
        "family_dataset_id": dataset_id,
        "family_name": "tickets",
        "branch_count": 3,
    }
    items = body["branches"]
    assert all(ANTIDOTE_BRANCH_FIELDS <= set(b) for b in items)
    main = items[0]
    assert main["is_main_branch"] and main["branch_name"] == "main" and main["source_branch_uuid"] is None
    assert body["selected_branch_id"] == main["dataset_id"]
    by_name = {b["branch_name"]: b for b in items}
    assert by_name["healed"]["source_branch_uuid"] == main["dataset_id"]
    assert by_name["healed-again"]["source_branch_uuid"] == child
    assert by_name["healed-again"]["dataset_id"] == grand
    assert {b["branch_family_uuid"] for b in items} == {dataset_id}
    assert not any(b["is_main_branch"] for b in items[1:])

    r = client.post(f"/api/datasets/{dataset_id}/branches/healed/activate")
    assert r.status_code == 200 and r.json()["selected_branch_id"] == child
    r = client.get(f"/api/datasets/{dataset_id}/branches", params={"branch": "healed"})
    assert [b["dataset_id"] for b in r.json()["branches"]] == [child]
    r = client.post(f"/api/datasets/{dataset_id}/branches/main/activate")
    assert r.json()["selected_branch_id"] == main["dataset_id"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/datasets/{id}/branches?branch=nope", "BRANCH_NOT_FOUND"),
        ("/api/datasets/00000000-0000-0000-0000-000000000000/branches", "DATASET_NOT_FOUND"),
        ("/api/datasets/not-a-uuid/branches", "DATASET_NOT_FOUND"),
    ],
)
def test_branches_route_errors_use_the_antidote_envelope(
    client: TestClient, db: Database, path: str, code: str
) -> None:
    dataset_id, _ = make_dataset(db)
    r = client.get(path.replace("{id}", dataset_id))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_activating_an_unknown_branch_is_404_and_changes_nothing(client: TestClient, db: Database) -> None:
    dataset_id, _ = make_dataset(db)
    before = client.get(f"/api/datasets/{dataset_id}/branches").json()["selected_branch_id"]
    r = client.post(f"/api/datasets/{dataset_id}/branches/nope/activate")
    assert r.status_code == 404 and r.json()["error"]["code"] == "BRANCH_NOT_FOUND"
    assert client.get(f"/api/datasets/{dataset_id}/branches").json()["selected_branch_id"] == before
