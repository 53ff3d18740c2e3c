"""A self-contained HTML report of a heal run: counts, score histograms with thresholds, top examples.

No scripts, no external assets: inline CSS and SVG only, so the file can be mailed or archived.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sanitas.heal.detectors.base import APPLIED, CHECKS, registered
from sanitas.heal.pipeline import HealResult

BINS = 20
TOP_EXAMPLES = 8
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #dde;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f8}.num{text-align:right}.muted{color:#667}.chk{display:flex;gap:1.5rem;flex-wrap:wrap;align-items:flex-start}.txt{max-width:620px;word-break:break-word}
code{background:#f3f4f8;padding:0 .2rem}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def histogram_svg(
    values: list[float], threshold: float | None, *, width: int = 360, height: int = 140
) -> str:
    """An inline SVG histogram of scores in [0, 1] with the threshold drawn as a red line (log counts)."""
    import math

    counts = [0] * BINS
    for v in values:
        counts[min(BINS - 1, max(0, int(v * BINS)))] += 1
    top = max((math.log1p(c) for c in counts), default=1.0) or 1.0
    pad, bw = 24, (width - 2 * 24) / BINS
    bars = []
    for i, c in enumerate(counts):
        h = (height - 2 * pad) * math.log1p(c) / top
        x, y = pad + i * bw, height - pad - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="#5b7bd5">'
            f"<title>{i / BINS:.2f}-{(i + 1) / BINS:.2f}: {c}</title></rect>"
        )
    line = ""
    if threshold is not None and 0 <= threshold <= 1:
        tx = pad + threshold * (width - 2 * pad)
        line = (
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{pad / 2}" y2="{height - pad}" '
            'stroke="#d33" stroke-width="2"/>'
            f'<text x="{tx + 3:.1f}" y="{pad:.1f}" fill="#d33" font-size="11">'
            f"threshold {threshold:.2f}</text>"
        )
    axis = (
        f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" stroke="#889"/>'
        f'<text x="{pad}" y="{height - 6}" font-size="11" fill="#667">0</text>'
        f'<text x="{width - pad - 6}" y="{height - 6}" font-size="11" fill="#667">1</text>'
        f'<text x="{width / 2 - 40:.0f}" y="{height - 6}" font-size="11" fill="#667">score (log count)</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="score histogram">{"".join(bars)}{axis}{line}</svg>'
    )


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if isinstance(c, int | float) else "txt"}">{_esc(c)}</td>' for c in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(result: HealResult) -> str:
    """The report as one HTML string."""
    m = result.manifest
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Heal report</title><style>{_CSS}</style>"
        "</head><body><h1>Heal report</h1>"
    ]
    parts.append(f"<p>{_esc(m.get('message', ''))}</p>")
    parts.append(
        _table(
            [
                [m.get("rows", 0), m.get("rows_after", 0)]
                + [m.get("actions", {}).get(a, 0) for a in APPLIED.values()]
            ],
            ["comments in", "comments out", *APPLIED.values()],
        )
    )
    checks = m.get("checks", {})
    parts.append("<h2>Checks</h2>")
    parts.append(
        _table(
            [
                [
                    c,
                    checks.get(c, {}).get("flagged", 0),
                    checks.get(c, {}).get("removed", 0),
                    checks.get(c, {}).get("threshold"),
                    m.get("skipped", {}).get(c, ""),
                ]
                for c in CHECKS
            ],
            ["check", "flagged", "removed", "threshold", "skipped because"],
        )
    )
    triggers = m.get("triggers") or []
    parts.append("<h2>Backdoor triggers found</h2>")
    if triggers:
        parts.append(
            _table(
                [
                    [
                        t.get("trigger"),
                        t.get("target"),
                        t.get("rows"),
                        t.get("disagreement"),
                        t.get("content_classes"),
                    ]
                    for t in triggers
                ],
                [
                    "trigger",
                    "target label",
                    "rows",
                    "share of rows whose content disagrees",
                    "content classes",
                ],
            )
        )
    else:
        parts.append("<p class='muted'>No trigger found.</p>")
    texts = {r.id: r.text for r in result.rows}
    # checks that relabel show their suggestion beside their top rows
    suggests = {cls.name for cls in registered() if any(f.action == "relabel" for f in cls.flags)}
    for c in CHECKS:
        vals = [float(s.get(c, 0.0)) for s in result.scores]
        thr = checks.get(c, {}).get("threshold")
        parts.append(f"<h2>{_esc(c.replace('_', ' '))}</h2><div class='chk'>")
        parts.append(histogram_svg(vals, thr))
        top = sorted(result.scores, key=lambda s: -float(s.get(c, 0.0)))[:TOP_EXAMPLES]
        rows = []
        for s in top:
            if float(s.get(c, 0.0)) <= 0:
                continue
            extra = s.get("suggested_label") if c in suggests else ""
            rows.append([s["id"], round(float(s.get(c, 0.0)), 3), texts.get(s["id"], "")[:240], extra or ""])
        header = ["id", "score", "text", "suggested label" if c in suggests else ""]
        parts.append(_table(rows, header) if rows else "<p class='muted'>No row scored above 0.</p>")
        parts.append("</div>")
    timings = m.get("timings", {})
    parts.append("<h2>Timings</h2>")
    parts.append(_table([[k, f"{v:.2f} s"] for k, v in timings.items()], ["phase", "time"]))
    models = m.get("models", {})
    parts.append("<h2>Models</h2>")
    parts.append(_table([[k, ", ".join(v)] for k, v in models.items()], ["check", "models"]))
    parts.append("</body></html>")
    return "".join(parts)


def write_report(path: Path, result: HealResult) -> None:
    """Write ``render_report(result)`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(result), encoding="utf-8")
