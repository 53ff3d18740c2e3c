"""Nothing lost: a consumer using the SDK is SIGKILLed 20 times while a producer uploads 20,000 comments.

Each consumer run writes its own log; processed uids between two acknowledged advances form an
acknowledged batch. The union of processed uids must be exactly the uploaded set, and a uid may be seen
again only if every earlier delivery of it was in a batch that was never acknowledged.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sanitas.config import Settings
from sanitas.sdk import Client
from tests.streams.server import running_server, server_env

TOTAL = 20_000
KILLS = 20
CONSUMER = Path(__file__).with_name("consumer.py")


def _groups(log: Path) -> list[tuple[list[str], bool]]:
    """(uids, acknowledged) per batch of one run's log; a torn last line is ignored."""
    groups: list[tuple[list[str], bool]] = []
    pending: list[str] = []
    if not log.exists():
        return groups
    for line in log.read_text().split("\n"):
        if line.startswith("P ") and len(line.split(" ")) == 2 and line.count(".") >= 1:
            pending.append(line[2:])
        elif line.startswith("A ") and len(line) > 30:
            groups.append((pending, True))
            pending = []
    groups.append((pending, False))
    return groups


def _start(base: str, token: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(CONSUMER), base, token, str(log), *extra]
    env = {**server_env_cache, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


server_env_cache: dict[str, str] = {}


def test_sigkilled_consumer_loses_nothing(settings: Settings, make_key: Any, tmp_path: Path) -> None:
    server_env_cache.update(server_env(settings))
    token = make_key()
    rng = random.Random(1234)
    with running_server(settings) as base, Client(base, token) as client:
        src = client.create_source("acme", "tickets")
        client.create_dataset("acme", "support", source_ids=[src.id])
        client.create_stream("acme", "support", "robot", start_at="earliest")
        uploaded: list[str] = []
        errors: list[BaseException] = []

        def produce() -> None:
            try:
                for k in range(0, TOTAL, 500):
                    batch = [
                        {
                            "id": f"m{i}",
                            "timestamp": "2024-01-01T00:00:00Z",
                            "messages": [{"body": {"text": f"m {i}"}}],
                        }
                        for i in range(k, k + 500)
                    ]
                    client.sync("acme", "tickets", batch)
                    uploaded.extend(f"{src.id}.{c['id']}" for c in batch)
                    time.sleep(rng.uniform(0.0, 0.2))
            except BaseException as exc:  # surfaced by the main thread
                errors.append(exc)

        producer = threading.Thread(target=produce)
        producer.start()
        logs = []
        for n in range(KILLS):
            log = tmp_path / f"run{n}.log"
            logs.append(log)
            proc = _start(base, token, log)
            deadline = time.monotonic() + 30
            while (
                not log.exists() and time.monotonic() < deadline
            ):  # kill while consuming, not while importing
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.8))
            proc.kill()
            proc.communicate()
        producer.join()
        assert not errors, errors
        final = tmp_path / "final.log"
        logs.append(final)
        proc = _start(base, token, final, "--until-end")
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert final.read_text().endswith("END\n")

    seen_acked: set[str] = set()
    seen: list[str] = []
    redelivered_after_ack = []
    for log in logs:
        for uids, acked in _groups(log):
            redelivered_after_ack += [u for u in uids if u in seen_acked]
            seen += uids
            if acked:
                seen_acked.update(uids)
    assert len(uploaded) == TOTAL
    assert set(seen) == set(uploaded)
    assert redelivered_after_ack == []
    # The kills happened while work was in flight: some comments were delivered more than once.
    assert len(seen) >= TOTAL
