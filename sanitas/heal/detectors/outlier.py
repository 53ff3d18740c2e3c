"""Outliers: garbage, boilerplate, code, other languages — rows unlike anything else in the dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.far import far_stats
from sanitas.heal.engine.textstats import feature_matrix

# When most of the dataset is conversational (questions, requests), a far row that is not is
# a different *kind* of text (an encyclopedia sentence, a log line), not merely another topic.
GENRE_MIN_RATE = 0.8
# Surface evidence (code, no English at all) only counts on rows already somewhat away from the bulk:
# order numbers or a pasted IBAN inside a normal request must not make it an outlier.
QUALITY_MIN_FAR = 0.2
# In-genre far rows stay below the flag line here: the off-topic check owns them.
IN_GENRE_DAMPING = 0.45


@register
class OutlierDetector(Detector):
    """kNN distance beyond the fence for out-of-genre rows, or code / non-English on distant rows."""

    name = "outlier"
    models = ("knn-distance", "surface-features")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Score = distance score (damped in-genre: off-topic owns those), raised by surface evidence."""
        st = far_stats(ctx)
        genre_used = st.genre_rate >= GENRE_MIN_RATE
        dist_score = (
            np.where(st.conversational, st.far_score * IN_GENRE_DAMPING, st.far_score)
            if genre_used
            else st.far_score
        )
        names, feats = feature_matrix(ctx.texts)
        code = feats[:, names.index("code")] > 0
        fw = feats[:, names.index("function_words")]
        ntok = feats[:, names.index("n_tokens")]
        english_bulk = float(np.median(fw)) >= 0.2
        no_english = (fw == 0) & (ntok >= 3) & english_bulk
        surface = (code | no_english) & (st.far_score >= QUALITY_MIN_FAR)
        quality = np.where(surface, 0.5 + 0.5 * st.far_score, 0.0)
        scores = np.maximum(dist_score, quality)
        flags = scores >= 0.5
        details: list[dict[str, Any] | None] = [None] * ctx.n
        for i in np.flatnonzero(flags):
            reason = "code" if code[i] else "not_english" if no_english[i] else "far_from_dataset"
            details[i] = {"reason": reason, "distance": round(float(st.distance[i]), 4)}
        summary = {
            "distance_fence": round(st.fence, 4),
            "genre_rate": round(st.genre_rate, 4),
            "genre_used": genre_used,
            "flagged": int(flags.sum()),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
