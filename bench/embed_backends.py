#!/usr/bin/env python3
"""Embedding engines side by side: texts/s of torch, ONNX fp32 and ONNX int8, and heal suite F1 for each.

    .venv/bin/python bench/embed_backends.py [--texts 5000] [--rounds 3]      # speed, torch at run time
    .venv/bin/python bench/embed_backends.py --suite [NAME,NAME...] [--work DIR]  # suite F1 per engine

Speed: the engines are loaded in one process and embed the same BANKING77 texts (no cache) in turns,
round after round, so a busy shared machine slows them alike; the ratios to torch are per round, in
wall time and in CPU time (every thread of the process).
Then one heal of the test sample per engine, in its own process, tells which of torch,
sentence-transformers and transformers a run still imports. ``--suite`` heals every configuration of
the development suite (``shared/bench/suite.py``) with ``sanitas heal --all`` once per engine, engines
in turn within each configuration, each with an empty ``SANITAS_HOME``, and scores each run.
Results merge into ``bench/results/embed_backends.json``. ``SANITAS_SHARED`` overrides where shared/ is.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from heal_bench import SUITE_CHECKS, measured, score, shared_dir  # noqa: E402

from sanitas.embeddings.onnx_backend import BACKENDS  # noqa: E402

OUT = ROOT / "bench" / "results" / "embed_backends.json"
PROBE = """
import sys, json
from pathlib import Path
from sanitas.heal.pipeline import HealOptions
from sanitas.heal.runner import heal_file
src, work = Path(sys.argv[1]), Path(sys.argv[2])
opts = HealOptions(remove_off_topics=True, remove_injection=True, remove_sensitive_information=True)
heal_file(src, out=work / "o.jsonl", manifest=work / "m.jsonl", scores=work / "s.jsonl",
          report=work / "r.html", options=opts, cache_dir=work / "cache")
