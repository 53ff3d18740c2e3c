"""Outliers: garbage, boilerplate, code, other languages — rows unlike anything else in the dataset.

Rows are tested on their far-ness p-value (``engine.far``) at the false discovery rate, in two
families. Rows whose label their neighbours do not confirm: where most of the dataset is
conversational, only the rows of another genre (or code, or no English) are tested there, so that
the far rows of the dataset's own kind (the off-topic check's) do not take BH's error budget. Rows
whose label is confirmed: where a genre dominates, all of them, by a weighted BH whose weights come
from how poorly the dataset's own word model explains each row (``engine.textmodel``), not from a
word list: a far row of another kind whose random label was confirmed by chance is found there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, RequestFlag, register
from sanitas.heal.engine.far import FDR_LEVEL, FarStats, bh_families, far_stats
from sanitas.heal.engine.textmodel import kind_pvalues, kind_weights
from sanitas.heal.engine.textstats import feature_matrix

# When most of the dataset is conversational (questions, requests), a far row that is not is
# a different *kind* of text (an encyclopedia sentence, a log line), not merely another topic.
GENRE_MIN_RATE = 0.8
# Fewer words than this say too little about genre ("bye now", "yo"): such rows need surface evidence.
GENRE_MIN_TOKENS = 3
# In-genre far rows stay below the flag line here: the off-topic check owns them.
IN_GENRE_DAMPING = 0.45
# Rows whose words the dataset's own model explains at least as well as this share of its vouched
# rows carry no weight in the label-confirmed family (``textmodel.kind_weights``).
KIND_LEVEL = 0.05


def confirmed_family(
    st: FarStats, texts: list[str], *, q: float = FDR_LEVEL
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted BH over every label-confirmed row: far-ness p-values, weights from how unlike its text is.

    A far row of another kind has its random label confirmed by chance about once in as many classes
    as the dataset has: with few classes that is a real share of the outliers. In this family the
    clean rows vastly outnumber them, so a plain BH there has no power; the weights (Genovese, Roeder
    and Wasserman's weighted BH, mean 1) put the family's error budget on the rows whose text the
    dataset's own word model explains poorly, and none on rows of the dataset's kind. Returns scores,
    flags and the kind p-values (all rows).
    """
    n = len(st.distance)
    null = st.null if st.null is not None else st.confirmed
    kind_p = kind_pvalues(texts, null)
    fam = st.confirmed
    scores, flags = np.zeros(n), np.zeros(n, dtype=bool)
    if not fam.any():
        return scores, flags, kind_p
    w = kind_weights(kind_p[fam], level=KIND_LEVEL)
    weighted = np.ones(n)
    weighted[fam] = np.where(w > 0, st.pvalue[fam] / np.maximum(w, 1e-300), 1.0)
    scores, flags = bh_families(np.minimum(weighted, 1.0), [fam], q=q)
    return scores, flags, kind_p


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
    models = ("knn-distance", "class-prototypes", "surface-features", "word-bigram-model", "fdr-calibration")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Unconfirmed family: the candidate rows; confirmed family: every row, weighted by kind evidence."""
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
        if genre_used and st.confirmed_null:
            # unconfirmed rows: the candidates only; confirmed rows: all, weighted by kind evidence
            # (where no genre dominates, every row is a candidate and the families are unweighted:
            # there the word model sees long rows of a rare topic as another kind, and misses short
            # fragments of generic prose, so it would move the error budget the wrong way)
            unconf = candidates & ~st.confirmed
            scores, flags = bh_families(st.pvalue, [unconf])
            c_scores, c_flags, _ = confirmed_family(st, ctx.texts)
            scores = np.where(st.confirmed, c_scores, scores)
            flags = np.where(st.confirmed, c_flags, flags)
            tested = unconf | st.confirmed
        else:
            scores, flags = bh_families(st.pvalue, st.families(candidates))
            tested = candidates
        scores = np.where(tested, scores, IN_GENRE_DAMPING * st.far_score)
        details: list[dict[str, Any] | None] = [None] * ctx.n
        for i in np.flatnonzero(flags):
            reason = (
                "code"
                if code[i]
                else "not_english"
                if no_english[i]
                else "unlike_dataset_text"
                if not candidates[i]
                else "far_from_dataset"
            )
            details[i] = {"reason": reason, "distance": round(float(st.distance[i]), 4)}
        summary = {
            **st.summary(),
            "genre_used": genre_used,
            "candidates": int(candidates.sum()),
            "flagged": int(flags.sum()),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
