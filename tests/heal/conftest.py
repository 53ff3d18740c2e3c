"""Fixtures for heal tests: a deterministic fake embedder (no model) and small synthetic datasets."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

DIM = 384
TOPICS = {
    "card": "card",
    "transfer": "transfer",
    "pin": "pin",
    "refund": "refund",
    "cash": "atm",
    "atm": "atm",
}


def _unit(seed: str) -> np.ndarray:
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little"))
    v = rng.normal(size=DIM)
    return v / np.linalg.norm(v)


class FakeEmbedder:
    """Texts mentioning a topic word land near that topic's centre; others land at random.

    Enough geometry for the detectors (clusters, far points) without loading a model.
    """

    model_id = "fake-embedder-v1"
    dim = DIM

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            words = t.lower().split()
            topic = next((TOPICS[w.strip("?.!,")] for w in words if w.strip("?.!,") in TOPICS), None)
            if topic is None:
                v = _unit("random:" + t)
            else:
                v = 0.9 * _unit("topic:" + topic) + 0.25 * _unit("noise:" + t)
            out[i] = v / np.linalg.norm(v)
        return out


@pytest.fixture(scope="module")
def fake_embedder() -> FakeEmbedder:
    """A model-free embedder with ``model_id``, ``dim`` and ``encode``."""
    return FakeEmbedder()


TEMPLATES = {
    "card_arrival": [
        "when will my card arrive {k}",
        "my card has not arrived yet {k}",
        "where is my new card {k}",
    ],
    "transfer_failed": [
        "my transfer failed {k}",
        "why did the transfer not go through {k}",
        "my transfer was declined {k}",
    ],
    "pin_blocked": ["my pin is blocked {k}", "how do i unblock my pin {k}", "why is my pin locked {k}"],
    "refund_missing": [
        "where is my refund {k}",
        "my refund has not shown up {k}",
        "i am still waiting for a refund {k}",
    ],
    "atm_cash": [
        "the atm kept my cash {k}",
        "the atm gave me the wrong cash {k}",
        "why was my atm cash not given {k}",
    ],
}


def make_rows(per_class: int = 40) -> list[tuple[str, str]]:
    """(text, label) pairs: ``per_class`` paraphrases for each of five banking intents."""
    rows = []
    for label, temps in TEMPLATES.items():
        for k in range(per_class):
            rows.append((temps[k % len(temps)].format(k=f"ref{k}"), label))
    return rows


@pytest.fixture
def pattern_pii(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pipeline tests use the model-free PII patterns; the real engine has its own test."""
    from sanitas.heal import pipeline
    from sanitas.heal.detectors.sensitive import SensitiveDetector

    det = SensitiveDetector()
    det.backend = "fallback-patterns"
    monkeypatch.setitem(pipeline._detectors, "sensitive", det)


@pytest.fixture
def clean_rows() -> list[tuple[str, str]]:
    """A small clean labelled dataset (200 rows, 5 intents)."""
    return make_rows()
