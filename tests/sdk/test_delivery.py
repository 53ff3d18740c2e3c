"""What a stream delivers, decided from the Re:infer semantics (one cursor per stream, upload order):
an updated comment is not delivered again, and consumers sharing a stream each get every comment."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from sanitas.sdk import Client
from tests.sdk.test_client import _comments, _sdk, _setup


def test_a_comment_updated_after_delivery_is_not_delivered_again(client: TestClient) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    sdk.create_stream("acme", "support", "s", start_at="earliest")
    sdk.sync("acme", "tickets", _comments(3))
    delivered = list(sdk.iter_stream("acme", "support", "s", wait_seconds=0, stop_at_end=True))
    assert [r.comment["id"] for r in delivered] == ["c0", "c1", "c2"]
    updated = _comments(1, start=1)
    updated[0]["messages"] = [{"body": {"text": "changed"}}]
    assert sdk.sync("acme", "tickets", updated).updated == 1
    # Its place in the queue is its first upload, already consumed: nothing new to deliver.
    assert sdk.fetch("acme", "support", "s").results == []
    sdk.sync("acme", "tickets", _comments(1, start=3))
    assert [r.comment["id"] for r in sdk.fetch("acme", "support", "s").results] == ["c3"]


def test_an_update_before_the_advance_is_read_in_its_new_form(client: TestClient) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    sdk.create_stream("acme", "support", "s", start_at="earliest")
    sdk.sync("acme", "tickets", _comments(2))
    updated = _comments(1)
    updated[0]["messages"] = [{"body": {"text": "changed"}}]
    sdk.sync("acme", "tickets", updated)
    batch = sdk.fetch("acme", "support", "s")
    assert [r.comment["id"] for r in batch.results] == ["c0", "c1"]  # still once, at its first place
    assert batch.results[0].comment["messages"] == [{"body": {"text": "changed"}}]


def test_consumers_sharing_a_stream_each_get_every_comment(client: TestClient) -> None:
    one, two = _sdk(client), _sdk(client)
    _setup(one)
    one.create_stream("acme", "support", "s", start_at="earliest")
    one.sync("acme", "tickets", _comments(4))
    a = one.fetch("acme", "support", "s", size=10)
    b = two.fetch("acme", "support", "s", size=10)
    assert (
        [r.comment["id"] for r in a.results]
        == [r.comment["id"] for r in b.results]
        == ["c0", "c1", "c2", "c3"]
    )
    # One cursor: the first advance moves it for both; the other's later, older advance is answered
    # with where the stream really is, and moves nothing back.
    first = one.advance("acme", "support", "s", a.sequence_id)
    assert two.advance("acme", "support", "s", b.results[1].sequence_id) == first
    assert one.fetch("acme", "support", "s").results == two.fetch("acme", "support", "s").results == []


def test_independent_consumers_use_a_stream_each(client: TestClient) -> None:
    sdk = _sdk(client)
    _setup(sdk)
    for name in ("billing", "audit"):
        sdk.create_stream("acme", "support", name, start_at="earliest")
    sdk.sync("acme", "tickets", _comments(3))
    for name in ("billing", "audit"):
        got = list(sdk.iter_stream("acme", "support", name, wait_seconds=0, stop_at_end=True))
        assert [r.comment["id"] for r in got] == ["c0", "c1", "c2"]


def test_sync_retries_a_conflict() -> None:
    answers = iter([409, 409, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 409:
            return httpx.Response(409, json={"status": "error", "message": "conflicted; retry"})
        return httpx.Response(200, json={"status": "ok", "new": 1, "updated": 0, "unchanged": 0})

    sdk = Client("http://x", "t", transport=httpx.MockTransport(handler), backoff=0.0)
    assert sdk.sync("acme", "tickets", _comments(1)).new == 1
