"""Heal at scale: 10k, 100k (and 1M) rows built from the intent bases, time per phase and peak memory.

Rows are the labelled texts of banking77, clinc150, snips and bitext-customer-service (labels kept
apart per source: 262 classes), sampled without repetition up to the bases' size (~59k) and past it
topped up with lightly perturbed duplicates (a typo, a word repeated, a courtesy word, a case or
punctuation change), so every row is a distinct text. Each size heals in a child process of its own
(peak RSS is that process's ``ru_maxrss``) with every check on and no result cache; the embedding cache
is the one given by ``--cache`` (say in the report whether it was warm; it is read for the engine
``SANITAS_EMBED_BACKEND`` selects, so a cache filled by torch needs ``SANITAS_EMBED_BACKEND=torch``).
Besides the manifest's per-check timings, the shared neighbour searches and the poisoned check's
content model are timed.

    .venv/bin/python bench/scale_bench.py --sizes 10000 100000 --cache /tmp/h3/cache
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "bench" / "results" / "scale.json"


def bases() -> tuple[list[str], list[str]]:
    """Texts and source-qualified labels of the four intent bases."""
    texts: list[str] = []
    labels: list[str] = []
    for name in ("train.csv", "test.csv"):
        for r in csv.DictReader(open(DATA / "banking77" / name, encoding="utf-8")):
            texts.append(r["text"])
            labels.append("b77:" + r["category"])
    for split in json.loads((DATA / "clinc150" / "data_full.json").read_text()).values():
        for text, lab in split:
            texts.append(text)
            labels.append("c150:" + lab)
    for name in ("train.csv", "test.csv"):
        for r in csv.DictReader(open(DATA / "snips" / name, encoding="utf-8")):
            texts.append(r["text"])
            labels.append("snips:" + r["label"])
    for name in ("train.csv", "dev.csv", "test.csv"):
        for r in csv.DictReader(open(DATA / "bitext-customer-service" / name, encoding="utf-8")):
            texts.append(r["text"])
            labels.append("bitext:" + r["label"])
    return texts, labels


def perturb(text: str, rng: Any) -> str:
    """A light, meaning-preserving edit of ``text`` (one or two of a few kinds)."""
    words = text.split()
    for _ in range(int(rng.integers(1, 3))):
        kind = int(rng.integers(0, 6))
        if kind == 0 and words:
            j = int(rng.integers(0, len(words)))
            w = words[j]
            if len(w) > 3:
                p = int(rng.integers(0, len(w) - 1))
                words[j] = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
        elif kind == 1 and words:
            j = int(rng.integers(0, len(words)))
            words.insert(j, words[j])
        elif kind == 2:
            words.insert(0, str(rng.choice(["please", "hi,", "hello,", "hey", "so"])))
        elif kind == 3:
            words.append(str(rng.choice(["please", "thanks", "thank you", "asap", "now"])))
        elif kind == 4:
            words = [w.lower() for w in words]
        elif words:
            words[-1] = words[-1].rstrip("?.!") + str(rng.choice(["?", ".", "!", "??"]))
    return " ".join(words)


def build(n: int, *, seed: int = 0) -> tuple[list[str], list[str], list[int]]:
    """``n`` distinct rows: the bases shuffled, then perturbed duplicates of them (and the row each
    duplicate was made from, -1 for a base row)."""
    import numpy as np

    texts, labels = bases()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    seen: set[str] = set()
    out_t: list[str] = []
    out_l: list[str] = []
    src: list[int] = []
    for i in order:
        if len(out_t) >= n:
            break
        if texts[i] not in seen:
            seen.add(texts[i])
            out_t.append(texts[i])
            out_l.append(labels[i])
            src.append(-1)
    base_n = len(out_t)
    while len(out_t) < n:
        j = int(rng.integers(0, base_n))
        t = perturb(out_t[j], rng)
        if t not in seen:
            seen.add(t)
            out_t.append(t)
            out_l.append(out_l[j])
            src.append(j)
    return out_t, out_l, src


def derive_vectors(texts: list[str], src: list[int], cache: Any) -> int:
    """Cache a vector for each duplicate not cached yet: its source row's vector plus gaussian noise
    (sigma 0.01-0.03 per dimension, renormalised; cosine ~0.85-0.98 to the source, as a light edit
    gives). Stands in for embedding the duplicates when the run measures detection, not embedding;
    the source rows must be cached. Returns how many vectors were derived."""
    import numpy as np

    from sanitas.embeddings.embedder import default_model_path, embed_backend, model_id
    from sanitas.embeddings.stages import MAX_SEQ_LENGTH, effective_backend

    # the cache id of the engine the heal will embed with (SANITAS_EMBED_BACKEND; torch where an ONNX
    # file is missing): vectors of another engine in the cache are neither read nor derived from
    path = default_model_path()
    ident = model_id(path, MAX_SEQ_LENGTH, effective_backend(path, embed_backend()))
    keys = [cache.key(ident, t) for t in texts]
    have = cache.get_many(keys)
    rng = np.random.default_rng(7)
    todo = [i for i, k in enumerate(keys) if k not in have and src[i] >= 0 and keys[src[i]] in have]
    items = []
    for i in todo:
        v = have[keys[src[i]]] + rng.normal(scale=rng.uniform(0.01, 0.03), size=have[keys[src[i]]].shape)
        items.append((keys[i], (v / np.linalg.norm(v)).astype(np.float32)))
    cache.put_many(items)
    return len(items)


def _derive_apart(n: int, cache: str) -> int:
    """``derive_vectors`` for ``n`` rows in a process of its own: reading every cached vector takes
    gigabytes at a million rows, which are the benchmark's, not the heal's, and would otherwise stay in
    the heal process's resident and peak memory."""
    proc = subprocess.run(
        [sys.executable, __file__, "--derive", str(n), cache], stdout=subprocess.PIPE, text=True, check=True
    )
    return int(proc.stdout.split()[-1])


