"""Off-topic rows: coherent text far from everything the dataset is about (0-100 score)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.far import FENCE_Z, far_stats


@register
class OffTopicDetector(Detector):
    """Scores the kNN distance to the dataset against the dataset's own bulk; 50 = the fence."""

    name = "off_topic"
    models = ("knn-distance",)

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """``off_topic_score`` = round(100 * score); flagged when beyond the calibrated fence."""
        st = far_stats(ctx)
        flags = st.far_score >= 0.5
        details: list[dict[str, Any] | None] = [
            {"off_topic_score": int(round(100 * s)), "distance": round(float(d), 4)}
            for s, d in zip(st.far_score, st.distance, strict=True)
        ]
        summary = {
            "distance_fence": round(st.fence, 4),
            "distance_median": round(st.median, 4),
            "fence_z": FENCE_Z,
            "flagged": int(flags.sum()),
        }
        return DetectorResult(
            scores=np.asarray(st.far_score), flags=flags, threshold=0.5, summary=summary, details=details
        )
