"""How far each row lies from what its dataset is about, with a false-discovery-rate threshold.

Shared by the outlier and off-topic checks. The statistic is the cosine distance to the row's nearest
rows, averaged (when the dataset has labels) with the distance to the nearest class prototype: a row
about something the dataset is not about is far from every class, not merely from a few rows.

The threshold is calibrated on the dataset itself, as a multiple-testing problem rather than as a
fence at a fixed number of standard deviations (distance distributions differ too much in shape
between datasets for one z to fit them all: on a dataset of short, diverse queries the bulk spreads
almost up to where unrelated text lies). The rows whose given label their neighbours confirm form
an empirical null: the dataset itself says they belong. Every row gets a p-value against that null
(``calibrate.tail_pvalues``) and Benjamini-Hochberg selects the far rows at false discovery rate
``FDR_LEVEL``. Confirmed and unconfirmed rows are tested as two families, each at that level:
a row about something else almost never has its label confirmed, so the unconfirmed family holds
nearly all of them and BH there has the power of a small family; the confirmed family still catches
a far row whose label was confirmed by chance (likely when the dataset has only a few classes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext

from sanitas.heal.engine.calibrate import (
    bh_cut,
    pvalue_scores,
    robust_location_scale,
    storey_pi0,
    tail_pvalues,
)
from sanitas.heal.engine.shared import label_ids, label_probs, novelty

# Robust z beyond which a kNN distance is not part of the bulk (~1 clean row in 4,000 for a normal bulk);
# used where no label says which rows belong (unlabelled data, the injection check's sentences).
FENCE_Z = 3.5
# The conventional 5% false discovery rate: at most ~1 flagged row in 20 expected to be a clean one.
FDR_LEVEL = 0.05
# Fewer confirmed rows than this cannot describe the null's tail; the robust bulk is used instead.
MIN_NULL = 30
# Rows per block of the prototype similarities (a block x classes float64 buffer).
_PROTO_BLOCK = 8192
# Below this many rows nothing is tested: neighbours and tails mean little.
MIN_ROWS = 20

_PRONOUNS = frozenset(
    "i i'm im i've ive i'd i'll my me mine myself you you're youre your yours yourself u ur".split()
)
_OPENERS = frozenset(
    """what what's whats how how's when where why which who who's whose is are am was were do does did
    can could would will should shall may might please help tell show give let set find get make add
    remove cancel book check turn play send call remind order look search change start stop""".split()
)
_CUES = frozenset("please thanks thank hi hello hey".split())
_TOKEN = re.compile(r"[a-z0-9']+")


def is_conversational(text: str) -> bool:
    """A message addressed to someone: a question, a request, or first/second-person singular wording.

    First-person plural ("we can assume that...") is left out: expository prose uses it as much as
    messages do, and lower-cased "us" is as often the country.
    """
    toks = _TOKEN.findall(text.lower())
    if not toks:
        return False
    words = set(toks)
    return bool(_PRONOUNS & words) or toks[0] in _OPENERS or "?" in text or bool(_CUES & words)


def clipped_fence(values: np.ndarray, *, k: float, iterations: int = 20) -> tuple[float, float, float]:
    """``(median, sigma, fence)`` of the bulk, re-estimated without the points beyond the fence."""
    mask = np.ones(len(values), dtype=bool)
    med, sigma = robust_location_scale(values)
    for _ in range(iterations):
        med, sigma = robust_location_scale(values[mask])
        new = values <= med + k * sigma
        if (new == mask).all() or new.sum() < 10:
            break
        mask = new
    return med, sigma, med + k * sigma


def bh_families(
    pvalues: np.ndarray,
    families: list[np.ndarray],
    *,
    q: float = FDR_LEVEL,
    adaptive: Sequence[bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg within each family (boolean masks): scores (0.5 at the family's cut) and flags.

    ``adaptive[k]`` runs family ``k`` at level ``q / pi0`` (Storey's adaptive BH), for families that
    are built to be rich in signals. Rows in no family score 0 and are never flagged.
    """
    n = len(pvalues)
    scores = np.zeros(n)
    flags = np.zeros(n, dtype=bool)
    for k, fam in enumerate(families):
        m = int(fam.sum())
        if m == 0:
            continue
        level = q / storey_pi0(pvalues[fam]) if adaptive is not None and adaptive[k] else q
        cut = bh_cut(pvalues[fam], q=level)
        # with nothing rejected the scale is the level the best row would have had to reach
        scores[fam] = pvalue_scores(pvalues[fam], cut=level / m if cut is None else cut)
        flags[fam] = False if cut is None else pvalues[fam] <= cut
    return scores, flags


