"""CSRF protection of cookie-authenticated writes: double-submit token plus Origin check; bearer untouched.

Before this, a page on any site could make the browser POST to the server with the session cookie and
the write succeeded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from sanitas.api.app import create_app
from sanitas.auth.csrf import own_origins
from sanitas.config import Settings
from sanitas.db import Database
from tests.api.helpers import Seeded, antidote_error, reinfer_error, seed

EVIL = "https://evil.example"


@pytest.fixture()
def acme(client: TestClient) -> Seeded:
    """Project ``acme`` seeded with the admin key; the client then drops the key (cookie only)."""
    seeded = seed(client, "acme")
    del client.headers["Authorization"]
    return seeded


def _login(client: TestClient, token: str) -> str:
    r = client.post("/api/auth/login", json={"api_key": token})
    assert r.status_code == 200, r.text
    csrf = client.cookies.get("sanitas_csrf")
    assert csrf and r.json()["csrf_token"] == csrf
    return csrf


def test_cookie_write_from_another_origin_is_refused(
    anon: TestClient, acme: Seeded, make_key: Callable[..., str]
) -> None:
    csrf = _login(anon, make_key("write", ["acme"]))
    # What a forged form post from another site looks like: cookie attached, another Origin.
    r = anon.post(f"/api/datasets/{acme.dataset_id}/exports", headers={"Origin": EVIL})
    antidote_error(r, 403, "CSRF_FAILED")
    # Even with the right token (a sibling page that could read it), another origin is refused.
    r = anon.post(f"/api/datasets/{acme.dataset_id}/exports", headers={"Origin": EVIL, "X-CSRF-Token": csrf})
    antidote_error(r, 403, "CSRF_FAILED")
    assert "evil.example" in r.json()["error"]["message"]
    r = anon.post(
        f"/api/datasets/{acme.dataset_id}/exports", headers={"Origin": "null", "X-CSRF-Token": csrf}
    )
    antidote_error(r, 403, "CSRF_FAILED")
    # Re:infer routes answer in their own envelope.
    r = anon.put("/api/v1/sources/acme/new", json={"source": {}}, headers={"Origin": EVIL})
    reinfer_error(r, 403)
    assert "X-CSRF-Token" in r.json()["message"] or "Origin" in r.json()["message"]
    assert anon.get("/api/jobs").json()["jobs"] == []


def test_cookie_write_needs_the_token(anon: TestClient, acme: Seeded, make_key: Callable[..., str]) -> None:
    csrf = _login(anon, make_key("write", ["acme"]))
    url = f"/api/datasets/{acme.dataset_id}/exports"
    r = anon.post(url)
    antidote_error(r, 403, "CSRF_FAILED")
    assert "X-CSRF-Token" in r.json()["error"]["message"]
    antidote_error(anon.post(url, headers={"X-CSRF-Token": csrf + "0"}), 403, "CSRF_FAILED")
    # The cookie must carry the same value: a header alone (no cookie) is not a double submit.
    anon.cookies.delete("sanitas_csrf")
    antidote_error(anon.post(url, headers={"X-CSRF-Token": csrf}), 403, "CSRF_FAILED")


def test_same_origin_write_with_the_token_succeeds(
    anon: TestClient, acme: Seeded, make_key: Callable[..., str]
) -> None:
    csrf = _login(anon, make_key("write", ["acme"]))
    url = f"/api/datasets/{acme.dataset_id}/exports"
    r = anon.post(url, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert r.status_code == 202, r.text
    r = anon.post(
        url, headers={"X-CSRF-Token": csrf}
    )  # no Origin (some browsers omit it): the token suffices
    assert r.status_code == 202, r.text
    r = anon.put("/api/v1/sources/acme/new", json={"source": {}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    # Reads need no token, from anywhere.
    assert anon.get("/api/jobs", headers={"Origin": EVIL}).status_code == 200


def test_a_token_belongs_to_its_session(
    settings: Settings, db: Database, acme: Seeded, make_key: Callable[..., str]
) -> None:
    token = make_key("write", ["acme"])
    with TestClient(create_app(settings, db=db)) as one, TestClient(create_app(settings, db=db)) as two:
        _login(one, token)
        other = _login(two, token)
        # Session one's cookie with session two's token in both places: a planted pair does not fit.
        one.cookies.set("sanitas_csrf", other)
        r = one.post(f"/api/datasets/{acme.dataset_id}/exports", headers={"X-CSRF-Token": other})
        antidote_error(r, 403, "CSRF_FAILED")


def test_bearer_and_api_key_writes_are_unaffected(
    anon: TestClient, acme: Seeded, make_key: Callable[..., str]
) -> None:
    token = make_key("write", ["acme"])
    url = f"/api/datasets/{acme.dataset_id}/exports"
    r = anon.post(url, headers={"Authorization": f"Bearer {token}", "Origin": EVIL})
    assert r.status_code == 202, r.text
    assert anon.post(url, headers={"X-API-Key": token, "Origin": EVIL}).status_code == 202
    # A key sent with a cookie present wins: the request carries no ambient credential.
    _login(anon, token)
    assert anon.post(url, headers={"X-API-Key": token, "Origin": EVIL}).status_code == 202


def test_me_shows_the_token_of_a_cookie_session_only(anon: TestClient, make_key: Callable[..., str]) -> None:
    token = make_key("read", ["acme"])
    assert "csrf_token" not in anon.get("/api/auth/me", headers={"X-API-Key": token}).json()
    csrf = _login(anon, token)
    assert anon.get("/api/auth/me").json()["csrf_token"] == csrf


def test_logout_forgets_the_session_and_clears_both_cookies(
    anon: TestClient, make_key: Callable[..., str]
) -> None:
    csrf = _login(anon, make_key("read", ["acme"]))
    cookie = anon.cookies.get("sanitas_session")
    antidote_error(anon.post("/api/auth/logout"), 403, "CSRF_FAILED")  # a forged logout is a write too
    r = anon.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    cleared = {c.split("=", 1)[0] for c in r.headers.get_list("set-cookie") if "max-age=0" in c.lower()}
    assert {"sanitas_session", "sanitas_csrf"} <= cleared
    assert not anon.cookies.get("sanitas_session") and not anon.cookies.get("sanitas_csrf")
    # The old cookie is dead on the server too, not only forgotten by this browser.
    anon.cookies.set("sanitas_session", str(cookie))
    antidote_error(anon.get("/api/auth/me"), 401, "UNAUTHORIZED")


def _set_cookies(client: TestClient, token: str) -> list[str]:
    r = client.post("/api/auth/login", json={"api_key": token})
    assert r.status_code == 200, r.text
    return [c.lower() for c in r.headers.get_list("set-cookie")]


def test_cookies_are_secure_over_https_or_when_configured(
    settings: Settings, db: Database, make_key: Callable[..., str]
) -> None:
    token = make_key("read", ["acme"])
    with TestClient(create_app(settings, db=db)) as plain:
        cookies = _set_cookies(plain, token)
        assert len(cookies) == 2 and not any("secure" in c for c in cookies)
        session = next(c for c in cookies if c.startswith("sanitas_session="))
        csrf = next(c for c in cookies if c.startswith("sanitas_csrf="))
        assert "httponly" in session and "httponly" not in csrf
    with TestClient(create_app(settings, db=db), base_url="https://testserver") as tls:
        assert all("; secure" in c for c in _set_cookies(tls, token))
    forced = dataclasses.replace(settings, cookie_secure=True)
    with TestClient(create_app(forced, db=db)) as proxied:
        assert all("; secure" in c for c in _set_cookies(proxied, token))


def test_public_url_is_the_origin_when_configured(
    settings: Settings, db: Database, make_key: Callable[..., str]
) -> None:
    public = dataclasses.replace(settings, public_url="https://sanitas.example.com")
    token = make_key("write", ["acme"])
    with TestClient(create_app(public, db=db), base_url="https://sanitas.example.com") as c:
        csrf = _login(c, token)
        r = c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:8000"})
        antidote_error(r, 403, "CSRF_FAILED")
        r = c.post(
            "/api/auth/logout", headers={"X-CSRF-Token": csrf, "Origin": "https://sanitas.example.com"}
        )
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("base", "public", "allowed", "refused"),
    [
        (
            "http://127.0.0.1:8000/",
            None,
            {"http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"},
            {"http://localhost:8001", "https://127.0.0.1:8000", "http://evil.example:8000"},
        ),
        ("http://10.0.0.5:8000/", None, {"http://10.0.0.5:8000"}, {"http://localhost:8000"}),
        (
            "http://127.0.0.1:8000/",
            "https://Sanitas.Example.com:443/prefix",
            {"https://sanitas.example.com"},
            {"http://127.0.0.1:8000", "http://sanitas.example.com"},
        ),
    ],
)
def test_own_origins(base: str, public: str | None, allowed: set[str], refused: set[str]) -> None:
    origins = own_origins(base_url=base, public_url=public)
    assert allowed <= origins and not refused & origins


def test_a_real_server_knows_its_own_origin(live_server: str, make_key: Callable[..., str]) -> None:
    """Served by uvicorn on 127.0.0.1: a page opened as localhost or 127.0.0.1 may write, others not."""
    import httpx

    port = live_server.rsplit(":", 1)[1]
    with httpx.Client(base_url=live_server) as c:
        r = c.post("/api/auth/login", json={"api_key": make_key("write", ["acme"])})
        csrf = r.json()["csrf_token"]
        for origin, status in [
            (f"http://localhost:{port}", 200),
            (live_server, 200),
            (f"http://localhost:{int(port) + 1}", 403),
            (EVIL, 403),
        ]:
            r = c.put(
                "/api/v1/sources/acme/s1",
                json={"source": {}},
                headers={"X-CSRF-Token": csrf, "Origin": origin},
            )
            assert r.status_code == status, (origin, r.text)