print(json.dumps({m: m in sys.modules for m in ("torch", "sentence_transformers", "transformers")}))
"""


def speed(n: int, rounds: int) -> dict[str, Any]:
    """Texts/s (wall and CPU) per engine over ``rounds`` interleaved rounds on ``n`` distinct BANKING77
    texts (test split, then train)."""
    from sanitas.embeddings.embedder import Embedder, default_model_path, embed_workers

    texts: list[str] = []
    for split in ("test", "train"):
        with (shared_dir() / "data" / "banking77" / f"{split}.csv").open(encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)]
    texts = list(dict.fromkeys(texts))[:n]
    path = default_model_path()
    engines = {b: Embedder(path, backend=b) for b in BACKENDS}
    for emb in engines.values():
        emb.encode(texts[:64])  # first-call costs are not the rate
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    # Texts per CPU second (all the process's threads): what a busy shared machine changes least.
    cpu_rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for r in range(rounds):
        for b in BACKENDS if r % 2 == 0 else BACKENDS[::-1]:
            t0, c0 = time.perf_counter(), time.process_time()
            engines[b].encode(texts)
            rates[b].append(round(len(texts) / (time.perf_counter() - t0), 1))
            cpu_rates[b].append(round(len(texts) / (time.process_time() - c0), 1))
        print({b: (v[-1], cpu_rates[b][-1]) for b, v in rates.items()}, flush=True)
    ratios = {b: [round(x / t, 3) for x, t in zip(rates[b], rates["torch"], strict=True)] for b in BACKENDS}
    cpu_ratios = {
        b: [round(x / t, 3) for x, t in zip(cpu_rates[b], cpu_rates["torch"], strict=True)] for b in BACKENDS
    }
    return {
        "texts": len(texts),
        "rounds": rounds,
        "workers": embed_workers(),
        "texts_per_s": rates,
        "median_texts_per_s": {b: statistics.median(v) for b, v in rates.items()},
        "ratio_to_torch": ratios,
        "median_ratio_to_torch": {b: statistics.median(v) for b, v in ratios.items()},
        "texts_per_cpu_s": cpu_rates,
        "median_texts_per_cpu_s": {b: statistics.median(v) for b, v in cpu_rates.items()},
        "median_cpu_ratio_to_torch": {b: statistics.median(v) for b, v in cpu_ratios.items()},
        "load_1m_after": round(os.getloadavg()[0], 2),
    }


def torch_at_run_time() -> dict[str, Any]:
    """Per engine: which of the torch stack a heal of the test sample (every check on) imported."""
    src = ROOT / "tests" / "data" / "banking77_sample.csv"
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sample.jsonl"
        with src.open(encoding="utf-8") as f:
            rows = [
                {"id": str(i), "text": r["text"], "label": r["category"]}
                for i, r in enumerate(csv.DictReader(f))
            ]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        for b in BACKENDS:
            work = Path(tmp) / b
            work.mkdir()
            env = dict(os.environ, SANITAS_EMBED_BACKEND=b)
            res = subprocess.run(
                [sys.executable, "-c", PROBE, str(data), str(work)], env=env, capture_output=True, text=True
            )
            lines = res.stdout.strip().splitlines()
            out[b] = json.loads(lines[-1]) if res.returncode == 0 and lines else {"error": res.stderr[-500:]}
    return out


def suite_f1(names: str | None, work: Path, engines: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each suite configuration healed once per engine (engines in turn), scored per check."""
    shared = shared_dir()
    sys.path.insert(0, str(shared / "bench"))
    import suite  # the yardstick's configurations and data builder

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    rows = []
    for name in suite.pick(suite.HEAL, names):
        data = suite.build_heal(work, name)
        row: dict[str, Any] = {"config": name}
        for b in engines:
            out = work / "engines" / name / b
            out.mkdir(parents=True, exist_ok=True)
            home = tempfile.mkdtemp(prefix=f"sanitas-{b}-")
            run = measured(
                [str(ROOT / ".venv" / "bin" / "sanitas"), "heal", str(data / "dataset.jsonl"), "--all"]
                + [
                    "--out",
                    str(out / "h.jsonl"),
                    "--manifest",
                    str(out / "m.jsonl"),
                    "--scores",
                    str(out / "s.jsonl"),
                ],
                dict(env, SANITAS_EMBED_BACKEND=b, SANITAS_HOME=home),
            )
            scored = score(shared, data / "truth.jsonl", out / "m.jsonl", out / "s.jsonl", env)
            row[b] = {
                "f1": {c: scored["checks"][c]["f1"] for c in SUITE_CHECKS},
                "clean_relabeled": scored["collateral"]["clean_relabeled"],
                "wall_s": run["wall_s"],
                "peak_mb": run["peak_mb"],
            }
        for b in engines[1:]:
            row[b]["f1_minus_torch"] = {
                c: round((row[b]["f1"][c] or 0) - (row["torch"]["f1"][c] or 0), 4) for c in SUITE_CHECKS
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _merge(key: str, value: Any) -> None:
    doc = json.loads(OUT.read_text()) if OUT.is_file() else {}
    doc[key] = value
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


def main() -> None:
    """Parse options, measure, merge the results into the JSON file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--suite", nargs="?", const="", default=None, help="suite configurations (default: all)")
    ap.add_argument("--engines", default=",".join(BACKENDS), help="for --suite: torch first, then others")
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "sanitas-suite"))
    args = ap.parse_args()
    if args.suite is not None:
        engines = tuple(args.engines.split(","))
        if engines[0] != "torch" or not set(engines) <= set(BACKENDS):
            raise SystemExit(f"--engines: torch first, then any of {', '.join(BACKENDS[1:])}")
        rows = suite_f1(args.suite or None, Path(args.work), engines)
        worst = {b: {c: min(r[b]["f1"][c] or 0.0 for r in rows) for c in SUITE_CHECKS} for b in engines}
        largest_drop = {
            b: {c: min(r[b]["f1_minus_torch"][c] for r in rows) for c in SUITE_CHECKS} for b in engines[1:]
        }
        _merge("suite", {"rows": rows, "worst_f1": worst, "largest_f1_drop_vs_torch": largest_drop})
        print(json.dumps({"worst_f1": worst, "largest_f1_drop_vs_torch": largest_drop}, indent=1))
        return
    res = speed(args.texts, args.rounds)
    res["imports_during_heal"] = torch_at_run_time()
    _merge("speed", res)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
