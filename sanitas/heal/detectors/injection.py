"""Prompt injections and jailbreaks aimed at an LLM that will read the comment.

A trained classifier (``engine.injection_model``; trained by ``scripts/train_injection.py`` on public
injection collections and benign rows, its thresholds calibrated on a dev split, not on any dataset
being healed). Two models vote, either one suffices:

* character and word n-grams scored on sliding windows of the text, the highest window counting, so an
  attack joined to a benign query with no separator or punctuation is found wherever it sits;
* the whole comment's sentence embedding, which carries meaning the n-grams never saw (used only when
  the job's embedder is the one the weights were trained on).

Each model's probability is rescaled so that its calibrated threshold maps to 0.5; the row score is the
higher of the two.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, register
from sanitas.heal.engine.injection_model import InjectionModel, load_model


def _logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


def rescale(p: np.ndarray, threshold: float) -> np.ndarray:
    """Map probabilities so ``threshold`` becomes 0.5 (a shift in log-odds keeps the order)."""
    z = _logit(p) - _logit(threshold)
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))


@register
class InjectionDetector(Detector):
    """Flags rows whose strongest window, or whose whole embedding, the trained classifier calls an attack."""

    name = "injection"
    models = ("injection-ngram-windows", "injection-embedding-lr")
    depends_on = ("texts", "embeddings")

    def __init__(self) -> None:
        self._model: InjectionModel | None = None

    @property
    def model(self) -> InjectionModel:
        """The shipped weights, loaded on first use."""
        if self._model is None:
            self._model = load_model()
        return self._model

    def setup(self) -> None:
        """Load the weights once per process."""
        _ = self.model

    def cache_params(self) -> dict[str, Any]:
        """The weights are data, not source: their digest keys the result cache."""
        return {"injection_weights": self.model.digest}

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Row score = max(rescaled window score, rescaled embedding score); flagged at 0.5."""
        model = self.model
        n = ctx.n
        win = model.score_texts(ctx.texts)
        s_ng = rescale(win.score, model.ngram_threshold)
        s_em = np.zeros(n)
        embed_used = False
        if n and ctx.embed is not None and ctx.embeddings.shape[1:] == model.embed_coef.shape:
            embed_used = model.embedder_matches(ctx.embed(model.probe_texts))
        if embed_used:
            s_em = rescale(model.embed_probs(ctx.embeddings), model.embed_threshold)
        scores = np.maximum(s_ng, s_em)
        flags = scores >= 0.5
        details: list[dict[str, Any] | None] = [None] * n
        for i in np.flatnonzero(flags):
            details[i] = {
                "window": win.window[i][:200],
                "window_score": round(float(s_ng[i]), 3),
                "embedding_score": round(float(s_em[i]), 3) if embed_used else None,
            }
        summary: dict[str, Any] = {
            "flagged": int(flags.sum()),
            "by_windows": int((s_ng >= 0.5).sum()),
            "by_embedding": int((s_em >= 0.5).sum()),
            "embedding_model_used": embed_used,
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
