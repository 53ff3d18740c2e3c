"""Pure numeric pieces of the classifier: linear heads, the hierarchy, fusion, thresholds and metrics.

Everything here works on arrays; :mod:`sanitas.models.classifier` wires it to texts and labels.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

Label = tuple[str, ...]
Head = tuple[np.ndarray, np.ndarray]  # weights (d, k) and bias (k,)

# A column that never varies in training still needs a finite, confident logit.
_CONSTANT_LOGIT = 12.0
# Temperatures the fusion tries (ascending).
FUSION_TEMPERATURES = np.geomspace(0.25, 8.0, 31)


def _regression(c: float, max_iter: int, init: tuple[np.ndarray, np.ndarray] | None) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-4, warm_start=init is not None)
    if init is not None:
        # Starting from a solution on most of the same rows makes the final refit converge much sooner.
        model.coef_, model.intercept_ = np.asarray(init[0], dtype=np.float64), np.asarray(init[1], np.float64)
    return model


def _fit(model: LogisticRegression, x: Any, y: np.ndarray) -> LogisticRegression:
    # An iteration cap that stops short of full convergence still leaves a usable head, validated on
    # held-out rows, so the solver's warning is not passed on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def fit_head(
    x: Any, y: np.ndarray, *, exclusive: bool, c: float, max_iter: int = 300, init: Head | None = None
) -> Head:
    """Logistic regression over the columns of the 0/1 matrix ``y``.

    ``exclusive``: one multinomial model (each row has exactly one 1); otherwise one binary model per column.
    ``init``: a head to start from (same columns and features), e.g. the one fitted on a subset.
    """
    n, k = y.shape
    d = x.shape[1]
    w = np.zeros((d, k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    if exclusive:
        target = y.argmax(axis=1)
        present = np.unique(target)
        b[:] = -_CONSTANT_LOGIT
        if len(present) == 1:
            b[present[0]] = _CONSTANT_LOGIT
            return w, b
        start = None
        if init is not None and len(present) > 2:
            start = (init[0][:, present].T, init[1][present])
        elif init is not None:
            start = (
                (init[0][:, present[1]] - init[0][:, present[0]])[None, :],
                init[1][present[1:]] - init[1][present[:1]],
            )
        model = _fit(_regression(c, max_iter, start), x, target)
        coef, icpt = model.coef_, model.intercept_
        if len(present) == 2:  # scikit-learn keeps a single binary row; split it symmetrically
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            icpt = np.array([-icpt[0] / 2, icpt[0] / 2])
        w[:, present] = coef.T
        b[present] = icpt
        return w, b
    for j in range(k):
        col = y[:, j]
        pos = int(col.sum())
        if pos in (0, n):
            b[j] = _CONSTANT_LOGIT if pos else -_CONSTANT_LOGIT
            continue
        start = None if init is None else (init[0][:, j][None, :], init[1][j : j + 1])
        model = _fit(_regression(c, max_iter, start), x, col)
        w[:, j] = model.coef_[0]
        b[j] = model.intercept_[0]
    return w, b


def head_scores(x: Any, head: Head, *, exclusive: bool) -> np.ndarray:
    """Per-view log-scores: log-probabilities (exclusive) or logits (per-label models), float64."""
    w, b = head
    z = x @ w if not sparse.issparse(x) else np.asarray(x @ w)
    z = np.asarray(z, dtype=np.float64) + b
    return log_softmax(z, axis=1) if exclusive else z


def fused_probabilities(
    scores: Sequence[np.ndarray], weights: Sequence[float], temperature: float, *, exclusive: bool
) -> np.ndarray:
    """Probabilities from a weighted sum of view scores, sharpened or softened by ``temperature``."""
    z = sum(w * s for w, s in zip(weights, scores, strict=True)) * temperature
    return softmax(z, axis=1) if exclusive else expit(z)


def _loss(z: np.ndarray, y: np.ndarray, *, exclusive: bool) -> float:
    if exclusive:
        return float(-(log_softmax(z, axis=1) * y).sum(axis=1).mean())
    return float(-(y * log_expit(z) + (1 - y) * log_expit(-z)).mean())


def choose_fusion(
    scores: Sequence[np.ndarray], y: np.ndarray, *, exclusive: bool, step: float = 0.1
) -> tuple[list[float], float]:
    """View weights (on a simplex grid) and a temperature minimising held-out log-loss."""
    m = len(scores)
    ticks = round(1 / step)
    grid = [
        [t / ticks for t in combo] + [(ticks - sum(combo)) / ticks]
        for combo in itertools.product(range(ticks + 1), repeat=m - 1)
        if sum(combo) <= ticks
    ]
    temps = FUSION_TEMPERATURES
    best: tuple[float, list[float], float] | None = None
    for weights in grid:
        z = sum(w * s for w, s in zip(weights, scores, strict=True))
        for t in temps:
            loss = _loss(z * t, y, exclusive=exclusive)
            if best is None or loss < best[0] - 1e-12:
                best = (loss, weights, float(t))
    assert best is not None
    return best[1], best[2]


def search_fusion(
    scores: Sequence[np.ndarray], y: np.ndarray, *, step: float = 0.1
) -> tuple[list[float], float]:
    """``choose_fusion``'s grid point (exclusive labels; ``y`` the class index of each row) by local search.

    The log-loss of fused log-scores is a log-sum-exp of a linear function of the unnormalised weights
    ``t * w``, so it is convex: in the temperature for fixed weights (a descent along the temperature
    grid from the neighbouring point's best ends at the grid's best), and, minimised over a continuous
    temperature, quasi-convex over the weight simplex (a steepest descent moving one tick between two
    views reaches the best weights). A sweep over every point two moves from the end guards the
    lattice's corners. The full scan costs rows x classes x 31 temperatures for each of the grid's 66
    points (three views); this visits a few dozen points at about four temperatures each.
    """
    stack = np.stack([np.asarray(s, dtype=np.float64) for s in scores])
    own = stack[:, np.arange(stack.shape[1]), np.asarray(y)]
    ticks = round(1 / step)
    m = len(scores)
    temps = FUSION_TEMPERATURES
    # per weight point: least loss over the temperatures and its index, and the temperature (and its
    # loss) choose_fusion's scan keeps among near-ties
    found: dict[tuple[int, ...], tuple[float, int, float, int]] = {}

    def at(point: tuple[int, ...], hint: int) -> tuple[float, int, float, int]:
        if point not in found:
            w = np.asarray(point, dtype=np.float64) / ticks
            z = np.tensordot(w, stack, axes=1)
            top = z.max(axis=1)
            gap = z - top[:, None]
            # log-loss at temperature t: mean of t * (top - z_y) + log sum exp(t * (z - top))
            excess = top - w @ own
            losses: dict[int, float] = {}

            def loss(i: int) -> float:
                if i not in losses:
                    t = temps[i]
                    losses[i] = float(np.mean(t * excess + np.log(np.exp(t * gap).sum(axis=1))))
                return losses[i]

            i = hint
            while i > 0 and loss(i - 1) < loss(i):
                i -= 1
            while i + 1 < len(temps) and loss(i + 1) < loss(i):
                i += 1
            # choose_fusion's scan replays from the last temperature clearly (by over 1e-12) above its
            # right neighbour: near the least loss a later temperature must win by over 1e-12
            first = i
            while first > 0 and loss(first - 1) - loss(first) <= 1e-12:
                first -= 1
            for j in range(first + 1, i + 1):
                if loss(j) < loss(first) - 1e-12:
                    first = j
            found[point] = (loss(i), i, loss(first), first)
        return found[point]

    def moves(point: tuple[int, ...]) -> list[tuple[int, ...]]:
        out = []
        for a in range(m):
            for b in range(m):
                if a != b and point[a] > 0:
                    q = list(point)
                    q[a] -= 1
                    q[b] += 1
                    out.append(tuple(q))
        return out

    def key(p: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
        return found[p][0], p[:-1]

    start = [ticks // m] * m
    start[-1] += ticks - sum(start)
    best = tuple(start)
    at(best, len(temps) // 2)
    for v in range(m):  # each view alone; the last is the grid's first point, where exact ties stay
        at(tuple(ticks if u == v else 0 for u in range(m)), found[best][1])
    # each step strictly lowers (loss, grid order), so the search ends
    while True:
        for q in moves(best):
            at(q, found[best][1])
        step_to = min(moves(best), key=key, default=best)
        if key(step_to) < key(best):
            best = step_to
            continue
        ring = sorted({r for q in moves(best) for r in moves(q)})
        for r in ring:
            at(r, found[best][1])
        guard = min(ring, key=key, default=best)
        if key(guard) >= key(best):
            break
        best = guard
    # the answer as choose_fusion's scan (grid order, a later point must be lower by over 1e-12) picks it
    # among the points visited
    pick = None
    for p in sorted(found, key=lambda q: q[:-1]):
        if pick is None or found[p][2] < found[pick][2] - 1e-12:
            pick = p
    assert pick is not None
    return [t / ticks for t in pick], float(temps[found[pick][3]])


def ancestors(label: Label) -> list[Label]:
    """Proper prefixes of a label, shortest first."""
    return [label[:i] for i in range(1, len(label))]


def hierarchy(trained: Sequence[Label]) -> tuple[list[Label], list[list[int]]]:
    """Every label (trained ones plus their parents), sorted, and the trained columns each one covers."""
    everything = sorted({a for lb in trained for a in ancestors(lb)} | set(trained))
    members = [[j for j, t in enumerate(trained) if t[: len(lb)] == lb] for lb in everything]
    return everything, members


def aggregate(p: np.ndarray, members: Sequence[Sequence[int]], *, exclusive: bool) -> np.ndarray:
    """Scores of every label from the trained columns: a parent sums its exclusive descendants (and its
    own assignments), or is their noisy-or when labels are independent."""
    out = np.empty((p.shape[0], len(members)), dtype=np.float64)
    for i, cols in enumerate(members):
        block = p[:, cols]
        if exclusive:
            out[:, i] = np.minimum(block.sum(axis=1), 1.0)
        else:
            out[:, i] = 1.0 - np.prod(1.0 - block, axis=1)
    return out


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The score cut (predict ``>=`` it) maximising F1, and that F1; ``(nan, 0)`` without positives."""
    positives = float(truth.sum())
    if positives == 0 or len(scores) == 0:
        return float("nan"), 0.0
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + positives)
    # Only cut between distinct scores: ties are predicted together.
    last_of_tie = np.append(s[1:] < s[:-1], True)
    f1 = np.where(last_of_tie, f1, -1.0)
    i = int(np.argmax(f1))
    return float(s[i]), float(f1[i])


