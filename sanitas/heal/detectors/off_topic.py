"""Off-topic rows: coherent text far from everything the dataset is about (0-100 score)."""

from __future__ import annotations

from typing import Any

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.far import bh_families, far_stats
from sanitas.heal.engine.support import off_topic_families


@register
class OffTopicDetector(Detector):
    """Far rows at a false discovery rate calibrated on the dataset (``engine.far``); 50 = the cut.

    Rows whose label no neighbour backs are tested as a family of their own (``engine.support``):
    an off-topic row's label was never about its text, so that family is where they gather.
    """

    name = "off_topic"
    models = ("knn-distance", "class-prototypes", "label-support", "fdr-calibration")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """``off_topic_score`` = round(100 * score); flagged when Benjamini-Hochberg selects the row."""
        st = far_stats(ctx)
        families, adaptive = off_topic_families(ctx, st)
        scores, flags = bh_families(st.pvalue, families, adaptive=adaptive)
        details: list[dict[str, Any] | None] = [
            {"off_topic_score": int(round(100 * s)), "distance": round(float(d), 4)}
            for s, d in zip(scores, st.distance, strict=True)
        ]
        summary = {
            **st.summary(),
            "families": [int(f.sum()) for f in families],
            "flagged": int(flags.sum()),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
