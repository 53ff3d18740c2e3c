"""Sync benchmark: 100,000 comments in batches of 4,096 over HTTP into SQLite, then an unchanged re-sync.

Starts a real server (``sanitas serve`` in a subprocess, SQLite under a temporary ``SANITAS_HOME``, auth
on with a key made by ``sanitas keys create``), uploads with httpx, and checks that re-syncing a batch
reports every comment unchanged and writes nothing (the database files and ``max(last_modified)`` stay
as they were). Writes ``bench/results/sync.json`` and prints a markdown table.

    .venv/bin/python bench/sync_bench.py [--comments 100000] [--batch 4096] [--datasets 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SANITAS = [sys.executable, "-m", "sanitas.cli.main"]
TARGET = 5000.0


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_comments(start: int, n: int) -> list[dict[str, Any]]:
    """Deterministic comments shaped like support e-mails (subject, body, sender, properties)."""
    out = []
    for i in range(start, start + n):
        out.append(
            {
                "id": f"c{i:07d}",
                "timestamp": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "thread_id": f"t{i // 4}",
                "messages": [
                    {
                        "subject": {"text": f"Ticket {i}: card payment"},
                        "body": {
                            "text": f"Hello, my card payment number {i} was declined twice today at shop "
                            f"{i % 97}. Could you check what happened and refund the fee? Thanks."
                        },
                        "from": f"customer{i % 1000}@example.com",
                        "to": ["support@example.com"],
                    }
                ],
                "user_properties": {"string:Channel": "email", "number:Priority": i % 5},
            }
        )
    return out


def db_state(home: Path) -> dict[str, Any]:
    """What must not change when nothing is written: file digests and the newest ``last_modified``."""
    files = {}
    for name in ("sanitas.db", "sanitas.db-wal"):
        p = home / name
        if p.exists():
            files[name] = {"size": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    con = sqlite3.connect(f"file:{home / 'sanitas.db'}?mode=ro", uri=True)
    try:
        last = con.execute("SELECT max(last_modified), count(*) FROM comments").fetchone()
        seq = con.execute("SELECT max(seq), count(*) FROM dataset_comments").fetchone()
    finally:
        con.close()
    return {"files": files, "max_last_modified": last[0], "comments": last[1], "dataset_rows": seq[1]}


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll ``/healthz`` until the server answers."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def run(total: int, batch: int, datasets: int) -> dict[str, Any]:
    """Run the benchmark; returns the result record."""
    with tempfile.TemporaryDirectory(prefix="sanitas-bench-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "SANITAS_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        env.pop("SANITAS_DATABASE_URL", None)
        token = subprocess.run(
            [*SANITAS, "keys", "create", "--role", "admin", "--name", "bench"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen(
            [*SANITAS, "serve", "--port", str(port), "--workers", "0"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(base, proc)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120.0) as http:
                r = http.put("/api/v1/sources/bench/tickets", json={"source": {"title": "bench"}})
                r.raise_for_status()
                source_id = r.json()["source"]["id"]
                for d in range(datasets):
                    r = http.put(
                        f"/api/v1/datasets/bench/ds{d}", json={"dataset": {"source_ids": [source_id]}}
                    )
                    r.raise_for_status()
                # Bodies are built before the clock starts: the benchmark measures the server.
                bodies = [
                    json.dumps({"comments": make_comments(k, min(batch, total - k))}).encode()
                    for k in range(0, total, batch)
                ]
                ctype = {"Content-Type": "application/json"}
                latencies = []
                new = 0
                t0 = time.perf_counter()
                for body in bodies:
                    t = time.perf_counter()
                    r = http.post("/api/v1/sources/bench/tickets/sync", content=body, headers=ctype)
                    r.raise_for_status()
                    latencies.append(time.perf_counter() - t)
                    new += r.json()["new"]
                elapsed = time.perf_counter() - t0
                if new != total:
                    raise RuntimeError(f"expected {total} new comments, server reported {new}")
                before = db_state(home)
                t = time.perf_counter()
                r = http.post("/api/v1/sources/bench/tickets/sync", content=bodies[0], headers=ctype)
                resync_seconds = time.perf_counter() - t
                r.raise_for_status()
                resync = r.json()
                after = db_state(home)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        first = min(batch, total)
        latencies.sort()
        rate = total / elapsed
        return {
            "benchmark": "sync",
            "comments": total,
            "batch_size": batch,
            "batches": len(bodies),
            "datasets_fed": datasets,
            "seconds": round(elapsed, 3),
            "comments_per_second": round(rate, 1),
            "target_comments_per_second": TARGET,
            "meets_target": rate >= TARGET,
            "batch_latency_p50_s": round(latencies[len(latencies) // 2], 4),
            "batch_latency_max_s": round(latencies[-1], 4),
            "resync": {
                "response": resync,
                "seconds": round(resync_seconds, 4),
                "all_unchanged": resync == {"status": "ok", "new": 0, "updated": 0, "unchanged": first},
                "nothing_written": before == after,
                "db_before": before,
                "db_after": after,
            },
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "os": platform.platform(),
                # The machine is shared: the load at the end of the run says how contended it was.
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def table(res: dict[str, Any]) -> str:
    """The result as a markdown table."""
    rs = res["resync"]
    rows = [
        ("comments", f"{res['comments']:,}"),
        ("batch size", f"{res['batch_size']:,} ({res['batches']} batches)"),
        ("datasets fed by the source", str(res["datasets_fed"])),
        ("wall time", f"{res['seconds']:.2f} s"),
        ("throughput", f"{res['comments_per_second']:,.0f} comments/s (target >= {TARGET:,.0f})"),
        (
            "batch latency p50 / max",
            f"{res['batch_latency_p50_s']:.3f} s / {res['batch_latency_max_s']:.3f} s",
        ),
        ("re-sync of one batch", f"{rs['response']} in {rs['seconds']:.3f} s"),
        ("re-sync all unchanged", "yes" if rs["all_unchanged"] else "NO"),
        ("re-sync wrote nothing", "yes" if rs["nothing_written"] else "NO"),
    ]
    lines = ["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines)


def main() -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--datasets", type=int, default=1, help="datasets fed by the source (default 1)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sync.json")
    args = ap.parse_args()
    res = run(args.comments, args.batch, args.datasets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    ok = res["meets_target"] and res["resync"]["all_unchanged"] and res["resync"]["nothing_written"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
