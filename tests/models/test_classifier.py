"""The classifier core on a tiny synthetic hierarchical multi-label dataset (no embedding model needed,
except in the one test that goes through the real embedder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sanitas.models import calibration as cal  # noqa: E402
from sanitas.models.classifier import TrainedModel, normalise_labels, train_classifier  # noqa: E402
from sanitas.models.features import VIEWS, TfidfView, make_view  # noqa: E402

TOPICS: dict[tuple[str, ...], list[str]] = {
    ("Billing", "Refund"): ["refund", "money back", "reimburse", "return my payment"],
    ("Billing", "Invoice"): ["invoice", "receipt", "bill copy", "tax document"],
    ("Delivery", "Late"): ["late", "still waiting", "not arrived", "delayed"],
    ("Delivery", "Damaged"): ["broken", "damaged", "smashed", "cracked"],
    ("Praise",): ["thank you", "great service", "love it", "wonderful"],
}
FILLERS = ["please", "today", "order", "hello", "asap", "again", "my", "the", "for", "about"]


def make_dataset(
    n: int, *, seed: int, multi: bool
) -> tuple[list[str], list[list[tuple[str, ...]]], np.ndarray]:
    """Texts from topic phrases plus filler words, their labels, and embeddings near per-topic centroids."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    centroids = np.random.default_rng(1234).normal(size=(len(names), 16))
    texts, labels, embs = [], [], []
    for i in range(n):
        k = [int(rng.integers(len(names)))]
        if multi and i % 4 == 0:  # a quarter of the texts carry two topics
            k.append(int((k[0] + 1 + rng.integers(len(names) - 1)) % len(names)))
        words = [str(rng.choice(TOPICS[names[j]])) for j in k] + list(rng.choice(FILLERS, size=3))
        rng.shuffle(words)
        texts.append(f"{' '.join(words)} #{i}")
        labels.append([names[j] for j in k])
        v = centroids[k].sum(axis=0) + rng.normal(scale=0.8, size=16)
        embs.append(v / np.linalg.norm(v))
    return texts, labels, np.asarray(embs, dtype=np.float32)


@pytest.fixture(scope="module")
def multi() -> tuple[TrainedModel, list[str], list[list[tuple[str, ...]]], np.ndarray]:
    texts, labels, emb = make_dataset(240, seed=0, multi=True)
    model = train_classifier(texts, labels, cache=None, embeddings=emb, seed=0)
    test = make_dataset(60, seed=99, multi=True)
    return model, *test


@pytest.fixture(scope="module")
def single() -> tuple[TrainedModel, list[str], list[list[tuple[str, ...]]], np.ndarray]:
    texts, labels, emb = make_dataset(200, seed=1, multi=False)
    model = train_classifier(texts, labels, cache=None, embeddings=emb, seed=0)
    test = make_dataset(60, seed=98, multi=False)
    return model, *test


def _proba(model: TrainedModel, texts: list[str], emb: np.ndarray) -> dict[tuple[str, ...], np.ndarray]:
    p = model.predict_proba(texts, embeddings=emb)
    return {lb: p[:, j] for j, lb in enumerate(model.labels)}


def test_modes_and_label_space(multi, single) -> None:
    assert not multi[0].exclusive and single[0].exclusive
    for model in (multi[0], single[0]):
        assert model.labels == sorted(set(TOPICS) | {("Billing",), ("Delivery",)})
        assert set(model.thresholds) == set(model.labels) == set(model.metrics["per_label"])


@pytest.mark.parametrize(
    ("parent", "children"),
    [
        (("Billing",), [("Billing", "Refund"), ("Billing", "Invoice")]),
        (("Delivery",), [("Delivery", "Late"), ("Delivery", "Damaged")]),
    ],
)
def test_parents_scored_from_children(multi, single, parent, children) -> None:
    for fixture, exclusive in ((multi, False), (single, True)):
        model, texts, _, emb = fixture
        p = _proba(model, texts, emb)
        kids = np.stack([p[c] for c in children], axis=1)
        if exclusive:
            np.testing.assert_allclose(p[parent], np.minimum(kids.sum(axis=1), 1.0), atol=1e-9)
        else:
            np.testing.assert_allclose(p[parent], 1 - np.prod(1 - kids, axis=1), atol=1e-9)
        assert np.all(p[parent] >= kids.max(axis=1) - 1e-12)


