#!/usr/bin/env python3
"""Quick iteration on one heal check: F1 of the outlier and off-topic checks on cached embeddings.

    .venv/bin/python bench/heal_detector_dev.py [--configs a,b] [--work DIR] [--checks outlier,off_topic]

Builds each configuration of ``suite.py heal`` (and ``heal_own.OWN``) once into ``--work``, embeds
its texts once per engine (``embeddings-<engine>.npy`` beside the data), then runs only the named
detectors on a fresh ``DetectorContext`` and scores them as ``score_heal.py`` does (a flag on a row
that carries another defect is neither right nor wrong). For development only: the full run is
``heal_bench.py --suite``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

DEFAULT = (
    "b77-default,b77-sentence,clinc-sentence,snips-word,bitext-phrase,medical-long,clinc-doubled,"
    "snips-imbalanced,b77-seed29,clinc-seed31,medical-seed5,medical-seed9"
)


def _embed_more(texts: list[str]) -> np.ndarray:
    """The configured engine's vectors of a few extra texts (what a heal hands its detectors)."""
    from sanitas.embeddings import embed_texts, get_embedder

    return np.asarray(embed_texts(texts, cache=None, embedder=get_embedder()), dtype=np.float32)


def load(work: Path, name: str) -> tuple[list[str], list[str | None], np.ndarray, list[str | None]]:
    """Texts, labels, embeddings and each row's true defect (None: clean) of one configuration."""
    import heal_bench

    shared = heal_bench.shared_dir()
    sys.path.insert(0, str(shared / "bench"))
    import suite

    data = (
        heal_bench.build_own(shared, work, name) if name in heal_bench.OWN else suite.build_heal(work, name)
    )
    from sanitas.heal.runner import read_rows

    _, loaded, _ = read_rows(data / "dataset.jsonl")
    rows = [lr.row for lr in loaded]
    truth = {t["id"]: t["defect"] for t in map(json.loads, (data / "truth.jsonl").read_text().splitlines())}
    defects = [truth.get(str(r.id)) for r in rows]
    from sanitas.embeddings.embedder import embed_backend

    emb_path = data / f"embeddings-{embed_backend()}.npy"  # one file per engine: never mix two
    if emb_path.exists():
        emb = np.load(emb_path)
    else:
        from sanitas.embeddings import embed_texts, get_embedder

        emb = np.asarray(
            embed_texts([r.text for r in rows], cache=None, embedder=get_embedder()), dtype=np.float32
        )
        np.save(emb_path, emb)
    return [r.text for r in rows], [r.label for r in rows], emb, defects


def f1(flags: np.ndarray, defects: list[str | None], check: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of ``flags`` for ``check`` (flags on other defects are neutral)."""
    pos = np.array([d == check for d in defects])
    clean = np.array([d is None for d in defects])
    tp, fp = int((flags & pos).sum()), int((flags & clean).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / max(int(pos.sum()), 1)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    """Run the named detectors on every configuration and print P / R / F1."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--configs", default=DEFAULT)
    ap.add_argument("--work", default="/tmp/sanitas-dev")
    ap.add_argument("--checks", default="outlier,off_topic")
    ap.add_argument("--json", default=None, help="write the figures to this file")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sanitas.heal.detectors.base import DetectorContext
    from sanitas.heal.pipeline import _detector

    out: dict[str, dict[str, list[float]]] = {}
    for name in args.configs.split(","):
        texts, labels, emb, defects = load(Path(args.work), name)
        # embed: the poisoned check re-embeds its counterfactual texts and injection embeds windows,
        # as in a real heal (without it those two checks take another path).
        ctx = DetectorContext(texts=texts, labels=labels, embeddings=emb, embed=_embed_more)
        cells = []
        for check in args.checks.split(","):
            t0 = time.perf_counter()
            res = _detector(check).detect(ctx)
            p, r, f = f1(np.asarray(res.flags, dtype=bool), defects, check)
            out.setdefault(name, {})[check] = [round(p, 4), round(r, 4), round(f, 4)]
            cells.append(f"{check} P {p:.3f} R {r:.3f} F1 {f:.3f} ({time.perf_counter() - t0:.1f}s)")
        print(f"{name:<17}" + "  ".join(cells), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
