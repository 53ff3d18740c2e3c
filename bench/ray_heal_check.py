#!/usr/bin/env python3
"""Does a heal through the Ray executor give the local executor's manifest? Cold runs of one suite set.

    nice -n 5 .venv/bin/python bench/ray_heal_check.py [--config b77-default] [--ray-cpus 2]

Builds the suite's configuration with ``corrupt.py`` (``shared/bench``), then runs ``sanitas heal
--all`` on it twice, each in its own process with an empty ``SANITAS_HOME`` (so the embedding is cold):
``SANITAS_EXECUTOR=local`` and ``SANITAS_EXECUTOR=ray`` (a local Ray cluster on 127.0.0.1). It compares
the two manifests and score files byte for byte, scores both with ``score_heal.py`` and writes
``bench/results/ray_heal_<config>.json``. ``SANITAS_SHARED`` overrides where ``shared/`` is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared/ folder (beside the repository unless ``SANITAS_SHARED`` is set)."""
    env = os.environ.get("SANITAS_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def main() -> None:
    """Build, heal twice, compare, score, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="b77-default")
    ap.add_argument("--ray-cpus", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sanitas-ray-check")
    args = ap.parse_args()
    shared = shared_dir()
    sys.path.insert(0, str(shared / "bench"))
    import suite  # the yardstick's configurations

    data = args.work / "data" / args.config
    if not (data / "truth.jsonl").exists():
        subprocess.run(
            [
                sys.executable,
                str(shared / "bench" / "corrupt.py"),
                *suite.HEAL[args.config],
                "--out",
                str(data),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    runs: dict[str, dict[str, object]] = {}
    for executor in ("local", "ray"):
        out = args.work / "out" / args.config / executor
        home = out / "home"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        out.mkdir(parents=True)
        env = {
            **os.environ,
            "SANITAS_HOME": str(home),
            "SANITAS_EXECUTOR": executor,
            "SANITAS_RAY_NUM_CPUS": str(args.ray_cpus),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        cmd = [str(REPO / ".venv" / "bin" / "sanitas"), "heal", str(data / "dataset.jsonl"), "--all"]
        cmd += ["--out", str(out / "healed.jsonl"), "--manifest", str(out / "m.jsonl")]
        cmd += ["--scores", str(out / "s.jsonl")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = round(time.perf_counter() - t0, 1)
        if proc.returncode != 0:
            raise SystemExit(f"{executor} heal failed:\n{proc.stderr[-3000:]}")
        score = subprocess.run(
            [sys.executable, str(shared / "bench" / "score_heal.py"), "--truth", str(data / "truth.jsonl")]
            + ["--manifest", str(out / "m.jsonl"), "--scores", str(out / "s.jsonl"), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[executor] = {
            "wall_s": wall,
            "manifest_sha256": hashlib.sha256((out / "m.jsonl").read_bytes()).hexdigest(),
            "scores_sha256": hashlib.sha256((out / "s.jsonl").read_bytes()).hexdigest(),
            "healed_sha256": hashlib.sha256((out / "healed.jsonl").read_bytes()).hexdigest(),
            "manifest_lines": len((out / "m.jsonl").read_text().splitlines()),
            "score": json.loads(score.stdout.strip().splitlines()[-1]),
        }
        print(executor, json.dumps({k: v for k, v in runs[executor].items() if k != "score"}), flush=True)
    local, ray = runs["local"], runs["ray"]
    result = {
        "config": args.config,
        "rows": len((data / "dataset.jsonl").read_text().splitlines()),
        "ray_cpus": args.ray_cpus,
        "identical": {k: local[k] == ray[k] for k in ("manifest_sha256", "scores_sha256", "healed_sha256")},
        "runs": runs,
    }
    dest = REPO / "bench" / "results" / f"ray_heal_{args.config}.json"
    dest.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["identical"]), "->", dest)


if __name__ == "__main__":
    main()
