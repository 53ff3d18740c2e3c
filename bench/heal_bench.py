#!/usr/bin/env python3
"""Heal benchmark: Sanitas vs the cleanlab peer on a corrupted dataset, in the same run.

    .venv/bin/python bench/heal_bench.py [--name NAME] [corrupt.py options: --base, --seed, --trigger...]
    .venv/bin/python bench/heal_bench.py --suite [NAME,NAME...] [--work DIR]

``--suite`` runs every configuration of the development suite (``shared/bench/suite.py heal``, whose
data builder and configurations it imports) with Sanitas (``sanitas heal --all``, as the suite does)
and the cleanlab peer on the same data in the same run, and prints one table per check with the
WORST row of each, Sanitas beside the peer (the peer covers mislabeled and outlier). Our own
configurations (``heal_own.OWN``: an imbalanced set where one class holds three quarters of the rows, other
seeds) run after the suite's; ``--out FILE`` names the JSON under ``bench/results``.

1. ``corrupt.py`` (the yardstick in ``shared/bench``) writes a dataset with known defects to a temp dir;
2. the peer (``baselines/cleanlab_baseline.py``) and our heal (every check on, via ``heal_file``) run
   on it, each in its own process (wall time, peak RSS); ours runs twice: cold (empty cache), warm;
3. ``score_heal.py`` scores both; results go to ``bench/results/heal_<NAME>.json`` and a markdown
   table to stdout. ``SANITAS_SHARED`` overrides where ``shared/`` is (default: beside the repo).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from heal_own import OWN, build_own

REPO = Path(__file__).resolve().parents[1]
TARGETS = {
    "mislabeled": {"f1": 0.85},
    "outlier": {"f1": 0.95},
    "off_topic": {"f1": 0.90},
    "poisoned": {"recall": 0.95, "precision": 0.90},
    "injection": {"f1": 0.90},
    "sensitive": {"recall": 0.98, "precision": 0.95},
}


def shared_dir() -> Path:
    """The shared/ folder with the yardsticks (beside the repository unless ``SANITAS_SHARED`` is set)."""
    env = os.environ.get("SANITAS_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; its wall seconds and stdout (fails loudly with the stderr tail)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall_s": round(wall, 2), "stdout": out}


def _peak_mb_cmd(cmd: list[str]) -> list[str]:
    """Wrap ``cmd`` so that it prints its own peak RSS (ru_maxrss of the child) as the last stdout line."""
    code = (
        "import resource,subprocess,sys,json;"
        "p=subprocess.run(sys.argv[1:]);"
        "print(json.dumps({'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024}));"
        "sys.exit(p.returncode)"
    )
    return [sys.executable, "-c", code, *cmd]


def measured(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, peak memory and stdout of ``cmd`` run in its own process.

    The wrapper process reports ``ru_maxrss`` of its only child, so each contender's peak is its own.
    """
    res = run_measured(_peak_mb_cmd(cmd), env=env)
    lines = [ln for ln in res["stdout"].splitlines() if ln.strip()]
    res["peak_mb"] = round(json.loads(lines[-1])["peak_mb"], 1)
    res["stdout"] = "\n".join(lines[:-1])
    return res


