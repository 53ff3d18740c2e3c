"""Outliers: garbage, boilerplate, code, other languages — rows unlike anything else in the dataset.

Rows are tested on their far-ness p-value (``engine.far``) at the false discovery rate, in two
families (rows whose label their neighbours confirm, and the others). Where most of the dataset is
conversational, the far rows of the dataset's own kind are the off-topic check's, and must not take
BH's error budget from the rows of another kind: each family is then tested by a weighted BH
(Genovese, Roeder and Wasserman; weights of mean 1) whose weights say how likely a row is to be of
another kind. The evidence is learnt from the dataset: how poorly its own word model explains the
row (``engine.textmodel``). In the unconfirmed family that evidence is mixed with the genre
candidates (rows that are not conversational, code, no English); the confirmed family, where a far
row of another kind lands when its random label was confirmed by chance, uses the word model alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, RequestFlag, register
from sanitas.heal.engine.far import FDR_LEVEL, bh_families, far_stats
from sanitas.heal.engine.textmodel import kind_pvalues, kind_weights
from sanitas.heal.engine.textstats import feature_matrix

# When most of the dataset is conversational (questions, requests), a far row that is not is
# a different *kind* of text (an encyclopedia sentence, a log line), not merely another topic.
GENRE_MIN_RATE = 0.8
# Fewer words than this say too little about genre ("bye now", "yo"): such rows need surface evidence.
GENRE_MIN_TOKENS = 3
# Rows with no weight stay below the flag line here: the off-topic check owns them.
IN_GENRE_DAMPING = 0.45
# Rows whose words the dataset's own model explains at least as well as this share of its vouched
# rows carry no word-model weight (``textmodel.kind_weights``).
KIND_LEVEL = 0.05
# Share of the unconfirmed family's weight that follows the word model (the rest: the genre
# candidates). The unconfirmed far rows are mostly off-topic rows of the dataset's own form, and the
# word model sees their topic words too: alone it would hand them the error budget.
UNCONFIRMED_KIND_SHARE = 0.3


def weighted_bh(
    pvalues: np.ndarray, family: np.ndarray, weights: np.ndarray, *, q: float = FDR_LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted BH over ``family``: ``p / w`` (1 where ``w`` is 0) through ``far.bh_families``.

    ``weights`` are the family's own (one per member, mean 1): a row's share of the family's error
    budget. Rows outside the family score 0 and are never flagged.
    """
    weighted = np.ones(len(pvalues))
    w = np.asarray(weights, dtype=np.float64)
    weighted[family] = np.where(w > 0, pvalues[family] / np.maximum(w, 1e-300), 1.0)
    return bh_families(np.minimum(weighted, 1.0), [family], q=q)


def _mean_one(w: np.ndarray) -> np.ndarray:
    total = float(w.sum())
    return w * (len(w) / total) if total > 0 else w


@register
class OutlierDetector(Detector):
    """Far rows of another kind of text (by the dataset's own word model and genre), at a calibrated FDR."""

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
        """Each family by weighted BH where a genre dominates (weights: kind evidence), else plain BH."""
        st = far_stats(ctx)
        names, feats = feature_matrix(ctx.texts)
        code = feats[:, names.index("code")] > 0
        fw = feats[:, names.index("function_words")]
        ntok = feats[:, names.index("n_tokens")]
        english_bulk = float(np.median(fw)) >= 0.2 if ctx.n else False
        no_english = (fw == 0) & (ntok >= 3) & english_bulk
        genre_used = st.genre_rate >= GENRE_MIN_RATE
        kind_p = np.ones(ctx.n)
        if genre_used:
            candidates = (~st.conversational & (ntok >= GENRE_MIN_TOKENS)) | code | no_english
        else:
            candidates = np.ones(ctx.n, dtype=bool)
        if genre_used and st.confirmed_null:
            # where no genre dominates, every row is a candidate and the families stay unweighted:
            # there the word model sees long rows of a rare topic as another kind, and misses short
            # fragments of generic prose, so it would move the error budget the wrong way
            kind_p = kind_pvalues(ctx.texts, st.null if st.null is not None else st.confirmed)
            scores, flags = np.zeros(ctx.n), np.zeros(ctx.n, dtype=bool)
            weights = np.zeros(ctx.n)
            for fam, share in ((~st.confirmed, UNCONFIRMED_KIND_SHARE), (st.confirmed, 1.0)):
                if not fam.any():
                    continue
                w = share * kind_weights(kind_p[fam], level=KIND_LEVEL)
                weights[fam] = w + (1.0 - share) * _mean_one(candidates[fam].astype(np.float64))
                f_scores, f_flags = weighted_bh(st.pvalue, fam, weights[fam])
                scores[fam], flags[fam] = f_scores[fam], f_flags[fam]
            tested = weights > 0
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
                if kind_p[i] < KIND_LEVEL
                else "far_from_dataset"
            )
            details[i] = {"reason": reason, "distance": round(float(st.distance[i]), 4)}
        summary = {
            **st.summary(),
            "genre_used": genre_used,
            "candidates": int(candidates.sum()),
            "unlike_dataset_text": int((kind_p < KIND_LEVEL).sum()),
            "flagged": int(flags.sum()),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
