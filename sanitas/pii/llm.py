"""LLM detection through an OpenAI-compatible chat endpoint (httpx).

The model is asked for spans as JSON; every span is checked against the text (the quoted substring must
occur in it) so a hallucinated entity never reaches the output.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sanitas.pii.chunking import iter_chunks
from sanitas.pii.entities import Entity
from sanitas.pii.types import UnknownPiiTypeError, normalize_type

if TYPE_CHECKING:
    import httpx

ENV_BASE_URL = "SANITAS_LLM_BASE_URL"
ENV_MODEL = "SANITAS_LLM_MODEL"
ENV_API_KEY = "SANITAS_LLM_API_KEY"
NOT_CONFIGURED = (
    "detection_method 'llm' needs an OpenAI-compatible chat endpoint: set SANITAS_LLM_BASE_URL "
    "and give llm_model_name"
)
LLM_CHUNK_CHARS = 4_000
DEFAULT_SCORE = 0.8


class LlmNotConfiguredError(ValueError):
    """The llm method was requested but no endpoint (SANITAS_LLM_BASE_URL) or model is configured."""

    def __init__(self, message: str = NOT_CONFIGURED) -> None:
        super().__init__(message)


class LlmUnavailableError(RuntimeError):
    """The endpoint did not answer usefully after the retries (down, timing out, or erroring)."""


@dataclass(frozen=True)
class LlmConfig:
    """Where and how to call the chat endpoint."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5

    @classmethod
    def from_env(cls, *, model: str | None = None) -> LlmConfig:
        """Build from SANITAS_LLM_BASE_URL / SANITAS_LLM_MODEL / SANITAS_LLM_API_KEY, or raise
        LlmNotConfiguredError."""
        from sanitas.config import current

        conf = current()
        base = conf.llm_base_url or ""
        name = (model or conf.llm_model or "").strip()
        if not base or not name:
            raise LlmNotConfiguredError()
        return cls(base_url=base, model=name, api_key=conf.llm_api_key)


def build_messages(text: str, pii_types: list[str]) -> list[dict[str, str]]:
    """The chat prompt: the allowed types, the JSON shape wanted, then the text."""
    system = (
        "You find personal data in text. Answer with JSON only, of the form "
        '{"entities": [{"text": "<exact substring>", "label": "<type>", "score": <0..1>}]}. '
        "Copy each substring exactly as it appears. Allowed labels: " + ", ".join(pii_types) + ". "
        'If there is none, answer {"entities": []}.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def _parse_content(content: str) -> list[dict[str, object]]:
    m = re.search(r"\{.*\}|\[.*\]", content, re.DOTALL)
    if not m:
        return []
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return []
    items = data.get("entities", []) if isinstance(data, dict) else data
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []


def spans_from_answer(text: str, items: list[dict[str, object]], pii_types: list[str]) -> list[Entity]:
    """Locate each answered substring in ``text``; unknown labels and absent substrings are dropped."""
    wanted = set(pii_types)
    out: list[Entity] = []
    for item in items:
        value, label = item.get("text"), item.get("label") or item.get("type")
        if not isinstance(value, str) or not value.strip() or not isinstance(label, str):
            continue
        try:
            label = normalize_type(label)
        except UnknownPiiTypeError:
            continue
        if label not in wanted:
            continue
        raw_score = item.get("score", DEFAULT_SCORE)
        score = float(raw_score) if isinstance(raw_score, int | float) else DEFAULT_SCORE
        value = value.strip()
        for m in re.finditer(re.escape(value), text):
            out.append(Entity(m.start(), m.end(), label, min(1.0, max(0.0, score))))
    return out


class LlmClient:
    """Calls ``{base_url}/chat/completions`` with timeouts and retries."""

    def __init__(self, config: LlmConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        # httpx is imported here: every PII process imports this module (for LlmConfig), few call an LLM.
        import httpx

        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            timeout=config.timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def chat(self, messages: list[dict[str, str]]) -> str:
        """One completion's text; retries connection errors, timeouts, 429 and 5xx."""
        import httpx

        body = {"model": self.config.model, "messages": messages, "temperature": 0}
        last = ""
        for attempt in range(self.config.retries + 1):
            try:
                resp = self._http.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 200:
                    try:
                        return str(resp.json()["choices"][0]["message"]["content"] or "")
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        raise LlmUnavailableError(f"LLM endpoint gave a malformed answer: {exc}") from exc
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break
            if attempt < self.config.retries:
                time.sleep(self.config.backoff_s * 2**attempt)
        raise LlmUnavailableError(f"LLM endpoint {self.config.base_url} unavailable ({last})")

    def detect(self, text: str, pii_types: list[str]) -> list[Entity]:
        """Entities of ``pii_types`` in ``text`` (long texts are sent in windows)."""
        out: list[Entity] = []
        for offset, window in iter_chunks(text, size=LLM_CHUNK_CHARS, overlap=200):
            if not window.strip():
                continue
            items = _parse_content(self.chat(build_messages(window, pii_types)))
            out.extend(
                Entity(e.start + offset, e.end + offset, e.label, e.score)
                for e in spans_from_answer(window, items, pii_types)
            )
        return out
