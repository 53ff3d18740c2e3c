"""Bodies over ``SANITAS_MAX_BODY_BYTES`` answer 413, announced by Content-Length or streamed chunked."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sanitas.api.app import create_app
from sanitas.config import Settings
from sanitas.db import Database
from tests.api.helpers import Seeded, antidote_error, comment, reinfer_error, seed, snapshot

LIMIT = 4096


@pytest.fixture()
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(dataclasses.replace(settings, max_body_bytes=LIMIT), db=db)


@pytest.fixture()
def small(app: FastAPI, make_key: Callable[..., str]) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {make_key()}"
        yield c


@pytest.fixture()
def acme(small: TestClient) -> Seeded:
    return seed(small)


def _sync_body(size: int) -> bytes:
    """A valid sync body of exactly ``size`` bytes."""
    empty = len(orjson.dumps({"comments": [comment("big", "")]}))
    body = orjson.dumps({"comments": [comment("big", "x" * (size - empty))]})
    assert len(body) == size
    return body


def _chunks(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), 1000):
        yield data[i : i + 1000]


CASES = [
    # (route, body size, chunked, status)
    ("reinfer", LIMIT - 200, False, 200),
    ("reinfer", LIMIT - 200, True, 200),
    ("reinfer", LIMIT + 1, False, 413),
    ("reinfer", LIMIT + 1, True, 413),
    ("reinfer", 10 * LIMIT, True, 413),
    ("files", LIMIT - 200, False, 200),
    ("files", LIMIT + 1, False, 413),
    ("files", LIMIT + 1, True, 413),
]


def _send(
    client: httpx.Client | TestClient, acme: Seeded, route: str, size: int, chunked: bool
) -> httpx.Response:
    if route == "reinfer":
        url, data = "/api/v1/sources/acme/tickets/sync", _sync_body(size)
        headers = {"content-type": "application/json"}
    else:
        url, data = f"/api/datasets/{acme.dataset_id}/files?filename=a.csv", b"text\n" + b"y" * (size - 5)
        headers = {"content-type": "text/csv"}
    return client.post(url, content=_chunks(data) if chunked else data, headers=headers)


def _check(r: httpx.Response, route: str, status: int) -> None:
    if status == 200:
        assert r.status_code == 200, r.text
    elif route == "reinfer":
        reinfer_error(r, 413, f"{LIMIT}-byte limit")
    else:
        antidote_error(r, 413, "PAYLOAD_TOO_LARGE", f"{LIMIT}-byte limit")


@pytest.mark.parametrize(("route", "size", "chunked", "status"), CASES)
def test_body_cap_in_process(
    small: TestClient, db: Database, acme: Seeded, route: str, size: int, chunked: bool, status: int
) -> None:
    before = snapshot(db, acme.dataset_id)
    _check(_send(small, acme, route, size, chunked), route, status)
    assert (snapshot(db, acme.dataset_id) == before) == (status != 200)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on a free loopback port."""
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_body_cap_over_a_real_server(
    server: str, small: TestClient, db: Database, acme: Seeded, make_key: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_key()}"}
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        for route, size, chunked, status in CASES:
            before = snapshot(db, acme.dataset_id)
            r = _send(http, acme, route, size, chunked)
            _check(r, route, status)
            if status != 200:
                assert snapshot(db, acme.dataset_id) == before


def test_a_nul_in_a_json_body_names_its_field(client: TestClient) -> None:
    """The guard sees NUL in the raw body; the client still hears which field holds it."""
    assert client.put("/api/v1/sources/acme/src", json={"source": {}}).status_code == 200
    bad = comment("a", "fine")
    bad["messages"] = [{"body": {"text": "ok"}}, {"subject": {"text": "x\u0000y"}, "body": {"text": "b"}}]
    r = client.post("/api/v1/sources/acme/src/sync", json={"comments": [comment("z"), bad]})
    reinfer_error(r, 422, "comments[1].messages[1].subject.text", "NUL")
    r = client.post(
        "/api/datasets/00000000-0000-0000-0000-000000000000/heal", json={"branch_name": "a\u0000"}
    )
    antidote_error(r, 422, None, "branch_name", "NUL")


def test_a_huge_integer_gets_a_plain_message(client: TestClient) -> None:
    body = b'{"comments": ' + b"9" * 5000 + b"}"
    r = client.post(
        "/api/v1/sources/acme/src/sync", content=body, headers={"content-type": "application/json"}
    )
    msg = reinfer_error(r, 400, "4300 digits")["message"]
    assert "sys." not in msg and "set_int_max_str_digits" not in msg
