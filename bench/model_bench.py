"""Model quality and speed on BANKING77: train on train.csv, top-1 accuracy on test.csv.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/model_bench.py            # cold + warm training, peer, throughput
    HF_HUB_OFFLINE=1 .venv/bin/python bench/model_bench.py --no-cold  # reuse bench/out/model_cache.sqlite

Cold = a fresh embedding cache (the train split is embedded during training); warm = the same training
again with every vector cached. The peer is the recipe the issue quotes: frozen MiniLM embeddings and a
logistic regression whose C is tuned on the same held-out split. Writes bench/results/model_banking77.json
and .md. ``SANITAS_SHARED`` overrides where shared/ is.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402

from sanitas.embeddings import EmbeddingCache, embed_texts, get_embedder  # noqa: E402
from sanitas.models import calibration as cal  # noqa: E402
from sanitas.models.classifier import TrainedModel, train_classifier  # noqa: E402

TARGET_ACCURACY = 0.94
TARGET_TRAIN_SECONDS = 180.0
TIMINGS: list[dict[str, float]] = []


def shared_dir() -> Path:
    """shared/ next to the repository, or ``SANITAS_SHARED``."""
    return Path(os.environ.get("SANITAS_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def read_split(path: Path) -> tuple[list[str], list[str]]:
    """Texts and label names of one CSV split (``text`` plus ``label`` or ``category``)."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = "label" if "label" in rows[0] else "category"
    return [r["text"] for r in rows], [r[key] for r in rows]


