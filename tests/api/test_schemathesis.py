"""A schemathesis run over the app's own ``/openapi.json``: no generated request may end in a 5xx.

Each operation is its own test on a fresh database seeded with one project's source, comments, dataset
and export job (the heal review routes: a finished heal job with changes, and a branch published from its
review). Half of the generated cases have their path parameters swapped for those real resources,
so the run reaches the services behind the 404s, not only the validation layer in front of them.

The document is fetched from the app, then its array and string caps are lowered for generation only:
a 16,384-comment batch of 65,536-character texts costs minutes per example and finds nothing a small
one does not (the caps themselves are tested row by row in ``test_reinfer_validation.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import ASGIClient, get_client

from sanitas.api.app import create_app
from sanitas.config import load_settings
from tests.heal.review_fixture import make_fake_heal

EXAMPLES = 15
GENERATED_MAX_ITEMS = 4
GENERATED_MAX_LENGTH = 256


def _clamp(node: Any) -> Any:
    """The document with every ``maxItems``/``maxLength`` lowered to the generation caps."""
    if isinstance(node, dict):
        out = {k: _clamp(v) for k, v in node.items()}
        if isinstance(out.get("maxItems"), int):
            out["maxItems"] = min(out["maxItems"], GENERATED_MAX_ITEMS)
        if isinstance(out.get("maxLength"), int):
            out["maxLength"] = min(out["maxLength"], max(GENERATED_MAX_LENGTH, out.get("minLength", 0)))
        return out
    if isinstance(node, list):
        return [_clamp(v) for v in node]
    return node


def _operations() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as home:
        settings_ = load_settings(home=home, database_url=f"sqlite:///{home}/spec.db", secret_key=b"x")
        spec = create_app(settings_, auth=False).openapi()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


_LOADED: dict[bytes, Any] = {}


def _load(client: TestClient) -> Any:
    """The schemathesis schema of the app's ``/openapi.json``, parsed once per distinct document."""
    raw = client.get("/openapi.json").json()
    key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    if key not in _LOADED:
        _LOADED[key] = schemathesis.openapi.from_dict(_clamp(raw))
    schema = _LOADED[key]
    schema.app = client.app  # each test has its own app and database
    return schema


@pytest.fixture()
def seeded(client: TestClient) -> dict[str, str]:
    """Real path parameters of one project's resources."""
    r = client.put("/api/v1/sources/acme/tickets", json={"source": {"title": "Tickets"}})
    source_id = r.json()["source"]["id"]
    comments = [
        {"id": f"c{i}", "timestamp": "2024-01-01T00:00:00Z", "messages": [{"body": {"text": f"hello {i}"}}]}
        for i in range(5)
    ]
    client.post("/api/v1/sources/acme/tickets/sync", json={"comments": comments})
    r = client.put("/api/v1/datasets/acme/support", json={"dataset": {"source_ids": [source_id]}})
    dataset_id = r.json()["dataset"]["id"]
    branch_id = client.get(f"/api/datasets/{dataset_id}/branches").json()["branches"][0]["dataset_id"]
    job_id = client.post(f"/api/datasets/{dataset_id}/exports").json()["id"]
    return {
        "project": "acme",
        "source": "tickets",
        "dataset": "support",
        "comment_id": "c1",
        "uid": f"{source_id}.c1",
        "dataset_id": dataset_id,
        "branch_id": branch_id,
        "job_id": job_id,
    }


@pytest.fixture()
def session(client: TestClient) -> Iterator[ASGIClient]:
    with get_client(client.app) as asgi_client:
        yield asgi_client


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_error(
    method: str,
    path: str,
    client: TestClient,
    seeded: dict[str, str],
    session: ASGIClient,
) -> None:
    if path.startswith("/api/healing/{job_id}/") or path.endswith("/manifest"):
        # The review routes need a finished heal job with changes (and a branch a review published).
        heal = make_fake_heal(client, client.app.state.db, client.app.state.settings)  # type: ignore[attr-defined]
        client.post(f"/api/healing/{heal.job_id}/apply", json={"name": "reviewed"})
        seeded = {
            **seeded,
            "job_id": heal.job_id,
            "row_id": heal.uid["r1"],
            "dataset_id": heal.dataset_id,
            "branch_id": "reviewed",
        }
    schema = _load(client)
    operation = schema[path][method]
    auth = {"Authorization": client.headers["Authorization"]}
    failures: list[str] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            # No shrinking: the first failing case is reported as is, which keeps a failing run short.
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case: Any, real: bool) -> None:
            if real and case.path_parameters:
                case.path_parameters = {k: seeded.get(k, v) for k, v in case.path_parameters.items()}
            response = case.call(session=session, headers=auth)
            case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])

        try:
            run()
        except Unsatisfiable:
            continue  # nothing in this operation can be made invalid (no parameters, no body)
        except Exception as exc:
            failures.append(f"{mode}: {exc}")
    assert not failures, "\n\n".join(failures)
