#!/usr/bin/env python3
"""The mislabeled check on datasets with no label noise: how many clean rows it flags and relabels.

    .venv/bin/python bench/mislabeled_clean_sets.py [--work DIR] [--majority-off]

Builds five sets with the yardstick's ``corrupt.py --noise 0`` (every other defect as usual; it reads
``../shared/bench``, as the other benchmarks do) and runs only the mislabeled check on their embeddings.
Every flag on a row the truth calls clean is a false flag. ``--majority-off`` turns off the rule that
flags an implausible label another class holds by majority (``MAJORITY`` raised past 1), for the figure
before it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def sets(shared: Path, work: Path) -> dict[str, list[str]]:
    """corrupt.py arguments of each set (the suite's and our configurations' bases and seeds)."""
    import heal_own

    return {
        "b77": ["--base", "banking77", "--seed", "7"],
        "clinc": ["--base", "clinc150", "--seed", "11"],
        "bitext": [
            "--base",
            "csv:" + str(shared / "data" / "bitext-customer-service" / "train.csv"),
            "--seed",
            "9",
        ],
        "snips-imbalanced": ["--base", "csv:" + str(heal_own.imbalanced_base(shared, work))]
        + ["--size", "2666", "--seed", "41"],
        "clinc-few": ["--base", "clinc150", "--size", "1500", "--seed", "47"],
    }


def main() -> None:
    """Build each set once under ``--work``, embed it once, print clean rows flagged and relabeled."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default="/tmp/sanitas-clean-sets")
    ap.add_argument("--majority-off", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import heal_bench
    from heal_detector_dev import _embed_more

    from sanitas.embeddings import embed_texts, get_embedder
    from sanitas.heal.detectors import mislabeled
    from sanitas.heal.detectors.base import DetectorContext
    from sanitas.heal.runner import read_rows

    if args.majority_off:
        mislabeled.MAJORITY = 2.0  # no class holds more than all of the probability
    shared = heal_bench.shared_dir()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for name, corrupt_args in sets(shared, work).items():
        out = work / name
        if not (out / "dataset.jsonl").exists():
            cmd = [sys.executable, str(shared / "bench" / "corrupt.py"), "--out", str(out), "--noise", "0"]
            subprocess.run([*cmd, *corrupt_args], check=True, capture_output=True)
        _, loaded, _ = read_rows(out / "dataset.jsonl")
        rows = [lr.row for lr in loaded]
        truth = {
            t["id"]: t["defect"] for t in map(json.loads, (out / "truth.jsonl").read_text().splitlines())
        }
        clean = np.array([truth.get(str(r.id)) is None for r in rows])
        path = out / "embeddings.npy"
        if path.exists():
            emb = np.load(path)
        else:
            emb = np.asarray(
                embed_texts([r.text for r in rows], cache=None, embedder=get_embedder()), np.float32
            )
            np.save(path, emb)
        ctx = DetectorContext(
            texts=[r.text for r in rows], labels=[r.label for r in rows], embeddings=emb, embed=_embed_more
        )
        res = mislabeled.MislabeledDetector().detect(ctx)
        flags = np.asarray(res.flags, dtype=bool)
        relabel = np.array([bool(d and d.get("relabel")) for d in res.details])
        print(
            f"{name:<17} clean rows {int(clean.sum()):>5}  flagged {int((flags & clean).sum()):>4}"
            f"  relabeled {int((relabel & clean).sum()):>3}",
            flush=True,
        )


if __name__ == "__main__":
    main()
