"""The worker pool: same results as in-process and in input order, small batches stay home, clean
shutdown, and a dead or stuck worker means an in-process fallback, never a hang."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from sanitas.pii import pool
from sanitas.pii.chunking import CHUNK_CHARS
from sanitas.pii.engine import PiiEngine
from tests.pii.pool_support import SHORT, long_text

pytestmark = pytest.mark.usefixtures("no_pool_left")


@pytest.mark.parametrize(
    ("method", "texts"),
    [
        ("heuristics", SHORT * 3),
        ("heuristics", [SHORT[0], long_text(1), SHORT[3], "", long_text(2), SHORT[5]]),
        ("aimon_pii_m1", SHORT * 3 + [long_text(3)] + SHORT),
        ("aimon_pii_m1", [long_text(4), long_text(5)]),
    ],
    ids=["heuristics-short", "heuristics-mixed", "model-mixed", "model-long-only"],
)
def test_pool_matches_in_process(small_tasks, method, texts):
    assert any(len(t) > CHUNK_CHARS for t in texts) or method == "heuristics"
    local = PiiEngine(method=method, processes=1).analyze_batch(texts)
    pooled = PiiEngine(method=method, processes=2).analyze_batch(texts)
    assert pool.pool_running()
    assert pooled == local
    assert any(local)


def test_tasks_cover_every_text_once_in_order(monkeypatch):
    monkeypatch.setattr(pool, "MIN_TASK_CHARS", 1)
    texts = [SHORT[0], long_text(1), "", SHORT[3], long_text(2)]
    seen: list[int] = []
    for (kind, where, last), task_kind, items in pool.plan_tasks(texts, 2):
        assert kind == task_kind
        if kind == "texts":
            assert items == [texts[i] for i in where]
            seen.extend(where)
        else:
            idx, offsets = where
            assert items == [texts[idx][o : o + len(w)] for o, w in zip(offsets, items, strict=True)]
            if last:
                seen.append(idx)
    assert seen == list(range(len(texts)))


def _no_pool(*_args):
    raise AssertionError("the pool was asked for")


def test_small_batch_stays_in_process(monkeypatch):
    monkeypatch.setattr(pool, "get_pool", _no_pool)
    engine = PiiEngine(method="heuristics", processes=2)
    assert engine.analyze_batch(SHORT) == PiiEngine(method="heuristics", processes=1).analyze_batch(SHORT)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("3", 3), ("0", 1), (" 2 ", 2), ("", min(len(os.sched_getaffinity(0)), 2)), ("auto", None)],
)
def test_process_count_setting(monkeypatch, raw, expected):
    monkeypatch.setenv(pool.ENV_PROCESSES, raw)
    want = expected if expected is not None else min(len(os.sched_getaffinity(0)), 2)
    assert pool.configured_processes() == want
    assert PiiEngine(method="heuristics").processes == want


def test_bad_process_count_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(pool.ENV_PROCESSES, "many")
    with pytest.raises(ValueError, match="SANITAS_PII_PROCESSES"):
        PiiEngine(method="heuristics")


def test_one_process_never_starts_a_pool(small_tasks, monkeypatch):
    monkeypatch.setattr(pool, "get_pool", _no_pool)
    PiiEngine(method="heuristics", processes=1).analyze_batch(SHORT * 50)


def test_close_stops_the_workers_and_a_later_batch_restarts_them(small_tasks):
    engine = PiiEngine(method="heuristics", processes=2)
    engine.analyze_batch(SHORT)
    assert len(multiprocessing.active_children()) == 2
    engine.close()
    assert not pool.pool_running()
    assert multiprocessing.active_children() == []
    engine.analyze_batch(SHORT)
    assert pool.pool_running()


def test_dead_worker_falls_back_in_process(small_tasks):
    engine = PiiEngine(method="heuristics", processes=2)
    texts = SHORT * 5
    expected = PiiEngine(method="heuristics", processes=1).analyze_batch(texts)
    assert engine.warm_pool()
    running = pool._pool
    assert running is not None
    victim = next(iter(running._executor._processes.values()))
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    assert engine.analyze_batch(texts) == expected
    assert pool._failures == 1
    assert pool._pool is not running


def test_stuck_worker_times_out_and_falls_back(small_tasks, monkeypatch):
    engine = PiiEngine(method="heuristics", processes=2)
    texts = SHORT * 5
    expected = PiiEngine(method="heuristics", processes=1).analyze_batch(texts)
    assert engine.warm_pool()
    monkeypatch.setenv("SANITAS_PII_TASK_TIMEOUT", "0")
    assert engine.analyze_batch(texts) == expected
    assert not pool.pool_running()


def test_pools_stop_after_repeated_failures(small_tasks, monkeypatch):
    monkeypatch.setattr(pool, "_failures", pool.MAX_FAILURES)
    engine = PiiEngine(method="heuristics", processes=2)
    assert engine.analyze_batch(SHORT) == PiiEngine(method="heuristics", processes=1).analyze_batch(SHORT)
    assert not pool.pool_running()
    assert not engine.warm_pool()


def test_llm_methods_stay_in_process(small_tasks, monkeypatch):
    monkeypatch.setenv("SANITAS_LLM_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SANITAS_LLM_MODEL", "m")
    engine = PiiEngine(method="llm+heuristics", processes=2)
    assert engine._pool_for(SHORT * 100) is None
    assert not engine.warm_pool()


def test_close_from_another_thread_mid_batch_still_answers(small_tasks):
    texts = SHORT * 200
    expected = PiiEngine(method="heuristics", processes=1).analyze_batch(texts)
    engine = PiiEngine(method="heuristics", processes=2)
    assert engine.warm_pool()
    closer = threading.Timer(0.2, pool.shutdown_pool)
    closer.start()
    try:
        assert engine.analyze_batch(texts) == expected
    finally:
        closer.join()
    pool.shutdown_pool()


def test_workers_leave_when_the_parent_is_killed():
    code = (
        "from sanitas.pii.engine import PiiEngine; from sanitas.pii import pool; import time\n"
        "engine = PiiEngine(method='heuristics', processes=2); assert engine.warm_pool()\n"
        "print(*pool._pool._executor._processes, flush=True); time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(p) for p in parent.stdout.readline().split()]
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    assert len(workers) == 2
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_pool_that_cannot_start_means_in_process(small_tasks, monkeypatch):
    spawn = multiprocessing.get_context("spawn")

    class Unstartable(spawn.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            # What the parent sees when a new worker dies before reading its start-up data.
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(spawn, "Process", Unstartable)
    texts = SHORT * 5
    expected = PiiEngine(method="heuristics", processes=1).analyze_batch(texts)
    engine = PiiEngine(method="heuristics", processes=2)
    assert engine.analyze_batch(texts) == expected
    assert not pool.pool_running()
    assert pool._failures == 1
    assert not engine.warm_pool()  # the server's warm-up gives up the same way
    assert multiprocessing.active_children() == []