@pytest.mark.parametrize(
    ("label", "present"),
    [
        (("Billing", "Refund"), True),
        (("Billing",), True),
        (("Delivery",), True),
        (("Praise",), True),
        (("Billing", "Refund"), False),
        (("Delivery", "Damaged"), False),
        (("Praise",), False),
    ],
)
def test_thresholds_separate_held_out_texts(multi, label, present) -> None:
    model, texts, labels, emb = multi
    p = _proba(model, texts, emb)[label]
    truth = np.array([any(lb[: len(label)] == label for lb in ls) for ls in labels])
    rows = truth if present else ~truth
    assert rows.sum() >= 3
    decided = p[rows] >= model.thresholds[label]
    # Positives should mostly clear the threshold, negatives mostly stay under it.
    assert (decided.mean() if present else 1 - decided.mean()) >= 0.85
    assert 0.0 < model.thresholds[label] <= 1.0
    stats = model.metrics["per_label"][label]
    assert stats["precision"] >= 0.8 and stats["recall"] >= 0.8 and stats["support"] > 0


def test_single_label_accuracy_and_metrics(single) -> None:
    model, texts, labels, emb = single
    leaves = [
        max((lb for lb, _ in row if lb in model.trained), key=lambda lb: dict(row)[lb])
        for row in model.predict(texts, embeddings=emb)
    ]
    assert np.mean([lf == ls[0] for lf, ls in zip(leaves, labels, strict=True)]) >= 0.9
    assert 0.9 <= model.metrics["top1_accuracy"] <= 1.0 and model.metrics["held_out"]
    assert abs(sum(model.metrics["fusion_weights"]) - 1.0) < 1e-9


def test_deterministic_and_batch_independent(multi) -> None:
    model, texts, _, emb = multi
    again = train_classifier(
        *make_dataset(240, seed=0, multi=True)[:2],
        cache=None,
        embeddings=make_dataset(240, seed=0, multi=True)[2],
        seed=0,
    )
    assert again.predict(texts, embeddings=emb) == model.predict(texts, embeddings=emb)
    alone = [model.predict([t], embeddings=emb[i : i + 1])[0] for i, t in enumerate(texts[:10])]
    assert alone == model.predict(texts[:10], embeddings=emb[:10])
    other_seed = train_classifier(
        *make_dataset(240, seed=0, multi=True)[:2],
        cache=None,
        embeddings=make_dataset(240, seed=0, multi=True)[2],
        seed=1,
    )
    assert other_seed.metrics["validation_size"] > 0
    assert other_seed.predict(texts, embeddings=emb) != model.predict(texts, embeddings=emb)


def test_predict_output_shape(multi) -> None:
    model, texts, _, emb = multi
    rows = model.predict(texts[:3], embeddings=emb[:3], min_probability=0.5)
    for row in rows:
        probs = [p for _, p in row]
        assert probs == sorted(probs, reverse=True) and all(0.5 <= p <= 1 for p in probs)
    full = model.predict(texts[:1], embeddings=emb[:1])[0]
    assert {lb for lb, _ in full} == set(model.labels)
    assert model.predict([], embeddings=emb[:0]) == []
    with pytest.raises(ValueError, match="shape"):
        model.predict_proba(texts[:2], embeddings=emb[:1])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([0.2, 0.5, 0.3], [1, 2, 0]),
        ([0.4, 0.2, 0.4], [0, 2, 1]),  # a tie goes to the label that sorts first
        ([0.1, 0.1, 0.1], [0, 1, 2]),
        ([0.0, 1.0, 0.0], [1, 0, 2]),
    ],
)
def test_predict_orders_by_probability_then_label(
    multi, scores: list[float], expected: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = multi[0]
    wanted = [model.labels[j] for j in expected]
    row = np.zeros(len(model.labels))
    row[:3] = scores
    monkeypatch.setattr(model, "predict_proba", lambda texts, **kw: np.array([row]))
    got = model.predict(["anything"], embeddings=np.zeros((1, 16)))[0]
    assert [lb for lb, _ in got[:3]] == wanted
    assert [p for _, p in got[:3]] == sorted(scores, reverse=True)
    assert all(isinstance(p, float) for _, p in got)


def test_save_load_round_trip(multi, single, tmp_path: Path) -> None:
    for name, (model, texts, _, emb) in (("m", multi), ("s", single)):
        model.save(tmp_path / name)
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["arrays.npz", "model.json"]
        back = TrainedModel.load(tmp_path / name)
        assert back.predict(texts, embeddings=emb) == model.predict(texts, embeddings=emb)
        assert back.thresholds == model.thresholds and back.labels == model.labels
        assert back.metrics["per_label"] == model.metrics["per_label"]
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    doc["format"] = "something-else/9"
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="does not hold"):
        TrainedModel.load(tmp_path / "m")


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], [[("X",)]], "label lists"),
        (["a", "b", "c"], [[("X",)], [("X",)], [("X",)]], "two different labels"),
        (["a", "b"], [[], []], "labelled texts"),
    ],
)
def test_bad_training_input(texts, labels, message) -> None:
    emb = np.eye(len(texts), 8, dtype=np.float32)
    with pytest.raises(ValueError, match=message):
        train_classifier(texts, labels, cache=None, embeddings=emb)


