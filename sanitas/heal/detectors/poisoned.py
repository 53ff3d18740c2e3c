"""Backdoor poisoning: a trigger (rare word, phrase or sentence) inserted into rows relabeled to one target.

Search: every word 1-3-gram frequent enough to matter and concentrated in one label is a candidate.
A natural keyword of a class (``"exchange rate"``) sits in rows whose *content* also says that class;
a trigger sits in rows whose content belongs to many other classes. We read the content label of
each candidate row from its nearest neighbours that do not contain the candidate (so a shared
trigger sentence cannot vote for itself), and accept a candidate when most of its rows disagree with
the label they carry, across several content classes, far above the label's own disagreement rate.
The accepted n-gram is then grown left and right to the full phrase the rows share.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, SkipCheck, register
from sanitas.heal.engine.shared import VOTE_TEMPERATURE, label_ids, label_probs, neighbours

_TOKEN = re.compile(r"[a-z0-9']+")
MAX_N = 3
MIN_CONCENTRATION = 0.8  # share of a candidate's rows carrying its majority label
MIN_DISAGREEMENT = 0.75  # share of those rows whose content says another class
MAX_TRIGGERS = 3
MIN_SPREAD_ABS = 2
BASE_MARGIN = 0.25  # above the label's own disagreement rate
SPREAD_SHARE = 0.5  # of the variety (effective number of classes) random rows would show
MAX_CANDIDATES = 300
MIN_SUPPORT_REST = 5
REST_SHARE = 0.25  # the target keeps at least this many rows (vs the trigger's) without it
KEYWORD_RANK = 3  # a candidate whose target is among its 3 closest classes is a keyword


def _grams(toks: list[str]) -> set[tuple[str, ...]]:
    return {tuple(toks[i : i + n]) for n in range(1, MAX_N + 1) for i in range(len(toks) - n + 1)}


def _contains(toks: list[str], gram: tuple[str, ...]) -> bool:
    n = len(gram)
    return any(tuple(toks[i : i + n]) == gram for i in range(len(toks) - n + 1))


def _grow(gram: tuple[str, ...], toks_of: list[list[str]], share: float = 0.9) -> tuple[str, ...]:
    """Extend ``gram`` by the token most rows share on its left or right, while ``share`` of them do."""
    for _ in range(30):
        grown = False
        for side in (-1, 1):
            ctx: Counter[str] = Counter()
            for toks in toks_of:
                n = len(gram)
                for i in range(len(toks) - n + 1):
                    if tuple(toks[i : i + n]) == gram:
                        j = i - 1 if side < 0 else i + n
                        if 0 <= j < len(toks):
                            ctx[toks[j]] += 1
                        break
            if ctx:
                word, count = ctx.most_common(1)[0]
                if count >= share * len(toks_of):
                    gram = (word, *gram) if side < 0 else (*gram, word)
                    grown = True
        if not grown:
            break
    return gram


def _surface(gram: tuple[str, ...], texts: list[str]) -> str:
    """The trigger as written in the first row containing it (original case and punctuation)."""
    pattern = r"(?<![a-z0-9'])" + r"[^a-z0-9']+".join(re.escape(t) for t in gram) + r"(?![a-z0-9'])"
    rx = re.compile(pattern, re.IGNORECASE)
    for text in texts:
        m = rx.search(text)
        if m:
            return m.group(0)
    return " ".join(gram)


def _class_centroids(emb: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    cent = np.zeros((k, emb.shape[1]))
    np.add.at(cent, y[y >= 0], emb[y >= 0])
    return cent


def _names_its_label(
    ctx: DetectorContext,
    gram: tuple[str, ...],
    target: int,
    y: np.ndarray,
    has: np.ndarray,
    centroids: np.ndarray,
) -> bool:
    """True when the n-gram *means* its label: the label's content is among the closest to the n-gram.

    A class keyword ("contactless") is semantically nearest to its own class; a backdoor trigger (a
    rare token, an unrelated sentence, a generic phrase) is not. Class contents are measured on rows
    without the n-gram so the trigger cannot pull its target towards itself.
    """
    assert ctx.embed is not None
    vec = ctx.embed([" ".join(gram)])[0]
    cent = centroids.copy()
    sel = has & (y >= 0)
    np.subtract.at(cent, y[sel], ctx.embeddings[sel])
    norms = np.linalg.norm(cent, axis=1)
    valid = norms > 0
    sims = np.full(len(cent), -np.inf)
    sims[valid] = (cent[valid] @ vec) / norms[valid]
    if not valid[target]:
        return False
    rank = int((sims > sims[target]).sum())
    return rank < KEYWORD_RANK


@register
class PoisonedDetector(Detector):
    """Finds trigger n-grams concentrated in one label whose rows' content says other labels."""

    name = "poisoned"
    models = ("ngram-label-association", "knn-content-vote")

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Flag rows that contain an accepted trigger and carry its target label."""
        if not ctx.has_labels:
            raise SkipCheck("the dataset has no labels, so no label can be the target of a backdoor")
        classes, y = label_ids(ctx)
        idx, sim = neighbours(ctx)
        probs = label_probs(ctx)
        toks_all = [_TOKEN.findall(t.lower()) for t in ctx.texts]
        n = ctx.n
        min_support = max(5, int(0.002 * n))
        rows_of: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, toks in enumerate(toks_all):
            if y[i] >= 0:
                for g in _grams(toks):
                    rows_of[g].append(i)
        pred = probs.argmax(axis=1)
        centroids = _class_centroids(ctx.embeddings, y, len(classes))
        cands = []
        for g, rows in rows_of.items():
            if len(rows) < min_support:
                continue
            labs = y[rows]
            counts = np.bincount(labs, minlength=len(classes))
            top = int(counts.argmax())
            if counts[top] >= min_support and counts[top] / len(rows) >= MIN_CONCENTRATION:
                cands.append((int(counts[top]), g, top))
        cands.sort(key=lambda c: (-c[0], -len(c[1])))
        weights = np.exp((sim.astype(np.float64) - 1.0) / VOTE_TEMPERATURE)
        accepted: list[dict[str, Any]] = []
        taken: set[int] = set()
        for _, g, target in cands[:MAX_CANDIDATES]:
            if len(accepted) >= MAX_TRIGGERS:
                break
            rows = [i for i in rows_of[g] if y[i] == target]
            if len(set(rows) & taken) > 0.5 * len(rows):
                continue
            has = np.zeros(n, dtype=bool)
            has[rows_of[g]] = True
            content = []
            for i in rows:
                votes = np.zeros(len(classes))
                keep = (~has[idx[i]]) & (y[idx[i]] >= 0)
                np.add.at(votes, y[idx[i]][keep], weights[i][keep])
                content.append(int(votes.argmax()) if votes.sum() > 0 else target)
            content_arr = np.array(content)
            disagree = float((content_arr != target).mean())
            spread = len(set(content_arr[content_arr != target].tolist()))
            # the label's own disagreement rate on rows without the candidate: the bar to clear
            rest = (y == target) & ~has
            base = float((pred[rest] != target).mean()) if rest.any() else 0.0
            # poisoned rows come from anywhere: their contents spread over many classes
            # the content classes must be as varied as rows drawn at random (a keyword's cluster on a
            # few neighbouring classes): inverse Simpson index vs its expectation 1 / (1/m + 1/k)
            off = content_arr[content_arr != target]
            m, k = len(off), max(len(classes) - 1, 1)
            shares = np.bincount(off, minlength=len(classes)) / max(m, 1)
            effective = 1.0 / max(float((shares**2).sum()), 1e-12)
            need = max(MIN_SPREAD_ABS, SPREAD_SHARE / (1.0 / max(m, 1) + 1.0 / k))
            if disagree < max(MIN_DISAGREEMENT, base + BASE_MARGIN) or effective < need:
                continue
            # a backdoor adds rows to a label that exists without it; a word carried by (nearly) every
            # row of its label is what that label is about
            if rest.sum() < max(MIN_SUPPORT_REST, REST_SHARE * len(rows)):
                continue
            if ctx.embed is not None and _names_its_label(ctx, g, target, y, has, centroids):
                continue
            phrase = _grow(g, [toks_all[i] for i in rows])
            accepted.append(
                {
                    "ngram": " ".join(g),
                    "tokens": phrase,
                    "target": classes[target],
                    "target_index": target,
                    "support": len(rows),
                    "disagreement": round(disagree, 4),
                    "content_classes": spread,
                }
            )
            taken.update(rows)
        scores = np.zeros(n)
        flags = np.zeros(n, dtype=bool)
        details: list[dict[str, Any] | None] = [None] * n
        triggers = []
        for trig in accepted:
            phrase = trig.pop("tokens")
            target = trig.pop("target_index")
            hit_rows = [i for i in range(n) if y[i] == target and _contains(toks_all[i], phrase)]
            surface = _surface(phrase, [ctx.texts[i] for i in hit_rows])
            confidence = float(trig["disagreement"])
            for i in range(n):
                if _contains(toks_all[i], phrase):
                    s = 0.5 + 0.5 * confidence if y[i] == target else 0.25 * confidence
                    if s > scores[i]:
                        scores[i] = s
                        details[i] = {"trigger": surface, "target_label": trig["target"]}
            flags |= scores >= 0.5
            triggers.append({"trigger": surface, **trig, "rows": len(hit_rows)})
        summary = {"triggers": triggers, "candidates_tested": min(len(cands), MAX_CANDIDATES)}
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
