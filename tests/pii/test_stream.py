"""``PiiEngine.analyze_stream``: batch after batch through the worker pool with no wait at a batch
boundary, the same results as ``analyze_batch`` one batch at a time, batches read only as the pool
needs them, and a worker that dies mid-stream means the unanswered batches run in-process."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest

from sanitas.pii import pool, runner
from sanitas.pii.engine import PiiEngine
from tests.pii.pool_support import SHORT, long_text

pytestmark = pytest.mark.usefixtures("no_pool_left")


def _expected(batches: list[list[str]]) -> list[list]:
    local = PiiEngine(method="heuristics", processes=1)
    return [local.analyze_batch(b) for b in batches]


def test_stream_matches_batch_by_batch(small_tasks):
    batches = [SHORT * 3, [], [SHORT[0], long_text(1)], SHORT[:2], [long_text(2)], SHORT]
    streamed = list(PiiEngine(method="heuristics", processes=2).analyze_stream(batches))
    assert pool.pool_running()
    assert streamed == _expected(batches)
    assert any(any(r) for r in streamed)


def test_stream_reads_batches_only_as_the_pool_needs_them(small_tasks):
    pulled: list[int] = []

    def batches() -> Iterator[list[str]]:
        for k in range(40):
            pulled.append(k)
            yield SHORT * 2

    stream = PiiEngine(method="heuristics", processes=2).analyze_stream(batches())
    first = next(stream)
    # The in-flight limit bounds what is read ahead: far from the whole input.
    assert len(pulled) < 40
    rest = list(stream)
    assert [first, *rest] == _expected([SHORT * 2] * 40)


def test_a_worker_dying_mid_stream_runs_the_rest_in_process(small_tasks):
    engine = PiiEngine(method="heuristics", processes=2)
    assert engine.warm_pool()
    running = pool._pool
    assert running is not None
    victim = next(iter(running._executor._processes.values()))
    all_batches = [SHORT * 4 for _ in range(12)]

    def batches() -> Iterator[list[str]]:
        for k, b in enumerate(all_batches):
            if k == 3:
                os.kill(victim.pid, signal.SIGKILL)
                victim.join(10)
            yield b

    assert list(engine.analyze_stream(batches())) == _expected(all_batches)
    assert pool._failures >= 1
    assert pool._pool is not running


def test_a_pooled_file_in_many_batches_matches_in_process(small_tasks, tmp_path, monkeypatch):
    rows = [{"id": k, "text": SHORT[k % len(SHORT)] + f" row {k}"} for k in range(40)]
    rows[7]["text"] = long_text(7)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(pool, "MIN_CHARS", 10)
    monkeypatch.setattr(runner, "POOL_BATCH_ROWS", 3)
    outs = {}
    for processes in (1, 2):
        engine = PiiEngine(method="heuristics", processes=processes)
        summary = runner.anonymize_file(
            src,
            out=tmp_path / f"a{processes}.jsonl",
            entities_path=tmp_path / f"e{processes}.jsonl",
            engine=engine,
            run_salt=b"salt",
        )
        outs[processes] = (
            summary,
            (tmp_path / f"a{processes}.jsonl").read_text(),
            (tmp_path / f"e{processes}.jsonl").read_text(),
        )
    assert pool.pool_running()
    assert outs[1] == outs[2]
    assert outs[2][0]["samples_processed"] == 40 and outs[2][0]["entity_summary"]["email"] >= 10