def score(shared: Path, truth: Path, manifest: Path, scores: Path, env: dict[str, str]) -> dict[str, Any]:
    """score_heal.py's JSON for one run, plus clean rows removed because of each check."""
    out = subprocess.run(
        [
            sys.executable,
            str(shared / "bench" / "score_heal.py"),
            "--truth",
            str(truth),
            "--manifest",
            str(manifest),
            "--scores",
            str(scores),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    clean = {t["id"] for t in map(json.loads, truth.read_text().splitlines()) if t["defect"] is None}
    by_check: dict[str, int] = {}
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        if e["id"] in clean and "removed" in e.get("actions", []):
            for f in e.get("findings", []):
                by_check[f["check"]] = by_check.get(f["check"], 0) + 1
    result["collateral"]["clean_removed_by_check"] = by_check
    return result


def _run_heal_child(args: list[str]) -> None:
    """Child-process entry: heal with every check on (cold or warm depends on the cache dir)."""
    dataset, out, manifest, scores, cache_dir, report = args
    sys.path.insert(0, str(REPO))
    from sanitas.heal.pipeline import HealOptions
    from sanitas.heal.runner import heal_file

    opts = HealOptions(remove_off_topics=True, remove_injection=True, remove_sensitive_information=True)
    t0 = time.perf_counter()
    res = heal_file(
        Path(dataset),
        out=Path(out),
        manifest=Path(manifest),
        scores=Path(scores),
        report=Path(report),
        options=opts,
        cache_dir=Path(cache_dir),
    )
    print(
        json.dumps(
            {
                "total_s": round(time.perf_counter() - t0, 2),
                "timings": res.manifest["timings"],
                "triggers": res.manifest["triggers"],
                "models": res.manifest["models"],
            }
        )
    )


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def markdown(result: dict[str, Any]) -> str:
    """The results as a markdown table (ours vs peer per check, then time and memory)."""
    ours, peer = result["sanitas"]["score"], result["peer"]["score"]
    lines = [
        f"### heal benchmark `{result['name']}` ({result['corrupt_args'] or 'defaults'})",
        "",
        "| check | Sanitas P / R / F1 | peer P / R / F1 | target | met |",
        "|---|---|---|---|---|",
    ]
    for c, tgt in TARGETS.items():
        o, p = ours["checks"][c], peer["checks"][c]
        met = all((o.get(k) or 0) >= v for k, v in tgt.items())
        lines.append(
            f"| {c} | {_fmt(o['precision'])} / {_fmt(o['recall'])} / {_fmt(o['f1'])} | "
            f"{_fmt(p['precision'])} / {_fmt(p['recall'])} / {_fmt(p['f1'])} | "
            f"{', '.join(f'{k} >= {v}' for k, v in tgt.items())} | {'yes' if met else 'NO'} |"
        )
    oc, pc = ours["collateral"], peer["collateral"]
    n_clean = oc["clean_rows"]
    o_out = oc["clean_removed_by_check"].get("outlier", 0)
    p_out = pc["clean_removed_by_check"].get("outlier", 0)
    cold, warm = result["sanitas"]["cold"], result["sanitas"]["warm"]
    truth = f"{result['truth_trigger']!r} -> {result['truth_target']!r}"
    lines += [
        "",
        f"- relabel accuracy: Sanitas {_fmt(ours['relabel_accuracy'])} (target >= 0.95), "
        f"peer {_fmt(peer['relabel_accuracy'])}",
        f"- clean rows relabeled: Sanitas {oc['clean_relabeled']} "
        f"({100 * oc['clean_relabeled'] / n_clean:.2f}%, target <= 1%), "
        f"peer {pc['clean_relabeled']} ({100 * pc['clean_relabeled'] / max(pc['clean_rows'], 1):.2f}%)",
        f"- clean rows removed as outliers: Sanitas {o_out} ({100 * o_out / n_clean:.2f}%, target <= 0.3%), "
        f"peer {p_out}; clean rows removed by Sanitas for any check: {oc['clean_removed']}",
        f"- trigger found: {result['trigger_found']} (truth: {truth})",
        f"- time: Sanitas cold {cold['wall_s']} s, warm {warm['wall_s']} s "
        f"({100 * result['warm_ratio']:.0f}% of cold, target <= 15%); peer {result['peer']['wall_s']} s; "
        f"cold/peer = {result['cold_vs_peer']:.2f} (target <= 1.2)",
        f"- peak memory: Sanitas {cold['peak_mb']} MB (target < 3 GB), peer {result['peer']['peak_mb']} MB",
    ]
    return "\n".join(lines)


SUITE_CHECKS = ("mislabeled", "outlier", "off_topic", "poisoned", "injection", "sensitive")
PEER_CHECKS = ("mislabeled", "outlier")


def run_suite(names: str | None, work: Path) -> list[dict[str, Any]]:
    """Every suite configuration and ours (or ``names``, comma-separated): Sanitas and the peer, scored."""
    shared = shared_dir()
    sys.path.insert(0, str(shared / "bench"))
    import suite  # the yardstick's own configurations and data builder (shared/bench/suite.py)

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    sanitas = [str(REPO / ".venv" / "bin" / "sanitas")]
    rows = []
    for name in suite.pick({**suite.HEAL, **OWN}, names):
        data = build_own(shared, work, name) if name in OWN else suite.build_heal(work, name)
        out = work / "bench" / name
        out.mkdir(parents=True, exist_ok=True)
        dataset, truth = data / "dataset.jsonl", data / "truth.jsonl"
        ours = measured(
            [*sanitas, "heal", str(dataset), "--all", "--out", str(out / "healed.jsonl")]
            + ["--manifest", str(out / "m.jsonl"), "--scores", str(out / "s.jsonl")],
            env,
        )
        peer = measured(
            [sys.executable, str(shared / "bench" / "baselines" / "cleanlab_baseline.py"), str(dataset)]
            + ["--manifest", str(out / "peer_m.jsonl"), "--scores", str(out / "peer_s.jsonl")],
            env,
        )
        row = {
            "config": name,
            "sanitas": score(shared, truth, out / "m.jsonl", out / "s.jsonl", env),
            "peer": score(shared, truth, out / "peer_m.jsonl", out / "peer_s.jsonl", env),
            "sanitas_s": ours["wall_s"],
            "peer_s": peer["wall_s"],
            "sanitas_peak_mb": ours["peak_mb"],
        }
        rows.append(row)
        print(suite_line(row), flush=True)
    return rows


def suite_line(row: dict[str, Any]) -> str:
    """One configuration: F1 per check (peer's in brackets where it has one), clean rows relabeled."""
    cells = []
    for c in SUITE_CHECKS:
        cell = _fmt(row["sanitas"]["checks"][c]["f1"])
        if c in PEER_CHECKS:
            cell += f" ({_fmt(row['peer']['checks'][c]['f1'])})"
        cells.append(f"{c} {cell}")
    col = row["sanitas"]["collateral"]
    return (
        f"{row['config']:<15} " + "  ".join(cells) + f"  clean relabeled {col['clean_relabeled']} of "
        f"{col['clean_rows']}  {row['sanitas_s']} s (peer {row['peer_s']} s)"
    )


def suite_markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown: F1 per configuration and check, the peer beside ours, and the WORST row."""
    head = " | ".join(f"{c}{' (peer)' if c in PEER_CHECKS else ''}" for c in SUITE_CHECKS)
    lines = [f"| config | {head} | clean relabeled |", "|---|" + "---|" * (len(SUITE_CHECKS) + 1)]

    def cell(r: dict[str, Any], c: str) -> str:
        ours = _fmt(r["sanitas"]["checks"][c]["f1"])
        return f"{ours} ({_fmt(r['peer']['checks'][c]['f1'])})" if c in PEER_CHECKS else ours

    pcts = []
    for r in rows:
        col = r["sanitas"]["collateral"]
        pcts.append(100 * col["clean_relabeled"] / max(col["clean_rows"], 1))
        lines.append(
            f"| {r['config']} | " + " | ".join(cell(r, c) for c in SUITE_CHECKS) + f" | {pcts[-1]:.2f}% |"
        )

    def f1_of(check: str) -> Any:
        return lambda r: r["sanitas"]["checks"][check]["f1"] or 0.0

    worst = {c: min(rows, key=f1_of(c)) for c in SUITE_CHECKS}
    cells = " | ".join(f"{cell(worst[c], c)} {worst[c]['config']}" for c in SUITE_CHECKS)
    lines.append(f"| **WORST** | {cells} | {max(pcts):.2f}% |")
    return "\n".join(lines)


def main() -> None:
    """Parse options, run both contenders, score, write JSON and print markdown."""
    if len(sys.argv) > 1 and sys.argv[1] == "--_run-heal":
        _run_heal_child(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--suite":
        sp = argparse.ArgumentParser(description="the development suite, Sanitas and the peer")
        sp.add_argument("--suite", nargs="?", const=None, default=None, help="configurations (default: all)")
        sp.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "sanitas-suite"))
        sp.add_argument("--out", default="heal_suite.json", help="JSON file name under bench/results")
        sargs = sp.parse_args()
        rows = run_suite(sargs.suite, Path(sargs.work))
        out_dir = REPO / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / Path(sargs.out).name).write_text(json.dumps(rows, indent=1))
        print(suite_markdown(rows))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default=None, help="result name: bench/results/heal_<name>.json")
    ap.add_argument("--keep", default=None, help="keep the generated files in this directory")
    ap.add_argument("--no-peer", action="store_true", help="skip the peer (quick iterations only)")
    args, corrupt_args = ap.parse_known_args()
    shared = shared_dir()
    name = args.name or ("_".join(a.lstrip("-").replace(" ", "-") for a in corrupt_args) or "default")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="heal_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    subprocess.run(
        [sys.executable, str(shared / "bench" / "corrupt.py"), "--out", str(data), *corrupt_args],
        check=True,
        capture_output=True,
        env=env,
    )
    meta = json.loads((data / "meta.json").read_text())
    dataset, truth = data / "dataset.jsonl", data / "truth.jsonl"
    result: dict[str, Any] = {
        "name": name,
        "corrupt_args": " ".join(corrupt_args),
        "rows": meta["rows"],
        "truth_trigger": meta["poison_trigger"],
        "truth_target": meta["poison_target"],
    }
    if not args.no_peer:
        peer = measured(
            [
                sys.executable,
                str(shared / "bench" / "baselines" / "cleanlab_baseline.py"),
                str(dataset),
                "--manifest",
                str(work / "peer_m.jsonl"),
                "--scores",
                str(work / "peer_s.jsonl"),
            ],
            env,
        )
        peer["timings"] = json.loads(peer.pop("stdout").strip().splitlines()[-1])
        peer["score"] = score(shared, truth, work / "peer_m.jsonl", work / "peer_s.jsonl", env)
        result["peer"] = peer
    cache = work / "cache"
    runs = {}
    for label in ("cold", "warm"):
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--_run-heal",
            str(dataset),
            str(work / "healed.jsonl"),
            str(work / "m.jsonl"),
            str(work / "s.jsonl"),
            str(cache),
            str(work / "report.html"),
        ]
        r = measured(cmd, env)
        r["detail"] = json.loads(r.pop("stdout").strip().splitlines()[-1])
        runs[label] = r
    ours = {
        "cold": runs["cold"],
        "warm": runs["warm"],
        "score": score(shared, truth, work / "m.jsonl", work / "s.jsonl", env),
    }
    result["sanitas"] = ours
    triggers = runs["cold"]["detail"]["triggers"]
    result["trigger_found"] = [(t["trigger"], t["target"]) for t in triggers]
    result["trigger_correct"] = any(
        t["trigger"].lower() == str(meta["poison_trigger"]).lower() and t["target"] == meta["poison_target"]
        for t in triggers
    )
    result["warm_ratio"] = runs["warm"]["wall_s"] / max(runs["cold"]["wall_s"], 1e-9)
    if "peer" in result:
        result["cold_vs_peer"] = runs["cold"]["wall_s"] / max(result["peer"]["wall_s"], 1e-9)
    else:
        empty = {"precision": None, "recall": None, "f1": None}
        result["peer"] = {
            "wall_s": None,
            "peak_mb": None,
            "score": {
                "checks": {c: empty for c in TARGETS},
                "relabel_accuracy": None,
                "collateral": {
                    "clean_relabeled": 0,
                    "clean_rows": 1,
                    "clean_removed_by_check": {},
                    "clean_removed": 0,
                },
            },
        }
        result["cold_vs_peer"] = float("nan")
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"heal_{name}.json").write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
