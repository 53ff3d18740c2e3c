"""Prompt injections and jailbreaks aimed at an LLM that will read the comment.

A trained classifier (``engine.injection_model``; trained by ``scripts/train_injection.py`` on public
injection collections and benign rows, its thresholds calibrated on a dev split, not on any dataset
being healed). Two models:

* character and word n-grams scored on sliding windows of the text, the highest window counting, so an
  attack joined to a benign query with no separator or punctuation is found wherever it sits; this
  model alone suffices to flag a row;
* the whole comment's sentence embedding, which carries meaning the n-grams never saw (used only when
  the job's embedder is the one the weights were trained on). On its own it flags requests *about* an
  assistant ("repeat that last response") in datasets of assistant commands, so it only votes jointly:
  the mean of the two models' threshold-shifted log-odds (a product of experts with equal weights) can
  carry a borderline window over the line.

A classifier trained on short queries and chat text reads some other kinds of text (long scientific
prose, say) as more attack-like across the board. So each model's threshold is also raised to a fence
fitted on the dataset's own rows, which are overwhelmingly benign: the median of their log-odds plus
``FENCE_K`` robust standard deviations (MAD x 1.4826). An attack must stand out from the dataset as
well as pass the dev-calibrated threshold. Row score = max(window score, joint score), where each is
the logistic of log-odds shifted so that the effective threshold sits at 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, RequestFlag, register
from sanitas.heal.engine.injection_model import InjectionModel, load_model


def _logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


#: robust standard deviations above the dataset's median a row must lie (one-sided normal tail ~2e-4)
FENCE_K = 3.5
#: below this many rows the dataset's own distribution is too thin to fence on
MIN_ROWS_FOR_FENCE = 50
#: the scale never counts as narrower than this (log-odds): near-identical rows must not fence at the median
MIN_SCALE = 0.5


def dataset_threshold(p: np.ndarray, threshold: float) -> float:
    """The log-odds threshold: the calibrated one, raised to the dataset's own fence when that is higher."""
    t = float(_logit(threshold))
    if len(p) < MIN_ROWS_FOR_FENCE:
        return t
    z = _logit(p)
    med = float(np.median(z))
    scale = max(1.4826 * float(np.median(np.abs(z - med))), MIN_SCALE)
    return max(t, med + FENCE_K * scale)


def rescale(p: np.ndarray, threshold: float, *, logit_threshold: float | None = None) -> np.ndarray:
    """Map probabilities so the threshold becomes 0.5 (a shift in log-odds keeps the order)."""
    t = float(_logit(threshold)) if logit_threshold is None else logit_threshold
    z = _logit(p) - t
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))


@register
class InjectionDetector(Detector):
    """Flags rows whose strongest window (alone, or jointly with the embedding) reads as an attack."""

    name = "injection"
    order = 4
    run_order = 4
    flags = (RequestFlag("remove_injection", "remove", False, "Remove prompt-injection and jailbreak text."),)
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
        """Row score = max(window score, joint window + embedding score); flagged at 0.5."""
        model = self.model
        n = ctx.n
        win = model.score_texts(ctx.texts)
        t_ng = dataset_threshold(win.score, model.ngram_threshold)
        s_ng = rescale(win.score, model.ngram_threshold, logit_threshold=t_ng)
        t_em: float | None = None
        s_em = np.zeros(n)
        embed_used = False
        if n and ctx.embed is not None and ctx.embeddings.shape[1:] == model.embed_coef.shape:
            embed_used = model.embedder_matches(ctx.embed(model.probe_texts))
        if embed_used:
            p_em = model.embed_probs(ctx.embeddings)
            t_em = dataset_threshold(p_em, model.embed_threshold)
            s_em = rescale(p_em, model.embed_threshold, logit_threshold=t_em)
        joint = np.zeros(n)
        if embed_used:
            joint = 1.0 / (1.0 + np.exp(-np.clip((_logit(s_ng) + _logit(s_em)) / 2, -40, 40)))
        scores = np.maximum(s_ng, joint)
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
            "by_joint_vote_only": int(((joint >= 0.5) & (s_ng < 0.5)).sum()),
            "embedding_model_used": embed_used,
            "window_threshold_logit": round(t_ng, 3),
            "embedding_threshold_logit": None if t_em is None else round(t_em, 3),
        }
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
