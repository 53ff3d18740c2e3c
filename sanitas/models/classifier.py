"""Training and prediction core of a model version (the Re:infer ``labellers`` routes).

Each text is read by several feature views (the MiniLM sentence embedding and TF-IDF word/char n-grams);
a logistic regression is trained per view and their scores are fused late, with view weights and a
temperature chosen on a held-out split. Labels are tuples (``("Parent", "Child")``); parents are scored
from their descendants and their own assignments. The held-out split also yields per-label thresholds
and precision/recall, stored with the model. The final heads are refitted on all the data.

When every text carries exactly one label the labels are treated as mutually exclusive (one softmax);
otherwise each label gets its own binary model (multi-label).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.embeddings import EmbeddingCache, embed_texts, get_embedder
from sanitas.embeddings.embedder import Embedder
from sanitas.models import calibration as cal
from sanitas.models.calibration import Label
from sanitas.models.features import VIEWS, FeatureView, make_view

FORMAT = "sanitas-classifier/1"
DEFAULT_VIEWS = ("minilm", "tfidf")
Progress = Callable[[int, int, str], None]


def normalise_labels(assigned: Sequence[Sequence[str]]) -> list[Label]:
    """Distinct labels of one text, dropping any that is an ancestor of another one it carries."""
    uniq = {tuple(str(p) for p in lb) for lb in assigned if len(lb) > 0}
    return sorted(lb for lb in uniq if not any(o != lb and o[: len(lb)] == lb for o in uniq))


def _label_key(label: Label) -> str:
    return " > ".join(label)


@dataclass
class TrainedModel:
    """A trained classifier: views, one linear head per view, fusion, thresholds and validation metrics.

    ``labels`` are every label it scores (trained labels and their parents), sorted; ``thresholds`` and
    ``metrics["per_label"]`` are keyed by label tuple.
    """

    trained: list[Label]
    exclusive: bool
    views: list[FeatureView]
    heads: list[cal.Head]
    weights: list[float]
    temperature: float
    thresholds: dict[Label, float]
    metrics: dict[str, Any]
    embedding_dim: int
    labels: list[Label] = field(init=False)
    _members: list[list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.labels, self._members = cal.hierarchy(self.trained)

    def predict_proba(
        self,
        texts: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        cache: EmbeddingCache | None = None,
        embedder: Embedder | None = None,
    ) -> np.ndarray:
        """Probabilities, shape ``(len(texts), len(self.labels))``; embeddings are computed unless given."""
        if embeddings is None:
            embeddings = embed_texts(list(texts), cache=cache, embedder=embedder)
        if embeddings.shape != (len(texts), self.embedding_dim):
            raise ValueError(
                f"expected embeddings of shape ({len(texts)}, {self.embedding_dim}), got {embeddings.shape}"
            )
        scores = [
            cal.head_scores(v.transform(texts, embeddings), h, exclusive=self.exclusive)
            for v, h in zip(self.views, self.heads, strict=True)
        ]
        p = cal.fused_probabilities(scores, self.weights, self.temperature, exclusive=self.exclusive)
        return cal.aggregate(p, self._members, exclusive=self.exclusive)

    def predict(
        self,
        texts: Sequence[str],
        *,
        embeddings: np.ndarray | None = None,
        cache: EmbeddingCache | None = None,
        min_probability: float = 0.0,
    ) -> list[list[tuple[Label, float]]]:
        """Per text, ``(label, probability)`` for every label at or above ``min_probability``, most
        probable first (ties by label). Probabilities are rounded to 6 decimals so that tiny
        floating-point differences between batch sizes never change a result."""
        if not texts:
            return []
        p = np.round(self.predict_proba(texts, embeddings=embeddings, cache=cache), 6)
        # ``self.labels`` is sorted, so a stable sort on the negated scores breaks ties by label.
        orders = np.argsort(-p, axis=1, kind="stable").tolist()
        labels = self.labels
        out = []
        for row, order in zip(p.tolist(), orders, strict=True):
            out.append([(labels[j], row[j]) for j in order if row[j] >= min_probability])
        return out

    def save(self, directory: Path) -> None:
        """Write ``model.json`` (settings, labels, thresholds, metrics) and ``arrays.npz`` (weights)."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        views_meta = []
        for i, (view, (w, b)) in enumerate(zip(self.views, self.heads, strict=True)):
            meta, view_arrays = view.state()
            views_meta.append({"name": view.name, "state": meta})
            arrays.update({f"view{i}_{k}": v for k, v in view_arrays.items()})
            arrays[f"head{i}_w"], arrays[f"head{i}_b"] = w, b
        metrics = dict(self.metrics)
        metrics["per_label"] = [{"label": list(k), **v} for k, v in self.metrics.get("per_label", {}).items()]
        doc = {
            "format": FORMAT,
            "trained": [list(lb) for lb in self.trained],
            "exclusive": self.exclusive,
            "views": views_meta,
            "weights": self.weights,
            "temperature": self.temperature,
            "thresholds": [[list(k), v] for k, v in self.thresholds.items()],
            "metrics": metrics,
            "embedding_dim": self.embedding_dim,
        }
        np.savez_compressed(directory / "arrays.npz", allow_pickle=False, **arrays)
        (directory / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> TrainedModel:
        """Read a model written by :meth:`save` (no pickled objects are loaded)."""
        doc = json.loads((directory / "model.json").read_text())
        if doc.get("format") != FORMAT:
            raise ValueError(f"{directory} does not hold a {FORMAT} model")
        with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        views: list[FeatureView] = []
        heads: list[cal.Head] = []
        for i, spec in enumerate(doc["views"]):
            prefix = f"view{i}_"
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            views.append(VIEWS[spec["name"]].from_state(spec["state"], own))
            heads.append((arrays[f"head{i}_w"], arrays[f"head{i}_b"]))
        metrics = dict(doc["metrics"])
        metrics["per_label"] = {tuple(m.pop("label")): m for m in metrics.get("per_label", [])}
        return cls(
            trained=[tuple(lb) for lb in doc["trained"]],
            exclusive=bool(doc["exclusive"]),
            views=views,
            heads=heads,
            weights=[float(w) for w in doc["weights"]],
            temperature=float(doc["temperature"]),
            thresholds={tuple(k): float(v) for k, v in doc["thresholds"]},
            metrics=metrics,
            embedding_dim=int(doc["embedding_dim"]),
        )


def _fit_heads(
    views: Sequence[FeatureView],
    xs: Sequence[Any],
    y: np.ndarray,
    *,
    exclusive: bool,
    c: dict[str, float],
    init: Sequence[cal.Head] | None = None,
) -> list[cal.Head]:
    def one(i: int) -> cal.Head:
        view = views[i]
        strength = c.get(view.name, type(view).default_c)
        return cal.fit_head(xs[i], y, exclusive=exclusive, c=strength, init=init[i] if init else None)

    # The heads are independent and their solvers spend most of their time outside the GIL (BLAS, sparse
    # products), so fitting them side by side uses both cores when they are free; results do not depend
    # on the scheduling.
    with ThreadPoolExecutor(max_workers=max(1, len(views))) as pool:
        return list(pool.map(one, range(len(views))))


def train_classifier(
    texts: Sequence[str],
    labels: Sequence[Sequence[Sequence[str]]],
    *,
    cache: EmbeddingCache | None,
    progress: Progress | None = None,
    seed: int = 0,
    embeddings: np.ndarray | None = None,
    embedder: Embedder | None = None,
    views: Sequence[str] = DEFAULT_VIEWS,
    c: dict[str, float] | None = None,
    val_fraction: float = 0.15,
) -> TrainedModel:
    """Train a classifier on ``texts`` and their hierarchical labels (several per text allowed).

    ``progress(done, total, stage)`` reports percent done. ``embeddings`` skips embedding when the caller
    already has them; ``c`` overrides a view's regularisation. Raises ``ValueError`` on unusable input.
    """
    started = time.perf_counter()
    report = progress or (lambda done, total, stage: None)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} label lists")
    assigned = [normalise_labels(ls) for ls in labels]
    trained = sorted({lb for ls in assigned for lb in ls})
    exclusive = all(len(ls) == 1 for ls in assigned)
    if len(trained) < 2 and exclusive:
        raise ValueError("training needs at least two different labels (or texts without labels)")
    if not trained:
        raise ValueError("training needs labelled texts")
    col = {lb: j for j, lb in enumerate(trained)}
    y = np.zeros((len(texts), len(trained)), dtype=np.float64)
    for i, ls in enumerate(assigned):
        y[i, [col[lb] for lb in ls]] = 1.0

    if embeddings is None:
        emb_model = embedder or get_embedder()
        embeddings = embed_texts(
            list(texts),
            cache=cache,
            embedder=emb_model,
            progress=lambda done, total: report(int(60 * done / max(total, 1)), 100, "embedding"),
        )
    embed_s = time.perf_counter() - started
    report(60, 100, "fitting on the training split")

    fit_idx, val_idx = cal.split_indices(
        ["|".join(map(_label_key, ls)) for ls in assigned], fraction=val_fraction, seed=seed
    )
    held_out = len(val_idx) > 0
    if not held_out:  # too small to hold anything out: metrics describe the training data
        val_idx = fit_idx
    c = c or {}
    # Views learn only from the texts (vocabulary, IDF), never from labels, so they are fitted once on all
    # of them; that keeps the feature space fixed and lets the final heads start from the split's heads.
    fitted = [make_view(name) for name in views]
    for view in fitted:
        view.fit(texts, embeddings)
    xs = [view.transform(texts, embeddings) for view in fitted]
    split_heads = _fit_heads(fitted, [x[fit_idx] for x in xs], y[fit_idx], exclusive=exclusive, c=c)
    scores = [
        cal.head_scores(x[val_idx], h, exclusive=exclusive) for x, h in zip(xs, split_heads, strict=True)
    ]
    weights, temperature = cal.choose_fusion(scores, y[val_idx], exclusive=exclusive)
    p_val = cal.fused_probabilities(scores, weights, temperature, exclusive=exclusive)
    report(75, 100, "choosing thresholds")

    all_labels, members = cal.hierarchy(trained)
    y_all = cal.aggregate(y, members, exclusive=False)
    p_all = cal.aggregate(p_val, members, exclusive=exclusive)
    thresholds = cal.choose_thresholds(p_all, y_all[val_idx])
    metrics = cal.label_metrics(p_all, y_all[val_idx], thresholds, all_labels)
    if exclusive:
        metrics["top1_accuracy"] = float((p_val.argmax(axis=1) == y[val_idx].argmax(axis=1)).mean())
    metrics.update(
        {
            "validation_size": int(len(val_idx)),
            "held_out": held_out,
            "views": list(views),
            "fusion_weights": weights,
            "temperature": temperature,
            "exclusive": exclusive,
        }
    )

    report(80, 100, "refitting on all data")
    final_heads = _fit_heads(fitted, xs, y, exclusive=exclusive, c=c, init=split_heads)
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    metrics["embed_seconds"] = round(embed_s, 3)
    report(100, 100, "done")
    return TrainedModel(
        trained=trained,
        exclusive=exclusive,
        views=fitted,
        heads=final_heads,
        weights=weights,
        temperature=temperature,
        thresholds={lb: float(t) for lb, t in zip(all_labels, thresholds, strict=True)},
        metrics=metrics,
        embedding_dim=int(embeddings.shape[1]),
    )