def train_timed(
    texts: list[str], names: list[str], cache: EmbeddingCache, seed: int
) -> tuple[TrainedModel, float]:
    """Train and return the model with its wall time; wall, CPU seconds and load go to ``TIMINGS``."""
    t0, c0 = time.perf_counter(), time.process_time()
    model = train_classifier(texts, [[(n,)] for n in names], cache=cache, seed=seed)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    # Other work on the machine stretches wall time; CPU seconds and the load show how much.
    TIMINGS.append(
        {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_1m": round(os.getloadavg()[0], 2)}
    )
    print(f"  wall {wall:.1f}s, CPU {cpu:.1f}s, load {os.getloadavg()[0]:.1f}", flush=True)
    return model, wall


def top1(model: TrainedModel, proba: np.ndarray, names: list[str]) -> float:
    """Top-1 accuracy over the trained labels."""
    cols = [model.labels.index(t) for t in model.trained]
    best = [model.trained[i][0] for i in proba[:, cols].argmax(axis=1)]
    return float(np.mean([b == n for b, n in zip(best, names, strict=True)]))


def peer(
    x_train: np.ndarray, names: list[str], x_test: np.ndarray, test_names: list[str], seed: int
) -> dict[str, Any]:
    """Frozen embeddings + logistic regression, C tuned on the same stratified held-out split."""
    t0 = time.perf_counter()
    y = np.array(names)
    fit_idx, val_idx = cal.split_indices(names, fraction=0.15, seed=seed)
    scores = {}
    for c in (1.0, 3.0, 10.0, 30.0, 100.0):
        m = LogisticRegression(C=c, max_iter=300).fit(x_train[fit_idx], y[fit_idx])
        scores[c] = float((m.predict(x_train[val_idx]) == y[val_idx]).mean())
    best_c = max(scores, key=lambda k: (scores[k], -k))
    m = LogisticRegression(C=best_c, max_iter=300).fit(x_train, y)
    acc = float((m.predict(x_test) == np.array(test_names)).mean())
    return {
        "name": "frozen MiniLM + tuned logistic regression",
        "C": best_c,
        "val_accuracy": scores,
        "test_accuracy": acc,
        "fit_seconds": round(time.perf_counter() - t0, 2),
    }


def markdown(res: dict[str, Any]) -> str:
    """A small results table."""
    rows = [
        (
            "top-1 accuracy (test)",
            f"{res['test_accuracy']:.4f}",
            f">= {TARGET_ACCURACY}",
            f"{res['peer']['test_accuracy']:.4f}",
        ),
        (
            "training, cold cache (s)",
            _fmt(res.get("train_seconds_cold")),
            f"< {TARGET_TRAIN_SECONDS:.0f}",
            "-",
        ),
        (
            "training, warm cache (s)",
            _fmt(res["train_seconds_warm"]),
            f"< {TARGET_TRAIN_SECONDS:.0f}",
            f"{res['peer']['fit_seconds']:.1f} (C search + fit)",
        ),
        ("prediction, cold (texts/s)", _fmt(res.get("predict_per_s_cold")), "-", "-"),
        ("prediction, warm (texts/s)", _fmt(res["predict_per_s_warm"]), "-", "-"),
        (
            "validation top-1 (held out of train)",
            f"{res['validation_top1']:.4f}",
            "-",
            f"{max(res['peer']['val_accuracy'].values()):.4f}",
        ),
    ]
    lines = ["| BANKING77 | Sanitas | target | peer |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def main() -> None:
    """Run the benchmark and write the result files."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="folder with train.csv and test.csv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache run")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_banking77.json")
    args = ap.parse_args()
    data = args.data or shared_dir() / "data" / "banking77"
    texts, names = read_split(data / "train.csv")
    test_texts, test_names = read_split(data / "test.csv")
    res: dict[str, Any] = {
        "dataset": str(data),
        "train_size": len(texts),
        "test_size": len(test_texts),
        "labels": len(set(names)),
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    t0 = time.perf_counter()
    get_embedder()
    res["embedder_load_seconds"] = round(time.perf_counter() - t0, 2)
    with tempfile.TemporaryDirectory() as tmp:
        persistent = ROOT / "bench" / "out" / "model_cache.sqlite"
        cache = EmbeddingCache(Path(tmp) / "cold.sqlite") if not args.no_cold else EmbeddingCache(persistent)
        if not args.no_cold:
            _, cold = train_timed(texts, names, cache, args.seed)
            res["train_seconds_cold"] = round(cold, 2)
            print(f"cold training: {cold:.1f}s", flush=True)
        model, warm = train_timed(texts, names, cache, args.seed)
        res["train_seconds_warm"] = round(warm, 2)
        print(f"warm training: {warm:.1f}s", flush=True)
        t0 = time.perf_counter()
        proba = model.predict_proba(test_texts, cache=cache)
        if not args.no_cold:
            res["predict_per_s_cold"] = round(len(test_texts) / (time.perf_counter() - t0), 1)
        t0 = time.perf_counter()
        proba = model.predict_proba(test_texts, cache=cache)
        res["predict_per_s_warm"] = round(len(test_texts) / (time.perf_counter() - t0), 1)
        res["test_accuracy"] = top1(model, proba, test_names)
        print(f"test top-1: {res['test_accuracy']:.4f}", flush=True)
        model.save(Path(tmp) / "model")
        again = TrainedModel.load(Path(tmp) / "model")
        res["reload_identical"] = bool(
            again.predict(test_texts[:200], cache=cache) == model.predict(test_texts[:200], cache=cache)
        )
        res["model_bytes"] = sum(f.stat().st_size for f in (Path(tmp) / "model").iterdir())
        res["validation_top1"] = model.metrics["top1_accuracy"]
        res["validation_micro_f1"] = model.metrics["micro_f1"]
        res["fusion_weights"] = dict(
            zip(model.metrics["views"], model.metrics["fusion_weights"], strict=True)
        )
        res["temperature"] = model.metrics["temperature"]
        x_train = embed_texts(texts, cache=cache)
        x_test = embed_texts(test_texts, cache=cache)
    res["training_runs"] = dict(zip(["cold", "warm"] if not args.no_cold else ["warm"], TIMINGS, strict=True))
    res["peer"] = peer(x_train, names, x_test, test_names, args.seed)
    res["targets"] = {"test_accuracy": TARGET_ACCURACY, "train_seconds": TARGET_TRAIN_SECONDS}
    res["passed"] = bool(
        res["test_accuracy"] >= TARGET_ACCURACY
        and max(res.get("train_seconds_cold", 0), res["train_seconds_warm"]) < TARGET_TRAIN_SECONDS
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    table = markdown(res)
    args.out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
