"""The ``--suite`` mode of ``bench/pii_bench.py``: ``suite.py pii`` and Presidio on the same inputs, then
whole-process speed rounds on presidio-synth (see that file's docstring). Like it, it reads the yardsticks
beside the repository (``SANITAS_SHARED`` overrides where).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pii_bench import BENCH, PY, ROOT, SPEED, run, score  # bench/pii_bench.py, beside this file


def timed(cmd: list[str], log: Path) -> dict[str, float]:
    """Run ``cmd`` as a whole process: wall seconds and CPU seconds (it and its reaped children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=os.environ)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{log.read_text()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_avg_1m": round(os.getloadavg()[0], 2)}


def _suite() -> Any:
    sys.path.insert(0, str(BENCH))
    import suite  # type: ignore[import-not-found]

    return suite


def suite_inputs(work: Path) -> dict[str, Path]:
    """Each suite corpus' folder (input.jsonl + truth.jsonl), as suite.py built or found it."""
    return {
        n: BENCH.parent / "data" / n if v is None else work / "pii-data" / n for n, v in _suite().PII.items()
    }


def _peer_cmd(peer_py: str, inp: Path, out: Path) -> list[str]:
    return [
        peer_py,
        str(BENCH / "baselines" / "presidio_baseline.py"),
        str(inp),
        "--out",
        str(out),
        "--batch",
    ]


def run_suite(work: Path, peer_py: str, copies: int, rounds: int = 1) -> dict[str, Any]:
    """suite.py pii with aimon_pii_m1, Presidio on the same inputs, then whole-process speed."""
    ours_json = work / "suite-aimon_pii_m1.json"
    run([PY, str(BENCH / "suite.py"), "pii", "--work", str(work), "--json", str(ours_json)], cwd=ROOT)
    ours = {r["corpus"]: r for r in json.loads(ours_json.read_text())}
    rows: dict[str, Any] = {}
    (work / "peer").mkdir(parents=True, exist_ok=True)
    for name, folder in suite_inputs(work).items():
        pred = work / "peer" / f"{name}.jsonl"
        t = timed(_peer_cmd(peer_py, folder / "input.jsonl", pred), work / "peer" / f"{name}.log")
        rows[name] = {"ours": ours[name], "peer": {**score(folder / "truth.jsonl", pred), **t}}
    return {"corpora": rows, "speed": speed_runs(work, peer_py, copies, rounds)}


def speed_runs(work: Path, peer_py: str, copies: int, rounds: int = 1) -> dict[str, Any]:
    """presidio-synth x ``copies``: each contender one whole process, back to back, ``rounds`` times.

    A shared machine's load swings within seconds, so each round's ratios come from runs made right
    after one another and the figures reported are the median round's (by the ratio of each method),
    with every round kept. Each round's outputs must be identical to the first round's.
    """
    src = suite_inputs(work)["presidio-synth"] / "input.jsonl"
    big = work / f"presidio-synth-x{copies}.jsonl"
    rows = [json.loads(line) for line in src.read_text().splitlines() if line.strip()]
    big.write_text(
        "".join(json.dumps({**r, "id": f"{r['id']}-{k}"}) + "\n" for k in range(copies) for r in rows)
    )
    n = len(rows) * copies
    runs: list[dict[str, Any]] = []
    for k in range(max(1, rounds)):
        one: dict[str, Any] = {"peer": timed(_peer_cmd(peer_py, big, work / "sp.jsonl"), work / "sp.log")}
        for m in SPEED:
            ents = work / f"s-{m}.e.jsonl"
            cmd = [
                str(ROOT / ".venv" / "bin" / "sanitas"),
                "anonymize",
                str(big),
                "--pii-types",
                _suite().PII_TYPES,
            ]
            cmd += ["--method", m, "--out", str(work / f"s-{m}.jsonl"), "--entities", str(ents)]
            one[m] = timed(cmd, work / f"s-{m}.log")
            first = work / f"s-{m}.e.first.jsonl"
            if k == 0:
                first.write_bytes(ents.read_bytes())
            one[m]["same_output_as_round_1"] = ents.read_bytes() == first.read_bytes()
        for key in ("peer", *SPEED):
            one[key]["texts_per_s"] = round(n / one[key]["wall_s"], 1)
        for m, factor in SPEED.items():
            wall, cpu = (round(one["peer"][x] / one[m][x], 2) for x in ("wall_s", "cpu_s"))
            one[f"{m}_vs_peer"] = {"target": factor, "wall": wall, "cpu": cpu}
        runs.append(one)
        print(f"speed round {k + 1}: " + json.dumps({m: one[f"{m}_vs_peer"] for m in SPEED}), file=sys.stderr)
    out: dict[str, Any] = {"texts": n, "rounds": runs}
    for m in SPEED:
        ranked = sorted(runs, key=lambda r: r[f"{m}_vs_peer"]["wall"])
        median = ranked[(len(ranked) - 1) // 2]
        out[m] = median[m]
        out[f"{m}_vs_peer"] = {
            **median[f"{m}_vs_peer"],
            "wall_rounds": [r[f"{m}_vs_peer"]["wall"] for r in runs],
            "cpu_rounds": [r[f"{m}_vs_peer"]["cpu"] for r in runs],
        }
        if m == "aimon_pii_m1":
            out["peer"] = median["peer"]
    return out


def _cells(r: dict[str, Any]) -> str:
    t, m = r["typed"], r["masking"]
    return (
        f"{t['precision']:.3f} / {t['recall']:.3f} / {t['f1']:.3f} | {m['recall']:.3f} / {m['precision']:.3f}"
    )


def suite_table(res: dict[str, Any]) -> str:
    """Every suite corpus with Presidio beside it, the WORST rows, and the speed lines."""
    rows = res["corpora"]
    lines = [
        "| corpus | Sanitas typed P / R / F1 | masking R / P | Presidio typed P / R / F1 | masking R / P |"
    ]
    lines.append("|---|---|---|---|---|")
    lines += [f"| {n} | {_cells(r['ours'])} | {_cells(r['peer'])} |" for n, r in rows.items()]
    worst = min(rows, key=lambda n: rows[n]["ours"]["typed"]["f1"])
    low = min(rows, key=lambda n: rows[n]["ours"]["masking"]["recall"])
    lines.append(
        f"| **WORST** | typed F1 **{rows[worst]['ours']['typed']['f1']:.3f}** {worst} | masking R "
        f"**{rows[low]['ours']['masking']['recall']:.3f}** {low} | | |"
    )
    sp = res["speed"]
    lines.append(f"\nSpeed, presidio-synth, {sp['texts']} texts, whole process:")
    for k in ("peer", *SPEED):
        lines.append(
            f"- {k}: {sp[k]['texts_per_s']} texts/s, {sp[k]['wall_s']} s wall, {sp[k]['cpu_s']} s CPU"
        )
    for k in SPEED:
        v = sp[f"{k}_vs_peer"]
        lines.append(
            f"- {k} / Presidio: {v['wall']}x wall, {v['cpu']}x CPU (target {v['target']}x; "
            f"rounds wall {v.get('wall_rounds')}, CPU {v.get('cpu_rounds')})"
        )
    return "\n".join(lines)
