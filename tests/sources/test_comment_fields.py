"""A comment as it comes back: ``has_annotations`` from the datasets' labels, numbers as they were sent,
and a NUL character named by its field (files reach the model without the HTTP guard)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sanitas.sources.schemas import CommentIn
from sanitas.validation import nul_path, plain_json_error
from tests.api.helpers import comment, seed

COMMENTS = "/api/v1/sources/acme/tickets/comments"


def test_has_annotations_follows_the_labels(client: TestClient) -> None:
    acme = seed(client, n=3)
    assert client.get(f"{COMMENTS}/c1").json()["comment"]["has_annotations"] is False
    label = {"labelling": {"assigned": [{"name": ["Billing"]}]}}
    r = client.post(f"/api/v1/datasets/acme/support/labellings/{acme.source_id}.c1", json=label)
    assert r.status_code == 200, r.text
    assert client.get(f"{COMMENTS}/c1").json()["comment"]["has_annotations"] is True
    many = client.get(COMMENTS, params={"id": ["c0", "c1", "c2"]}).json()["comments"]
    assert [c["has_annotations"] for c in many] == [False, True, False]
    # Taking every label off makes it unannotated again.
    empty = {"labelling": {"assigned": []}}
    client.post(f"/api/v1/datasets/acme/support/labellings/{acme.source_id}.c1", json=empty)
    assert client.get(f"{COMMENTS}/c1").json()["comment"]["has_annotations"] is False


def test_numbers_come_back_as_sent(client: TestClient) -> None:
    seed(client, n=0)
    props = {"number:Pos": 1, "number:Ratio": 2.5, "number:Whole": 3.0, "string:Folder": "Inbox"}
    r = client.post(
        "/api/v1/sources/acme/tickets/sync", json={"comments": [comment("p", user_properties=props)]}
    )
    assert r.status_code == 200, r.text
    got = client.get(f"{COMMENTS}/p").json()["comment"]["user_properties"]
    assert got == {"number:Pos": 1, "number:Ratio": 2.5, "number:Whole": 3, "string:Folder": "Inbox"}
    assert type(got["number:Pos"]) is int and type(got["number:Whole"]) is int
    # 3 and 3.0 are one JSON number: re-sending either spelling is unchanged.
    again = {**props, "number:Pos": 1.0, "number:Whole": 3}
    r = client.post(
        "/api/v1/sources/acme/tickets/sync", json={"comments": [comment("p", user_properties=again)]}
    )
    assert r.json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("field", "patch"),
    [
        ("messages[0].body.text", {"messages": [{"body": {"text": "a\x00b"}}]}),
        ("messages[0].to[1]", {"messages": [{"body": {"text": "x"}, "to": ["a", "b\x00"]}]}),
        ("user_properties['string:F']", {"user_properties": {"string:F": "\x00"}}),
        ("thread_id", {"thread_id": "t\x00"}),
        ("attachments[0].name", {"attachments": [{"name": "\x00", "size": 1, "content_type": "t"}]}),
    ],
)
def test_nul_is_refused_naming_the_field(field: str, patch: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as info:
        CommentIn.model_validate({**comment("n"), **patch})
    assert f"{field}: text must not contain NUL" in str(info.value)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            {"comments": [{"id": "a"}, {"messages": [{"body": {"text": "x\x00"}}]}]},
            "comments[1].messages[0].body.text",
        ),
        ({"source": {"title": "ok", "description": "\x00"}}, "source.description"),
        ({"user_properties": {"string:\x00": "v"}}, "user_properties.string:\x00"),
        ({"fine": ["a", 1, None, {"b": "c"}]}, None),
    ],
)
def test_nul_path_names_the_field(body: object, where: str | None) -> None:
    assert nul_path(body) == where


def test_plain_json_error_hides_python_internals() -> None:
    import json

    with pytest.raises(ValueError) as info:
        json.loads('{"size": ' + "9" * 5000 + "}")
    message = plain_json_error(str(info.value))
    assert message == "a number has more than 4300 digits"
    assert plain_json_error("Expecting value") == "Expecting value"
