"""How far each row lies from the bulk of its dataset, and whether it reads like the dataset's genre.

Shared by the outlier and off-topic checks: both start from the kNN distance (``novelty``) with a
fence found by iterated sigma clipping, so the threshold describes the clean bulk of *this* dataset
whatever share of it is contaminated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext

from sanitas.heal.engine.calibrate import logistic_score, robust_location_scale
from sanitas.heal.engine.shared import novelty

# Robust z beyond which a kNN distance is not part of the bulk (~1 clean row in 4,000 for a normal bulk).
FENCE_Z = 3.5

_PRONOUNS = frozenset(
    "i i'm i've i'd i'll my me mine myself we we're our ours us you you're your yours yourself".split()
)
_OPENERS = frozenset(
    """what what's whats how how's when where why which who who's whose is are am was were do does did
    can could would will should shall may might please help tell show give let set find get make add
    remove cancel book check turn play send call remind order look search change start stop""".split()
)
_CUES = frozenset("please thanks thank hi hello hey".split())
_TOKEN = re.compile(r"[a-z0-9']+")


def is_conversational(text: str) -> bool:
    """A message addressed to someone: a question, a request, or first/second-person wording."""
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


@dataclass
class FarStats:
    """Per-row distance statistics and the dataset's calibration."""

    distance: np.ndarray
    far_score: np.ndarray
    fence: float
    median: float
    sigma: float
    conversational: np.ndarray
    genre_rate: float


def far_stats(ctx: DetectorContext) -> FarStats:
    """Distance scores (0.5 at the fence) plus the genre marker, computed once per job."""

    def compute() -> FarStats:
        dist = novelty(ctx)
        if ctx.n < 20:
            zeros = np.zeros(ctx.n)
            return FarStats(dist, zeros, 1.0, 0.0, 1.0, np.ones(ctx.n, dtype=bool), 1.0)
        med, sigma, fence = clipped_fence(dist, k=FENCE_Z)
        score = logistic_score(dist, centre=fence, width=sigma / 2)
        conv = np.array([is_conversational(t) for t in ctx.texts], dtype=bool)
        bulk = dist <= med
        rate = float(conv[bulk].mean()) if bulk.any() else 0.0
        return FarStats(dist, score, float(fence), med, sigma, conv, rate)

    return ctx.shared("far_stats", compute)
