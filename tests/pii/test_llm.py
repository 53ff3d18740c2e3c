"""The llm method against a real OpenAI-compatible server on 127.0.0.1, started by the test."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sanitas.pii.engine import PiiEngine
from sanitas.pii.llm import LlmClient, LlmConfig, LlmNotConfiguredError, LlmUnavailableError

TEXT = "Please ask Anna Berg, anna@example.org, about it."


class _Server(ThreadingHTTPServer):
    # What the next requests get: a list of (status, content) consumed in order, the last one repeated.
    script: list[tuple[int, str]]
    seen: list[dict]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        status, content = self.server.script.pop(0) if len(self.server.script) > 1 else self.server.script[0]
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.script, srv.seen = [(200, '{"entities": []}')], []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _config(srv: _Server, **kw: object) -> LlmConfig:
    host, port = srv.server_address[:2]
    return LlmConfig(base_url=f"http://{host}:{port}/v1", model="tiny", api_key="k", backoff_s=0.01, **kw)


ANSWER = json.dumps(
    {
        "entities": [
            {"text": "Anna Berg", "label": "person", "score": 0.9},
            {"text": "anna@example.org", "label": "EMAIL_ADDRESS"},
            {"text": "Boris Petrov", "label": "person"},  # not in the text: hallucinated
            {"text": "about", "label": "favourite_word"},  # not a pii_type
        ]
    }
)


def test_spans_checked_against_text(server):
    server.script = [(200, "Sure! ```json\n" + ANSWER + "\n```")]
    engine = PiiEngine(method="llm", pii_types=["person", "email"], llm=_config(server))
    found = {(TEXT[e.start : e.end], e.label) for e in engine.analyze(TEXT)}
    assert found == {("Anna Berg", "person"), ("anna@example.org", "email")}
    req = server.seen[0]
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "tiny"
    assert req["auth"] == "Bearer k"
    assert TEXT in json.dumps(req["body"]["messages"])


def test_llm_plus_heuristics_is_a_union(server):
    server.script = [(200, json.dumps({"entities": [{"text": "Anna Berg", "label": "person"}]}))]
    engine = PiiEngine(method="llm+heuristics", pii_types=["person", "email"], llm=_config(server))
    labels = {e.label for e in engine.analyze(TEXT)}
    assert labels == {"person", "email"}


def test_retries_then_succeeds(server):
    server.script = [(500, "boom"), (503, "busy"), (200, ANSWER)]
    client = LlmClient(_config(server, retries=2))
    assert [e.label for e in client.detect(TEXT, ["person"])] == ["person"]
    assert len(server.seen) == 3


def test_client_error_is_not_retried(server):
    server.script = [(400, "bad request")]
    client = LlmClient(_config(server, retries=3))
    with pytest.raises(LlmUnavailableError, match="HTTP 400"):
        client.detect(TEXT, ["person"])
    assert len(server.seen) == 1


def test_endpoint_down_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    client = LlmClient(
        LlmConfig(base_url=f"http://127.0.0.1:{port}", model="m", timeout_s=1, retries=1, backoff_s=0.01)
    )
    with pytest.raises(LlmUnavailableError, match="unavailable"):
        client.detect(TEXT, ["person"])


@pytest.mark.parametrize(("env", "model"), [({}, "m"), ({"SANITAS_LLM_BASE_URL": "http://x"}, None)])
def test_not_configured(monkeypatch, env, model):
    for k in ("SANITAS_LLM_BASE_URL", "SANITAS_LLM_MODEL"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(LlmNotConfiguredError):
        LlmConfig.from_env(model=model)