def choose_thresholds(p: np.ndarray, y: np.ndarray, *, min_support: int = 3) -> np.ndarray:
    """Per-label F1-optimal thresholds; labels with fewer than ``min_support`` held-out positives get the
    threshold that maximises F1 over all labels pooled."""
    pooled, _ = best_threshold(p.ravel(), y.ravel())
    if np.isnan(pooled):
        pooled = 0.5
    out = np.full(p.shape[1], pooled, dtype=np.float64)
    for j in range(p.shape[1]):
        if y[:, j].sum() >= min_support:
            t, _ = best_threshold(p[:, j], y[:, j])
            out[j] = t
    return np.clip(out, 1e-6, 1.0)


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def label_metrics(
    p: np.ndarray, y: np.ndarray, thresholds: np.ndarray, labels: Sequence[Label]
) -> dict[str, Any]:
    """Precision, recall, F1 and support per label at its threshold, plus micro and macro averages."""
    pred = p >= thresholds[None, :]
    truth = y.astype(bool)
    per: dict[Label, dict[str, float]] = {}
    f1s = []
    for j, lb in enumerate(labels):
        tp = float((pred[:, j] & truth[:, j]).sum())
        fp = float((pred[:, j] & ~truth[:, j]).sum())
        fn = float((~pred[:, j] & truth[:, j]).sum())
        precision, recall, f1 = _prf(tp, fp, fn)
        per[lb] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(truth[:, j].sum()),
            "threshold": float(thresholds[j]),
        }
        if truth[:, j].any():
            f1s.append(f1)
    mp, mr, mf = _prf(float((pred & truth).sum()), float((pred & ~truth).sum()), float((~pred & truth).sum()))
    return {
        "micro_precision": mp,
        "micro_recall": mr,
        "micro_f1": mf,
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "per_label": per,
    }


def split_indices(keys: Sequence[str], *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified fit/validation split by ``keys``: each group gives about ``fraction`` of its rows to
    validation but always keeps at least one for fitting."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    fit: list[int] = []
    val: list[int] = []
    for k in sorted(groups):
        rows = np.array(groups[k])
        rng.shuffle(rows)
        n_val = min(len(rows) - 1, int(np.floor(len(rows) * fraction + rng.random())))
        val.extend(rows[:n_val].tolist())
        fit.extend(rows[n_val:].tolist())
    return np.array(sorted(fit), dtype=np.int64), np.array(sorted(val), dtype=np.int64)
