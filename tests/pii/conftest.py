"""Fixtures of the worker-pool tests (``test_pool.py``, ``test_stream.py``); used only where asked for."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from sanitas.pii import pool


@pytest.fixture(scope="module")
def no_pool_left() -> Iterator[None]:
    """One pool serves a module's tests that do not break or close it (starting workers costs seconds);
    none is running before or after the module, and shutdown leaves no child unreaped."""
    pool.shutdown_pool()
    yield
    pool.shutdown_pool()
    assert multiprocessing.active_children() == []


@pytest.fixture
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every batch goes to the pool, cut into many small tasks (order and reassembly get exercised)."""
    monkeypatch.setattr(pool, "MIN_TEXTS", 1)
    monkeypatch.setattr(pool, "MIN_TASK_CHARS", 1)
    monkeypatch.setattr(pool, "TASKS_PER_WORKER", 50)
    monkeypatch.setattr(pool, "_failures", 0)