def prototype_distance(emb: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Cosine distance to the nearest class mean; a row's own class mean leaves the row out."""
    sums = np.zeros((n_classes, emb.shape[1]), dtype=np.float64)
    np.add.at(sums, y[y >= 0], emb[y >= 0])
    protos = (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).T
    out = np.empty(len(emb))
    # in blocks of rows, in float64 a block at a time: no rows x classes (nor float64 rows x dims) array
    for start in range(0, len(emb), _PROTO_BLOCK):
        stop = min(len(emb), start + _PROTO_BLOCK)
        x = np.asarray(emb[start:stop], dtype=np.float64)
        yb = y[start:stop]
        sims = x @ protos
        lab = np.flatnonzero(yb >= 0)
        own = sums[yb[lab]] - x[lab]
        norm = np.linalg.norm(own, axis=1)
        # a row alone in its class has no class to be near: its own class does not count
        own_sim = np.where(norm > 1e-9, (own * x[lab]).sum(axis=1) / np.maximum(norm, 1e-12), -1.0)
        sims[lab, yb[lab]] = own_sim
        out[start:stop] = 1.0 - sims.max(axis=1)
    return out


@dataclass
class FarStats:
    """Per-row distance, p-value and far score (0.5 at the calibrated cut), and the genre marker."""

    distance: np.ndarray
    pvalue: np.ndarray
    far_score: np.ndarray
    flags: np.ndarray
    #: rows whose label their neighbours confirm (tested as their own family)
    confirmed: np.ndarray
    #: True when the null is drawn from the label-confirmed rows
    confirmed_null: bool
    conversational: np.ndarray
    genre_rate: float
    null_size: int = 0
    #: the rows whose distances make the null (``None`` before calibration)
    null: np.ndarray | None = None

    def families(self, within: np.ndarray | None = None) -> list[np.ndarray]:
        """The BH families (unconfirmed rows, confirmed rows), optionally restricted to ``within``."""
        keep = np.ones(len(self.distance), dtype=bool) if within is None else within
        if not self.confirmed_null:
            return [keep]
        return [keep & ~self.confirmed, keep & self.confirmed]

    def summary(self) -> dict[str, object]:
        """Calibration facts for the manifest."""
        return {
            "null": "label-confirmed rows" if self.confirmed_null else "robust bulk",
            "null_rows": self.null_size,
            "fdr_level": FDR_LEVEL,
            "distance_median": round(float(np.median(self.distance)), 4) if len(self.distance) else 0.0,
            "genre_rate": round(self.genre_rate, 4),
        }


def far_distance(ctx: DetectorContext) -> np.ndarray:
    """kNN distance, averaged with the nearest-prototype distance when the dataset has labels."""

    def compute() -> np.ndarray:
        knn_d = novelty(ctx)
        if not ctx.has_labels:
            return knn_d
        classes, y = label_ids(ctx)
        proto = prototype_distance(ctx.embeddings, y, len(classes))
        return np.asarray((knn_d + proto) / 2.0)

    return ctx.shared("far_distance", compute)


def confirmed_rows(ctx: DetectorContext) -> np.ndarray:
    """Rows whose out-of-sample label prediction (neighbour vote) is their given label."""
    _, y = label_ids(ctx)
    probs = label_probs(ctx)
    return np.asarray((probs.argmax(axis=1) == y) & (y >= 0))


def chance_confirmation(ctx: DetectorContext) -> float:
    """How often a row with an arbitrary label has it confirmed by chance: 1 / effective classes."""
    _, y = label_ids(ctx)
    counts = np.bincount(y[y >= 0]).astype(np.float64)
    share = counts[counts > 0] / max(counts.sum(), 1.0)
    return float(np.exp((share * np.log(share)).sum())) if share.size else 1.0


def _null_rows(ctx: DetectorContext, dist: np.ndarray, confirmed: np.ndarray | None) -> np.ndarray:
    """The rows whose distances make the null: the label-confirmed rows (all rows without labels).

    Unlabelled data, or so few classes that a far row's random label is confirmed by chance more
    often than the error rate we promise, would let far rows weigh on the null's tail: then the null
    is only the robust bulk of those rows. With many classes this is not needed, and trimming would
    only cut the genuine tail of a heavy-tailed dataset and flag its clean far rows.
    """
    if confirmed is None:
        base, chance = np.ones(len(dist), dtype=bool), 1.0
    else:
        base, chance = confirmed, chance_confirmation(ctx)
    if chance <= FDR_LEVEL:
        return base
    _, _, fence = clipped_fence(dist[base], k=FENCE_Z)
    return np.asarray(base & (dist <= fence))


def far_stats(ctx: DetectorContext) -> FarStats:
    """Distances, p-values and off-topic-style flags (all rows), computed once per job."""

    def compute() -> FarStats:
        n = ctx.n
        conv = np.array([is_conversational(t) for t in ctx.texts], dtype=bool)
        if n < MIN_ROWS:
            zeros, none = np.zeros(n), np.zeros(n, dtype=bool)
            return FarStats(zeros, np.ones(n), zeros, none, none, False, conv, 1.0)
        dist = far_distance(ctx)
        confirmed = confirmed_rows(ctx) if ctx.has_labels else np.zeros(n, dtype=bool)
        use_confirmed = int(confirmed.sum()) >= MIN_NULL
        null_rows = _null_rows(ctx, dist, confirmed if use_confirmed else None)
        pvalue = tail_pvalues(dist, dist[null_rows])
        bulk = dist <= np.median(dist)
        rate = float(conv[bulk].mean()) if bulk.any() else 0.0
        groups = confirmed if use_confirmed else np.zeros(n, dtype=bool)
        st = FarStats(dist, pvalue, np.zeros(n), np.zeros(n, dtype=bool), groups, use_confirmed, conv, rate)
        st.null_size = int(null_rows.sum())
        st.null = null_rows
        st.far_score, st.flags = bh_families(pvalue, st.families())
        return st

    return ctx.shared("far_stats", compute)


def bulk_fence(ctx: DetectorContext) -> tuple[float, float, float]:
    """``(median, sigma, fence)`` of the plain kNN distance (for checks that compare other texts)."""
    return ctx.shared("bulk_fence", lambda: clipped_fence(novelty(ctx), k=FENCE_Z))
