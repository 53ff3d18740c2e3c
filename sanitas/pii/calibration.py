"""Score calibration: raw recognizer scores -> estimated precision, so one threshold fits every type.

Recognizers emit scores designed as precision estimates (a checksum-valid card ~1.0, a name the model
found in lowercase text ~0.25). Labelled data can refine that: ``fit_table`` runs isotonic regression
(pool-adjacent-violators) of "was this span right?" on the raw score, per label, and ``calibrate`` maps
scores through the fitted step functions. Without a table the raw score is used as is. A table must be
fitted on the user's own labelled data, never on a benchmark's truth.
"""

from __future__ import annotations

import bisect
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from sanitas.pii.entities import Entity

ENV_TABLE = "SANITAS_PII_CALIBRATION"
# label -> (raw-score breakpoints ascending, calibrated value at each)
Table = dict[str, tuple[list[float], list[float]]]


def _pav(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Isotonic (non-decreasing) fit of y on x by pool-adjacent-violators; returns block starts and means."""
    tied: dict[float, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for x, y in points:
        tied[x][0] += y
        tied[x][1] += 1.0
    blocks: list[list[float]] = []  # [x_start, sum_y, count]
    for x in sorted(tied):
        blocks.append([x, tied[x][0], tied[x][1]])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            x0, s0, n0 = blocks[-2]
            _, s1, n1 = blocks.pop()
            blocks[-1] = [x0, s0 + s1, n0 + n1]
    return [b[0] for b in blocks], [b[1] / b[2] for b in blocks]


def fit_table(observations: Iterable[tuple[str, float, bool]], *, min_count: int = 20) -> Table:
    """Fit per-label isotonic maps from ``(label, raw_score, was_correct)``; labels with fewer than
    ``min_count`` observations keep raw scores."""
    by_label: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for label, score, ok in observations:
        by_label[label].append((float(score), 1.0 if ok else 0.0))
    return {label: _pav(pts) for label, pts in by_label.items() if len(pts) >= min_count}


def save_table(table: Table, path: str | os.PathLike[str]) -> None:
    """Write a table as JSON."""
    Path(path).write_text(json.dumps({k: {"x": xs, "y": ys} for k, (xs, ys) in table.items()}))


def load_table(path: str | os.PathLike[str]) -> Table:
    """Read a table written by ``save_table``."""
    data = json.loads(Path(path).read_text())
    return {k: (list(v["x"]), list(v["y"])) for k, v in data.items()}


_table: Table | None = None
_loaded = False


def active_table() -> Table:
    """The table named by SANITAS_PII_CALIBRATION, loaded once (empty when unset)."""
    global _table, _loaded
    if not _loaded:
        from sanitas.config import current

        path = current().pii_calibration
        _table = load_table(path) if path else {}
        _loaded = True
    return _table or {}


def calibrate(entity: Entity, table: Table | None = None) -> Entity:
    """Map ``entity.score`` through the label's fitted step function (identity without one)."""
    steps = (active_table() if table is None else table).get(entity.label)
    if steps is None:
        return entity
    xs, ys = steps
    k = bisect.bisect_right(xs, entity.score) - 1
    value = ys[max(k, 0)]
    return Entity(entity.start, entity.end, entity.label, value)
