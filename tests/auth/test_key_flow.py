"""The key flow: who gets 401, 403 and 404, by header, X-API-Key or session cookie; keys stored hashed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanitas.auth.service import revoke_key
from sanitas.auth.tables import ApiKey, WebSession
from sanitas.db import Database
from tests.api.helpers import Seeded, antidote_error, comment, reinfer_error, seed


def _check_error(r: Any, path: str, status: int) -> None:
    if path.startswith(("/api/v1/", "/api/preview/")):
        reinfer_error(r, status)
    else:
        antidote_error(r, status, {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: None}[status])


@pytest.fixture()
def two(client: TestClient) -> tuple[Seeded, Seeded, str]:
    """Projects ``acme`` and ``globex``, each seeded, and an export job in globex.

    ``client`` and ``anon`` are one client: its admin header is dropped once the data is in.
    """
    a, b = seed(client, "acme"), seed(client, "globex")
    job = client.post(f"/api/datasets/{b.dataset_id}/exports").json()["id"]
    del client.headers["Authorization"]
    return a, b, job


READS = [
    "/api/v1/sources",
    "/api/v1/sources/acme/tickets",
    "/api/v1/datasets/acme/support",
    "/api/jobs",
    "/api/auth/me",
]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token sk_abc_def"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer sk_000000000000_notthekey"},
        {"Authorization": "Bearer sk__"},
        {"X-API-Key": "garbage"},
        {"X-API-Key": "sk_000000000000_notthekey"},
    ],
)
def test_missing_or_bad_credentials_are_401(
    anon: TestClient, two: tuple[Seeded, Seeded, str], headers: dict[str, str]
) -> None:
    for path in READS:
        _check_error(anon.get(path, headers=headers), path, 401)
    r = anon.put("/api/v1/sources/acme/new", json={"source": {}}, headers=headers)
    reinfer_error(r, 401)
    r = anon.post(f"/api/datasets/{two[0].dataset_id}/exports", headers=headers)
    antidote_error(r, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "cookie"])
def test_revoked_key_is_401(anon: TestClient, db: Database, make_key: Callable[..., str], how: str) -> None:
    token = make_key("read", ["acme"])
    headers = {"Authorization": f"Bearer {token}"} if how == "bearer" else {"X-API-Key": token}
    if how == "cookie":
        assert anon.post("/api/auth/login", json={"api_key": token}).status_code == 200
        headers = {}
    assert anon.get("/api/v1/sources", headers=headers).status_code == 200
    with db.write() as s:
        revoke_key(session=s, key_id_or_prefix=token.split("_")[1])
    reinfer_error(anon.get("/api/v1/sources", headers=headers), 401)
    antidote_error(anon.get("/api/auth/me", headers=headers), 401, "UNAUTHORIZED")
    anon.cookies.clear()
    antidote_error(anon.post("/api/auth/login", json={"api_key": token}), 401, "UNAUTHORIZED")


def _writes(a: Seeded, job: str) -> list[tuple[str, str, dict[str, Any]]]:
    uid = f"{a.source_id}.c1"
    return [
        ("PUT", "/api/v1/sources/acme/new", {"json": {"source": {}}}),
        ("POST", "/api/v1/sources/acme/tickets/sync", {"json": {"comments": [comment("x")]}}),
        ("PUT", "/api/v1/datasets/acme/new", {"json": {"dataset": {}}}),
        (
            "POST",
            f"/api/v1/datasets/acme/support/labellings/{uid}",
            {"json": {"labelling": {"assigned": []}}},
        ),
        ("POST", "/api/preview/sources/acme/tickets/sync", {"json": {"comments": [comment("x")]}}),
        ("POST", f"/api/datasets/{a.dataset_id}/files?filename=a.csv", {"content": b"text\nhello\n"}),
        ("POST", f"/api/datasets/{a.dataset_id}/exports", {}),
        ("POST", f"/api/datasets/{a.dataset_id}/branches/main/activate", {}),
        ("POST", f"/api/jobs/{job}/cancel", {}),
        # Deletions last, so every write above still has its target when the write key replays the list.
        ("DELETE", "/api/v1/sources/acme/tickets/comments?id=c1", {}),
        ("DELETE", "/api/v1/datasets/acme/support", {}),
        ("DELETE", "/api/v1/sources/acme/tickets", {}),
    ]


def test_read_key_cannot_write_but_can_read(
    anon: TestClient, two: tuple[Seeded, Seeded, str], make_key: Callable[..., str]
) -> None:
    a = two[0]
    job = anon.post(
        f"/api/datasets/{a.dataset_id}/exports", headers={"Authorization": f"Bearer {make_key()}"}
    ).json()["id"]
    read = {"Authorization": f"Bearer {make_key('read', ['acme'])}"}
    write = {"Authorization": f"Bearer {make_key('write', ['acme'])}"}
    for method, path, kwargs in _writes(a, job):
        r = anon.request(method, path, headers=read, **kwargs)
        _check_error(r, path, 403)
        body = r.json()
        assert "'read'" in (body.get("message") or body["error"]["message"])
    for path in (*READS, f"/api/datasets/{a.dataset_id}/branches", f"/api/jobs/{job}"):
        assert anon.get(path, headers=read).status_code == 200, path
    for method, path, kwargs in _writes(a, job):
        assert anon.request(method, path, headers=write, **kwargs).status_code < 300, path


def test_key_of_project_a_sees_nothing_of_project_b(
    anon: TestClient, two: tuple[Seeded, Seeded, str], make_key: Callable[..., str]
) -> None:
    a, b, job = two
    anon.headers["Authorization"] = f"Bearer {make_key('admin', ['acme'])}"
    foreign = [
        ("GET", "/api/v1/sources/globex"),
        ("GET", "/api/v1/sources/globex/tickets"),
        ("GET", f"/api/v1/sources/globex/id:{b.source_id}"),
        ("GET", f"/api/v1/sources/acme/id:{b.source_id}"),
        ("PUT", "/api/v1/sources/globex/tickets"),
        ("DELETE", "/api/v1/sources/globex/tickets"),
        ("POST", "/api/v1/sources/globex/tickets/sync"),
        ("GET", "/api/v1/sources/globex/tickets/comments/c1"),
        ("GET", "/api/v1/sources/globex/tickets/comments?id=c1"),
        ("DELETE", "/api/v1/sources/globex/tickets/comments?id=c1"),
        ("GET", "/api/v1/datasets/globex"),
        ("GET", "/api/v1/datasets/globex/support"),
        ("GET", f"/api/v1/datasets/acme/id:{b.dataset_id}"),
        ("PUT", "/api/v1/datasets/globex/support"),
        ("DELETE", "/api/v1/datasets/globex/support"),
        ("POST", f"/api/v1/datasets/globex/support/labellings/{b.source_id}.c1"),
        ("POST", f"/api/v1/datasets/acme/support/labellings/{b.source_id}.c1"),
        ("GET", "/api/preview/sources/globex/tickets"),
        ("GET", f"/api/datasets/{b.dataset_id}/branches"),
        ("POST", f"/api/datasets/{b.dataset_id}/branches/{b.branch_id}/activate"),
        ("POST", f"/api/datasets/{b.dataset_id}/files?filename=a.csv"),
        ("POST", f"/api/datasets/{b.dataset_id}/exports"),
        ("GET", f"/api/jobs/{job}"),
        ("POST", f"/api/jobs/{job}/cancel"),
        ("GET", f"/api/jobs/{job}/download"),
    ]
    bodies = {
        "sync": {"comments": [comment("x")]},
        "labellings": {"labelling": {"assigned": []}},
        "sources/globex/tickets": {"source": {}},
        "datasets/globex/support": {"dataset": {}},
    }
    for method, path in foreign:
        body = next((v for k, v in bodies.items() if k in path and method != "GET"), None)
        content = b"text\nhello\n" if "files" in path else None
        r = anon.request(method, path, json=body, content=content)
        _check_error(r, path, 404)
        for secret in (b.source_id, b.dataset_id, job):
            assert secret not in r.text or secret in path, (path, r.text)
    listed = anon.get("/api/v1/sources").json()["sources"]
    assert {s["owner"] for s in listed} == {"acme"}
    assert {d["owner"] for d in anon.get("/api/v1/datasets").json()["datasets"]} == {"acme"}
    assert anon.get("/api/jobs").json()["jobs"] == []
    # Nothing of globex moved.
    assert anon.get("/api/v1/sources/acme/tickets/comments?id=c1").status_code == 200


def test_x_api_key_and_bearer_are_equivalent(anon: TestClient, make_key: Callable[..., str]) -> None:
    token = make_key("write", ["acme"])
    r = anon.put("/api/v1/sources/acme/tickets", json={"source": {}}, headers={"X-API-Key": token})
    assert r.status_code == 200, r.text
    r = anon.get("/api/v1/sources/acme/tickets", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("cookie_name", ["sanitas_session", "antidote_session"])
def test_session_cookie_from_login(anon: TestClient, make_key: Callable[..., str], cookie_name: str) -> None:
    token = make_key("write", ["acme"])
    r = anon.post("/api/auth/login", json={"api_key": token})
    csrf = anon.cookies.get("sanitas_csrf")
    assert r.json() == {"status": "ok", "csrf_token": csrf}
    cookie = anon.cookies.get("sanitas_session")
    assert cookie and cookie != token
    session_cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("sanitas_session="))
    assert "httponly" in session_cookie.lower()
    anon.cookies.clear()
    anon.cookies.set(cookie_name, cookie)
    anon.cookies.set("sanitas_csrf", csrf)
    r = anon.put("/api/v1/sources/acme/tickets", json={"source": {}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert anon.get("/api/auth/me").json()["projects"] == ["acme"]
    r = anon.put("/api/v1/sources/globex/tickets", json={"source": {}}, headers={"X-CSRF-Token": csrf})
    reinfer_error(r, 404)
    anon.cookies.set(cookie_name, cookie + "x")
    reinfer_error(anon.get("/api/v1/sources"), 401)


def test_keys_and_sessions_are_stored_hashed(
    anon: TestClient, db: Database, make_key: Callable[..., str]
) -> None:
    token = make_key("admin", ["*"])
    anon.post("/api/auth/login", json={"api_key": token})
    cookie = anon.cookies.get("sanitas_session")
    assert cookie
    secret = token.split("_", 2)[2]
    with db.read() as s:
        stored = [tuple(r) for r in s.execute(select(ApiKey.__table__))]
        stored += [tuple(r) for r in s.execute(select(WebSession.__table__))]
    dump = repr(stored)
    assert token not in dump and secret not in dump and cookie not in dump
    assert len(stored) == 2
