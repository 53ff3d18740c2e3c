"""Off-topic rows: coherent text far from everything the dataset is about (0-100 score)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.far import far_stats


@register
class OffTopicDetector(Detector):
    """Far rows at a false discovery rate calibrated on the dataset (``engine.far``); 50 = the cut."""

    name = "off_topic"
    models = ("knn-distance", "class-prototypes", "fdr-calibration")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """``off_topic_score`` = round(100 * score); flagged when Benjamini-Hochberg selects the row."""
        st = far_stats(ctx)
        details: list[dict[str, Any] | None] = [
            {"off_topic_score": int(round(100 * s)), "distance": round(float(d), 4)}
            for s, d in zip(st.far_score, st.distance, strict=True)
        ]
        summary = {**st.summary(), "flagged": int(st.flags.sum())}
        return DetectorResult(
            scores=np.asarray(st.far_score), flags=st.flags, threshold=0.5, summary=summary, details=details
        )