def _derive_main(n: int, cache: str) -> None:
    sys.path.insert(0, str(REPO))
    from sanitas.embeddings import EmbeddingCache

    texts, _, src = build(n)
    print(derive_vectors(texts, src, EmbeddingCache(Path(cache) / "embeddings.sqlite")), flush=True)


def _timed(module: Any, name: str, spent: dict[str, float]) -> None:
    """Wrap ``module.name`` to add its wall time to ``spent[name]``."""
    fn = getattr(module, name)

    def wrapper(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            spent[name] = round(spent.get(name, 0.0) + time.perf_counter() - t, 3)

    setattr(module, name, wrapper)


def _rss_mb() -> int:
    """This process's resident memory now, in MB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20)


def _peak_mb() -> int:
    """This process's peak resident memory so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def child(n: int, cache: str, tfidf_ann_rows: int, derived: bool) -> None:
    """Heal ``n`` rows in this process and print one JSON line of figures."""
    sys.path.insert(0, str(REPO))
    t0 = time.perf_counter()
    texts, labels, src = build(n)
    from sanitas.embeddings import EmbeddingCache

    vectors = EmbeddingCache(Path(cache) / "embeddings.sqlite")
    n_derived = _derive_apart(n, cache) if derived else 0
    t_build = time.perf_counter() - t0
    from sanitas.heal.engine import neighbors, poison_content, shared, support
    from sanitas.heal.pipeline import HealOptions, HealRow, run_heal

    spent: dict[str, float] = {}
    if tfidf_ann_rows:
        shared.TFIDF_ANN_MIN_ROWS = tfidf_ann_rows
    _timed(shared, "knn", spent)
    for mod in (poison_content,):
        _timed(mod, "knn_content", spent)
    _timed(shared, "tfidf_neighbours", spent)
    support.tfidf_neighbours = shared.tfidf_neighbours  # imported by name
    rows = [
        HealRow(id=str(i), text=t, label=lab) for i, (t, lab) in enumerate(zip(texts, labels, strict=True))
    ]
    opts = HealOptions(remove_off_topics=True, remove_injection=True, remove_sensitive_information=True)
    marks: list[tuple[str, float]] = []
    # per phase: this process's resident memory when it began and its peak so far (ru_maxrss), so a
    # phase's own peak is the peak recorded when the next one begins
    memory: list[dict[str, Any]] = []

    def progress(phase: str, pct: float, msg: str) -> None:
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter()))
            memory.append({"phase": phase, "rss_mb": _rss_mb(), "peak_so_far_mb": _peak_mb()})
            mem = f"rss {_rss_mb()} MB, peak {_peak_mb()} MB"
            print(
                f"[{n}] {time.perf_counter() - t0:8.1f}s {phase}: {msg} ({mem})",
                file=sys.stderr,
                flush=True,
            )

    t1 = time.perf_counter()
    load_before = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    res = run_heal(rows, opts, cache=vectors, progress=progress)
    total = time.perf_counter() - t1
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time of this process (every thread) during the heal: on shared cores a steadier measure than
    # wall time; the sensitive check's PII pool runs in child processes and is not counted here
    heal_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    timings = res.manifest["timings"]
    detection = sum(v for k, v in timings.items() if k not in ("embedding", "deciding"))
    print(
        json.dumps(
            {
                "rows": n,
                "ann": neighbors.uses_ann(n),
                "tfidf_ann": n >= shared.TFIDF_ANN_MIN_ROWS,
                "build_rows_s": round(t_build, 2),
                "derived_vectors": n_derived,
                "heal_s": round(total, 2),
                "heal_cpu_s": round(heal_cpu, 2),
                "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "detection_s": round(detection, 2),
                "timings": timings,
                "inner": spent,
                "flagged": {k: v["flagged"] for k, v in res.manifest["checks"].items()},
                "peak_rss_mb": _peak_mb(),
                "phase_memory": memory,
            }
        ),
        flush=True,
    )


def main() -> None:
    """Run each size in a child process and write ``bench/results/scale.json``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--cache", default="/tmp/sanitas-scale-cache", help="embedding cache directory")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--tfidf-ann-rows", type=int, default=0, help="override TFIDF_ANN_MIN_ROWS")
    ap.add_argument(
        "--derived-vectors", action="store_true", help="cache duplicates' vectors derived from their source's"
    )
    ap.add_argument("--note", default="", help="recorded with the results (e.g. whether the cache was warm)")
    args = ap.parse_args()
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"runs": []}
    for n in args.sizes:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                args.cache,
                str(args.tfidf_ann_rows),
                str(int(args.derived_vectors)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"{n} rows failed (rc {proc.returncode})", file=sys.stderr)
            continue
        run = json.loads(lines[-1]) | {
            "note": args.note,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        print(json.dumps(run), flush=True)
        results["runs"] = [r for r in results["runs"] if r["rows"] != n] + [run]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--derive":
        _derive_main(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1")
    else:
        main()
