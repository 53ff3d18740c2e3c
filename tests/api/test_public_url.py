"""Links the server hands out are built from the configured public URL, never from the Host header."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from sanitas.api.app import create_app
from sanitas.api.deps import public_base_url
from sanitas.config import Settings, load_settings, public_url
from sanitas.db import Database


def client_for(settings: Settings, db: Database) -> TestClient:
    app = create_app(settings, db=db, auth=False)

    def base(request: Request) -> dict[str, Any]:
        # ``request.base_url`` is what the signed-link builders read: it must not follow Host either.
        return {"base": public_base_url(request), "request_base": str(request.base_url)}

    app.add_api_route("/api/test/base", base)
    return TestClient(app)


def test_configured_public_url_wins_over_a_forged_host(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANITAS_PUBLIC_URL", "https://sanitas.example.com/base/")
    configured = load_settings(home=settings.home, database_url=settings.database_url, secret_key=b"k")
    assert configured.public_url == "https://sanitas.example.com/base"
    with client_for(configured, db) as client:
        r = client.get("/api/test/base", headers={"Host": "evil.example:666"})
        assert r.json()["base"] == "https://sanitas.example.com/base"
        assert r.json()["request_base"].startswith("https://sanitas.example.com/")


def test_without_a_public_url_links_use_the_listening_address(settings: Settings, db: Database) -> None:
    assert settings.public_url is None
    with client_for(settings, db) as client:
        r = client.get("/api/test/base", headers={"Host": "evil.example:666"})
        assert "evil" not in r.json()["base"] and "evil" not in r.json()["request_base"]
        assert r.json()["base"] == "http://testserver"  # the test client's server address


def test_a_real_server_pins_links_to_its_listening_address(settings: Settings, db: Database) -> None:
    """Over a real socket: the address uvicorn listens on, whatever Host the client sends."""
    import httpx

    from tests.api.helpers import serving

    with serving(client_for(settings, db).app) as port:
        r = httpx.get(f"http://127.0.0.1:{port}/api/test/base", headers={"Host": "evil.example"})
        assert r.json() == {"base": f"http://127.0.0.1:{port}", "request_base": f"http://127.0.0.1:{port}/"}


@pytest.mark.parametrize(
    "raw", ["ftp://x.example", "sanitas.example.com", "https://x.example/?a=1", "https://"]
)
def test_a_bad_public_url_is_refused_with_the_setting_named(raw: str) -> None:
    with pytest.raises(ValueError, match="SANITAS_PUBLIC_URL"):
        public_url(raw)


@pytest.mark.parametrize("public", ["https://sanitas.example.com", "https://sanitas.example.com/prefix"])
def test_dataframer_signed_links_ignore_a_forged_host(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, public: str
) -> None:
    """The seed's presigned-style links: a client's Host header cannot redirect them elsewhere."""
    import orjson

    from sanitas.jobs.worker import Worker

    monkeypatch.setenv("SANITAS_PUBLIC_URL", public)
    configured = load_settings(home=settings.home, database_url=settings.database_url, secret_key=b"k")
    with TestClient(create_app(configured, db=db, auth=False)) as client:
        dataset_id = client.put("/api/v1/datasets/acme/chats", json={"dataset": {}}).json()["dataset"]["id"]
        rows = b"".join(
            orjson.dumps({"id": f"r{i}", "text": f"mail me at a{i}@example.com"}) + b"\n" for i in range(3)
        )
        assert (
            client.post(f"/api/datasets/{dataset_id}/files?filename=r.jsonl", content=rows).status_code == 200
        )
        body = {"dataset_id": dataset_id, "pii_types": ["email"], "detection_method": "heuristics"}
        run_id = client.post("/api/dataframer/anonymization-runs/", json=body).json()["id"]
        worker = Worker(db=db, settings=configured)
        while worker.run_once():
            pass
        evil = {"Host": "evil.example"}
        base = f"/api/dataframer/anonymization-runs/{run_id}"
        for url in (f"{base}/files/f1/download/", f"{base}/download/"):
            link = client.get(url, headers=evil).json()["download_url"]
            # A path prefix (a proxy serving Sanitas under /prefix) is kept too.
            assert link.startswith(f"{public}/api/dataframer/"), link
