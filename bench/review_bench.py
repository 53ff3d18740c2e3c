#!/usr/bin/env python3
"""Server time of the heal review API over a job with 10,000 changes (issue 13: a page under 300 ms).

    .venv/bin/python bench/review_bench.py [--rows 10000] [--repeat 20] [--database-url URL] [--out JSON]

A dataset of ``--rows`` rows is uploaded through the HTTP API (in-process ``TestClient``, SQLite in a
temporary folder unless ``--database-url``), a heal job is enqueued and finished with a manifest that
changes every row (remove, relabel, redact and flag changes with one to three findings each) and a
scores file, and a third of the changes get a decision. Then each request is timed end to end through
the app (routing, auth, database, JSON): the first page (cold: the job's files and rows are read), the
same page warm (median of ``--repeat``), a filtered page, a page deep into the list by cursor, the
summary, a bulk decision over every change, and the apply. Results go to ``--out``
(``bench/results/review_page.json``; ``review_page_pg.json`` is the PostgreSQL run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from sanitas.api.app import create_app  # noqa: E402
from sanitas.config import load_settings  # noqa: E402
from sanitas.db import Database, migrate  # noqa: E402
from sanitas.jobs.tables import Job  # noqa: E402
from sanitas.timeutil import utcnow  # noqa: E402

OUT = ROOT / "bench" / "results" / "review_page.json"
LABELS = ["card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed"]
CHECKS = ["mislabeled", "outlier", "poisoned", "off_topic", "injection", "sensitive"]


def _line(k: int, uid: str) -> dict[str, Any]:
    kind = k % 4
    score = round(((k * 7919) % 1000) / 1000, 3)
    findings = [
        {"check": CHECKS[(k + j) % len(CHECKS)], "score": round(score * (1 - 0.1 * j), 4)}
        for j in range(1 + k % 3)
    ]
    line: dict[str, Any] = {"id": f"r{k}", "uid": uid, "actions": [], "findings": findings}
    if kind == 0:
        line["actions"] = ["removed"]
    elif kind == 1:
        line["actions"] = ["relabeled"]
        line["labels_before"], line["labels_after"] = [LABELS[k % 4]], [LABELS[(k + 1) % 4]]
    elif kind == 2:
        line["actions"] = ["anonymized"]
        line["entities"] = [{"start": 0, "end": 3, "label": "person", "score": 0.9}]
    return line


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--database-url")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{home}/bench.db"
        migrate(url)
        settings = load_settings(home=home, database_url=url, secret_key=b"bench")
        db = Database(url)
        with TestClient(create_app(settings, db=db, auth=False), raise_server_exceptions=True) as c:
            ds = c.put("/api/v1/datasets/bench/review", json={"dataset": {}}).json()["dataset"]["id"]
            rows = [
                {"id": f"r{k}", "text": f"Ann row {k} about my card and more words", "label": LABELS[k % 4]}
                for k in range(args.rows)
            ]
            body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
            assert c.post(f"/api/datasets/{ds}/files?filename=rows.jsonl", content=body).status_code == 200
            source = c.get("/api/v1/datasets/bench/review").json()["dataset"]["source_ids"][0]
            job_id = c.post(f"/api/datasets/{ds}/heal", json={"target": "download"}).json()["id"]
            out = settings.files_dir / "jobs" / job_id
            out.mkdir(parents=True)
            lines = [_line(k, f"{source}.r{k}") for k in range(args.rows)]
            (out / "manifest.jsonl").write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in lines))
            scores = [
                {
                    "id": m["id"],
                    "uid": m["uid"],
                    **{ch: m["findings"][0]["score"] for ch in CHECKS},
                    "suggested_label": LABELS[0],
                }
                for m in lines
            ]
            (out / "scores.jsonl").write_bytes(b"".join(orjson.dumps(s) + b"\n" for s in scores))
            with db.write() as s:
                job = s.get(Job, job_id)
                assert job is not None
                job.status, job.progress, job.finished_at = "succeeded", 100.0, utcnow()
                job.result = {
                    "manifest": {"thresholds": dict.fromkeys(CHECKS, 0.5)},
                    "files": {n: str(out / n) for n in ("manifest.jsonl", "scores.jsonl")},
                }
            base = f"/api/healing/{job_id}"
            cold, first = _timed(lambda: c.get(f"{base}/changes").json())
            assert first["total"] == args.rows
            for k in range(0, args.rows, 3):  # a third decided, one by one through the route
                if k > 600:
                    break
                c.patch(f"{base}/changes/{source}.r{k}", json={"decision": "accept" if k % 2 else "reject"})
            c.post(
                f"{base}/changes/decisions",
                json={"decision": "accept", "filter": {"check": ["outlier"], "score_min": 0.5}},
            )

            def median(path: str, **params: Any) -> float:
                times = []
                for _ in range(args.repeat):
                    ms, r = _timed(lambda: c.get(path, params=params))
                    assert r.status_code == 200, r.text
                    times.append(ms)
                return round(statistics.median(times), 1)

            cursor = None
            for _ in range(100):  # 100 pages of 50: the 101st page is 5,000 changes in
                cursor = c.get(f"{base}/changes", params={"cursor": cursor} if cursor else {}).json()[
                    "next_cursor"
                ]
            results = {
                "rows": args.rows,
                "changes": args.rows,
                "decided": c.get(f"{base}/changes/summary").json()["by_decision"],
                "database": url.split(":", 1)[0],
                "first_page_cold_ms": round(cold, 1),
                "page_warm_median_ms": median(f"{base}/changes"),
                "page_500_warm_median_ms": median(f"{base}/changes", limit=500),
                "filtered_page_median_ms": median(
                    f"{base}/changes", check="outlier", score_min=0.3, decision="undecided", sort="score_asc"
                ),
                "deep_cursor_page_median_ms": median(f"{base}/changes", cursor=cursor),
                "summary_median_ms": median(f"{base}/changes/summary"),
            }
            ms, r = _timed(lambda: c.post(f"{base}/changes/decisions", json={"decision": "accept"}))
            results["bulk_accept_all_ms"] = round(ms, 1)
            results["page_warm_all_decided_median_ms"] = median(f"{base}/changes")
            results["filtered_page_all_decided_median_ms"] = median(
                f"{base}/changes", decision="accept", check="outlier"
            )
            ms, r = _timed(lambda: c.post(f"{base}/apply", json={}))
            assert r.status_code == 200, r.text
            results["apply_all_ms"] = round(ms, 1)
            results["applied"] = r.json()["applied"]
        db.dispose()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
