"""Outliers: garbage, boilerplate, code, other languages — rows unlike anything else in the dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, RequestFlag, register
from sanitas.heal.engine.far import bh_families, far_stats
from sanitas.heal.engine.textstats import feature_matrix

# When most of the dataset is conversational (questions, requests), a far row that is not is
# a different *kind* of text (an encyclopedia sentence, a log line), not merely another topic.
GENRE_MIN_RATE = 0.8
# Fewer words than this say too little about genre ("bye now", "yo"): such rows need surface evidence.
GENRE_MIN_TOKENS = 3
# In-genre far rows stay below the flag line here: the off-topic check owns them.
IN_GENRE_DAMPING = 0.45


@register
class OutlierDetector(Detector):
    """Far rows of another genre or with code / no English, at the dataset's calibrated FDR."""

    name = "outlier"
    order = 1
    run_order = 0
    flags = (
        RequestFlag(
            "remove_outliers",
            "remove",
            True,
            "Remove garbage, boilerplate, other languages, code, corrupted text.",
        ),
    )
    models = ("knn-distance", "class-prototypes", "surface-features", "fdr-calibration")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Test only the candidate rows (other genre, code, no English), so BH keeps its power there."""
        st = far_stats(ctx)
        names, feats = feature_matrix(ctx.texts)
        code = feats[:, names.index("code")] > 0
        fw = feats[:, names.index("function_words")]
        ntok = feats[:, names.index("n_tokens")]
        english_bulk = float(np.median(fw)) >= 0.2 if ctx.n else False
        no_english = (fw == 0) & (ntok >= 3) & english_bulk
        genre_used = st.genre_rate >= GENRE_MIN_RATE
        if genre_used:
            candidates = (~st.conversational & (ntok >= GENRE_MIN_TOKENS)) | code | no_english
        else:
            candidates = np.ones(ctx.n, dtype=bool)
        scores, flags = bh_families(st.pvalue, st.families(candidates))
        scores = np.where(candidates, scores, IN_GENRE_DAMPING * st.far_score)
        details: list[dict[str, Any] | None] = [None] * ctx.n
        for i in np.flatnonzero(flags):
            reason = "code" if code[i] else "not_english" if no_english[i] else "far_from_dataset"
            details[i] = {"reason": reason, "distance": round(float(st.distance[i]), 4)}
        summary = {
            **st.summary(),
            "genre_used": genre_used,
            "candidates": int(candidates.sum()),
            "flagged": int(flags.sum()),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