def test_texts_without_labels_are_negatives() -> None:
    texts, labels, emb = make_dataset(120, seed=3, multi=False)
    labels = [ls if ls[0][0] == "Billing" else [] for ls in labels]
    model = train_classifier(texts, labels, cache=None, embeddings=emb)
    assert not model.exclusive and model.labels == [
        ("Billing",),
        ("Billing", "Invoice"),
        ("Billing", "Refund"),
    ]
    p = _proba(model, texts, emb)[("Billing",)]
    truth = np.array([bool(ls) for ls in labels])
    assert p[truth].mean() > 0.7 > 0.3 > p[~truth].mean()


@pytest.mark.parametrize(
    ("assigned", "expected"),
    [
        ([("A",), ("A", "B")], [("A", "B")]),
        ([("A", "B"), ("A", "B"), ("C",)], [("A", "B"), ("C",)]),
        ([["A", "B"], ("A", "C")], [("A", "B"), ("A", "C")]),
        ([(), ("A",)], [("A",)]),
        ([], []),
    ],
)
def test_normalise_labels(assigned, expected) -> None:
    assert normalise_labels(assigned) == expected


@pytest.mark.parametrize(
    ("scores", "truth", "threshold", "f1"),
    [
        ([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0], 0.8, 1.0),
        ([0.9, 0.8, 0.8, 0.1], [1, 0, 1, 0], 0.8, 0.8),
        ([0.9, 0.2, 0.1], [0, 0, 1], 0.1, 0.5),
        ([0.5, 0.4], [0, 0], float("nan"), 0.0),
    ],
)
def test_best_threshold(scores, truth, threshold, f1) -> None:
    t, f = cal.best_threshold(np.array(scores), np.array(truth, dtype=float))
    assert (np.isnan(t) and np.isnan(threshold)) or t == pytest.approx(threshold)
    assert f == pytest.approx(f1)


