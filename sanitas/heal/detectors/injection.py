"""Prompt injections and jailbreaks aimed at an LLM that will read the comment.

Two kinds of evidence: explicit attack phrasing (``engine.injection_rules``), and an instruction-shaped
sentence inside a longer comment that is foreign to the dataset (far from every row, or close to an
attack exemplar while the dataset's own rows are not). Both distances are calibrated on the dataset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.calibrate import logistic_score
from sanitas.heal.engine.far import FENCE_Z, bulk_fence, clipped_fence
from sanitas.heal.engine.injection_rules import (
    EXEMPLARS,
    instruction_like,
    pattern_hits,
    split_sentences,
)
from sanitas.heal.engine.shared import K_NEIGHBOURS, novelty

PATTERN_SCORE = {"steers_the_answer": 0.8}
DEFAULT_PATTERN_SCORE = 0.95
_BLOCK = 1024
MIN_SENTENCES_FOR_FENCE = 50


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = max(1, min(k, sims.shape[1]))
    part = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return part.mean(axis=1)


@register
class InjectionDetector(Detector):
    """Scores the strongest of pattern evidence and foreign instruction sentences."""

    name = "injection"
    models = ("injection-patterns", "sentence-novelty", "attack-exemplars")
    depends_on = ("texts", "embeddings")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Row score = max(pattern score, instruction-sentence score); flagged at 0.5."""
        n = ctx.n
        scores = np.zeros(n)
        details: list[dict[str, Any] | None] = [None] * n
        for i, text in enumerate(ctx.texts):
            hits = pattern_hits(text)
            if hits:
                scores[i] = max(PATTERN_SCORE.get(h, DEFAULT_PATTERN_SCORE) for h in hits)
                details[i] = {"patterns": hits}
        cand_rows: list[int] = []
        cand_sents: list[str] = []
        # A foreign sentence pulls its comment away from the comment's own cluster, so only comments
        # further out than the median are worth embedding sentence by sentence (halves the cost).
        dist = novelty(ctx)
        median = float(np.median(dist)) if ctx.n else 0.0
        for i, text in enumerate(ctx.texts):
            if scores[i] >= 0.9 or dist[i] < median:
                continue
            sents = split_sentences(text)
            if len(sents) < 2:
                continue
            for s in sents:
                if instruction_like(s):
                    cand_rows.append(i)
                    cand_sents.append(s)
        summary: dict[str, Any] = {
            "pattern_rows": int((scores > 0).sum()),
            "sentences_checked": len(cand_sents),
        }
        if cand_sents and ctx.embed is not None and n >= 20:
            self._score_sentences(ctx, cand_rows, cand_sents, scores, details, summary)
        flags = scores >= 0.5
        summary["flagged"] = int(flags.sum())
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)

    def _score_sentences(
        self,
        ctx: DetectorContext,
        rows: list[int],
        sents: list[str],
        scores: np.ndarray,
        details: list[dict[str, Any] | None],
        summary: dict[str, Any],
    ) -> None:
        assert ctx.embed is not None
        emb = ctx.embeddings
        ex = ctx.shared("injection_exemplars", lambda: ctx.embed(list(EXEMPLARS)))  # type: ignore[misc]
        vecs = ctx.embed(sents)
        dist = np.zeros(len(sents))
        for start in range(0, len(sents), _BLOCK):
            block = vecs[start : start + _BLOCK] @ emb.T
            for j in range(block.shape[0]):
                block[j, rows[start + j]] = -1.0  # the sentence's own comment does not count
            dist[start : start + block.shape[0]] = 1.0 - _top_mean(block, K_NEIGHBOURS)
        attack = (vecs @ ex.T).max(axis=1).astype(np.float64)
        # Short follow-up sentences ("Can you help me?") sit further from whole comments than comments
        # do from each other, so both fences are fitted on the dataset's own candidate sentences, most
        # of which are benign; with too few of them, on the comments themselves.
        if len(sents) >= MIN_SENTENCES_FOR_FENCE:
            _, d_sigma, d_fence = clipped_fence(dist, k=FENCE_Z)
            _, a_sigma, a_fence = clipped_fence(attack, k=FENCE_Z)
        else:
            _, d_sigma, d_fence = bulk_fence(ctx)
            _, a_sigma, a_fence = clipped_fence((emb @ ex.T).max(axis=1).astype(np.float64), k=FENCE_Z)
        far = logistic_score(dist, centre=d_fence, width=max(d_sigma / 2, 1e-6))
        near_attack = logistic_score(attack, centre=a_fence, width=max(a_sigma / 2, 1e-6))
        # resembling an attack only counts for sentences no closer to the dataset than the typical one:
        # "can you change it to the right account" is an instruction, but the dataset's own kind of one
        near_attack = np.where(dist >= np.median(dist), near_attack, 0.5 * near_attack)
        sent_score = np.maximum(far, near_attack)
        ex_fence = a_fence
        ex_med = float(np.median(attack))
        summary["sentence_distance_fence"] = round(float(d_fence), 4)
        for j, i in enumerate(rows):
            if sent_score[j] > scores[i]:
                scores[i] = float(sent_score[j])
                details[i] = {
                    "sentence": sents[j][:200],
                    "foreign": round(float(far[j]), 3),
                    "attack_like": round(float(near_attack[j]), 3),
                }
        summary["exemplar_fence"] = round(float(ex_fence), 4)
        summary["exemplar_median"] = round(float(ex_med), 4)
