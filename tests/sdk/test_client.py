"""The SDK against the real app (in-process transport) and against scripted failures (retries)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sanitas.sdk import (
    APIError,
    AuthError,
    BadRequestError,
    Batch,
    Client,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Stream,
    TransportError,
)


class InProcess(httpx.BaseTransport):
    """Route the SDK's requests to the real app through the test client (no socket needed)."""

    def __init__(self, app_client: TestClient) -> None:
        self.app_client = app_client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward one request."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")}
        r = self.app_client.request(
            request.method, request.url.raw_path.decode(), content=request.read(), headers=headers
        )
        return httpx.Response(
            r.status_code, headers={"content-type": r.headers.get("content-type", "")}, content=r.content
        )


def _sdk(client: TestClient, token: str | None = None) -> Client:
    token = token or client.headers["Authorization"].split(" ", 1)[1]
    return Client("http://testserver", token, transport=InProcess(client), backoff=0.0)


def _comments(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": f"t {i}"}}]}
        for i in range(start, start + n)
    ]


def _setup(sdk: Client) -> str:
    src = sdk.create_source("acme", "tickets")
    sdk.create_dataset("acme", "support", source_ids=[src.id], labels=[["A"], ["B", "C"]])
    return src.id


def test_datasets_sources_streams_round_trip(client: TestClient) -> None:
    sdk = _sdk(client)
    source_id = _setup(sdk)
    assert sdk.get_dataset("acme", "support").source_ids == [source_id]
    assert [d.name for d in sdk.list_datasets("acme")] == ["support"]
    assert sdk.sync("acme", "tickets", _comments(5)).new == 5
    assert sdk.sync("acme", "tickets", _comments(5)).unchanged == 5
    stream = sdk.create_stream("acme", "support", "robot", start_at="earliest", comment_filter={})
    assert isinstance(stream, Stream) and stream.model_version is None
    batch = sdk.fetch("acme", "support", "robot", size=3)
    assert isinstance(batch, Batch)
    assert [r.uid for r in batch.results] == [f"{source_id}.c{i}" for i in range(3)]
    sdk.advance("acme", "support", "robot", batch.sequence_id)
    got = sdk.get_stream("acme", "support", "robot")
    assert got.lag is not None and got.lag["backlog"] == 2
    token = sdk.reset("acme", "support", "robot", "2000-01-01T00:00:00Z")
    with pytest.raises(ConflictError):
        sdk.advance("acme", "support", "robot", batch.sequence_id)
    sdk.advance("acme", "support", "robot", token)
    sdk.tag_exceptions("acme", "support", "robot", {f"{source_id}.c1": "Wrong Prediction"})
    sdk.untag_exceptions("acme", "support", "robot", [f"{source_id}.c1"])
    assert [s.name for s in sdk.list_streams("acme", "support")] == ["robot"]
    sdk.delete_stream("acme", "support", "robot")
    with pytest.raises(NotFoundError):
        sdk.get_stream("acme", "support", "robot")


@pytest.mark.parametrize("mode", ["batch", "comment"])
def test_iterator_redelivers_after_a_crash(client: TestClient, mode: str) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    sdk.sync("acme", "tickets", _comments(6))
    sdk.create_stream("acme", "support", "robot", start_at="earliest")
    seen: list[str] = []

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        for r in sdk.iter_stream("acme", "support", "robot", size=4, wait_seconds=0, advance=mode):
            if r.comment["id"] == "c2":
                raise Crash
            seen.append(r.comment["id"])
    rest = [
        r.comment["id"]
        for r in sdk.iter_stream(
            "acme", "support", "robot", size=4, wait_seconds=0, advance=mode, stop_at_end=True
        )
    ]
    # Batch mode redelivers the whole unacknowledged batch; comment mode only what was not done.
    expected = ["c0", "c1", "c2", "c3", "c4", "c5"] if mode == "batch" else ["c2", "c3", "c4", "c5"]
    assert seen == ["c0", "c1"] and rest == expected


def test_bad_input_and_auth_raise_clear_errors(client: TestClient) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    with pytest.raises(BadRequestError, match="size"):
        sdk.fetch("acme", "support", "nope", size=5000)
    with pytest.raises(NotFoundError, match="stream 'nope' not found"):
        sdk.fetch("acme", "support", "nope")
    with pytest.raises(AuthError):
        _sdk(client, "wrong").list_datasets()


def _scripted(statuses: list[int], calls: list[int]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status = statuses[min(len(calls) - 1, len(statuses) - 1)]
        if status == 0:
            raise httpx.ConnectError("refused", request=request)
        body = {"status": "ok", "datasets": []} if status == 200 else {"status": "error", "message": "boom"}
        return httpx.Response(status, json=body, headers={"Retry-After": "0"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("statuses", "retries", "error", "calls_made"),
    [
        ([503, 502, 200], 5, None, 3),
        ([429, 200], 5, None, 2),
        ([0, 0, 200], 5, None, 3),
        ([500], 2, ServerError, 3),
        ([429], 1, RateLimitedError, 2),
        ([0], 1, TransportError, 2),
        ([404, 200], 5, NotFoundError, 1),
        ([409, 200], 5, ConflictError, 1),
        ([422, 200], 5, BadRequestError, 1),
        ([418], 5, APIError, 1),
    ],
)
def test_retries_only_what_can_succeed_later(
    statuses: list[int], retries: int, error: type[Exception] | None, calls_made: int
) -> None:
    calls: list[int] = []
    sdk = Client("http://x", "t", retries=retries, backoff=0.0, transport=_scripted(statuses, calls))
    if error is None:
        assert sdk.list_datasets() == []
    else:
        with pytest.raises(error, match="boom|refused"):
            sdk.list_datasets()
    assert len(calls) == calls_made


def test_heal_and_anonymization_jobs_are_typed(client: TestClient) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    sdk.sync("acme", "tickets", _comments(3))
    dataset_id = sdk.get_dataset("acme", "support").id
    heal = sdk.start_heal(dataset_id, target="download")
    assert heal.id and not heal.done
    assert sdk.get_heal(heal.id).id == heal.id
    run = sdk.create_anonymization_run(dataset_id, ["email"], detection_method="heuristics")
    assert run.status == "PENDING" and run.dataset_id == dataset_id
    assert sdk.get_anonymization_run(run.id).id == run.id
    assert [r.id for r in sdk.list_anonymization_runs()] == [run.id]
    with pytest.raises(BadRequestError):
        sdk.create_anonymization_run(dataset_id, ["not_a_type"])