def test_choose_thresholds_falls_back_to_pooled_for_rare_labels() -> None:
    p = np.array([[0.9, 0.7], [0.8, 0.2], [0.7, 0.1], [0.2, 0.6], [0.1, 0.05]])
    y = np.array([[1, 1], [1, 0], [1, 0], [0, 0], [0, 0]], dtype=float)
    t = cal.choose_thresholds(p, y, min_support=3)
    assert t[0] == pytest.approx(0.7)  # enough positives: its own F1-optimal cut
    pooled, _ = cal.best_threshold(p.ravel(), y.ravel())
    assert t[1] == pytest.approx(pooled) and t[1] != pytest.approx(0.7 if pooled != 0.7 else 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_stratified_and_keeps_every_group(seed) -> None:
    keys = ["a"] * 40 + ["b"] * 10 + ["c"] * 1
    fit, val = cal.split_indices(keys, fraction=0.2, seed=seed)
    assert sorted(np.concatenate([fit, val]).tolist()) == list(range(51))
    assert 50 in fit  # a single-row group stays in the fitting part
    assert 6 <= sum(keys[i] == "a" for i in val) <= 10 and 1 <= sum(keys[i] == "b" for i in val) <= 3
    again = cal.split_indices(keys, fraction=0.2, seed=seed)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(cal.split_indices(keys, fraction=0.2, seed=seed + 10)[1], val)


def test_tfidf_view_round_trip_and_registry() -> None:
    texts = ["card arrived late", "refund my card", "late delivery again"]
    view = TfidfView()
    view.fit(texts, np.zeros((3, 2)))
    meta, arrays = view.state()
    back = TfidfView.from_state(json.loads(json.dumps(meta)), arrays)
    a, b = view.transform(["late card"], np.zeros((1, 2))), back.transform(["late card"], np.zeros((1, 2)))
    assert a.nnz > 0 and (a != b).nnz == 0
    assert view.transform(["zzz qqq"], np.zeros((1, 2))).nnz == 0
    assert set(VIEWS) == {"minilm", "tfidf"}
    with pytest.raises(KeyError, match="unknown feature view"):
        make_view("bag-of-magic")


_CHAR_TEXTS = [
    "card arrived late",
    "Late  CARD\tarrived\nagain",
    "",
    "   ",
    "a",
    "x\u00a0y\u2003z and\x1cgroup separators",
    "İstanbul Straße ÉCOLE ﬁne ǅ",
    "zero\u200bwidth joins",
    "card!!! ?? refund... late-late",
]


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(_CHAR_TEXTS, id="mixed"),
        pytest.param(["late card", "late card", "card"], id="repeated-words"),
        pytest.param(["qqq zzz"], id="no-known-n-gram"),
        pytest.param(["a " * 60], id="one-letter-words"),
        pytest.param([], id="empty-batch"),
    ],
)
def test_char_ngrams_per_word_equal_scikit_learn(texts: list[str]) -> None:
    view = TfidfView()
    view.fit(_CHAR_TEXTS + ["refund my card", "late delivery"], np.zeros((11, 2)))
    vec = view._vectorizer("char", "char_wb", (2, 5))
    for _ in range(2):  # the second pass reads the per-word cache
        got = view._char_wb_counts(vec, texts)
        ref = vec.transform(texts).tocsr()
        ref.sort_indices()
        assert got.shape == ref.shape
        assert np.array_equal(got.indptr, ref.indptr) and np.array_equal(got.indices, ref.indices)
        assert np.array_equal(got.data, ref.data)


@pytest.mark.slow
def test_real_embedder_through_the_cache(tmp_path: Path) -> None:
    from sanitas.embeddings import EmbeddingCache

    texts = [
        f"{w} please"
        for w in (
            "refund my money",
            "give me a refund",
            "I want my money back",
            "my parcel is late",
            "the delivery is delayed",
            "package not arrived",
        )
    ] * 3
    labels = [[("Refund",)] if i % 6 < 3 else [("Late",)] for i in range(len(texts))]
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    seen: list[tuple[int, int, str]] = []
    model = train_classifier(texts, labels, cache=cache, progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen[-1][:2] == (100, 100) and [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    top = model.predict(["where is my refund", "my order has still not arrived"], cache=cache)
    assert [row[0][0] for row in top] == [("Refund",), ("Late",)]


@pytest.mark.parametrize(
    ("exclusive", "classes", "max_iter"),
    [(True, 2, 300), (True, 3, 300), (False, 3, 300), (True, 3, 1), (False, 2, 1)],
)
def test_fit_head_shapes_constant_columns_and_warm_start(exclusive, classes, max_iter) -> None:
    rng = np.random.default_rng(5)
    target = np.arange(60) % classes
    x = np.eye(classes)[target] * 3 + rng.normal(scale=0.3, size=(60, classes))
    y = np.eye(classes + 1)[target]  # the last column is never positive
    if exclusive:
        y = y[:, :classes]
    head = cal.fit_head(x, y, exclusive=exclusive, c=10.0, max_iter=max_iter)
    assert head[0].shape == (classes, y.shape[1]) and head[1].shape == (y.shape[1],)
    scores = cal.head_scores(x, head, exclusive=exclusive)
    assert (scores[:, :classes].argmax(axis=1) == target).mean() >= (0.95 if max_iter > 1 else 0.5)
    if not exclusive:
        assert np.all(scores[:, -1] < -5)  # a label never seen positive stays confidently absent
    if max_iter > 1:  # starting from a converged head lands on the same solution
        again = cal.fit_head(x, y, exclusive=exclusive, c=10.0, init=head)
        np.testing.assert_allclose(cal.head_scores(x, again, exclusive=exclusive), scores, atol=0.05)
