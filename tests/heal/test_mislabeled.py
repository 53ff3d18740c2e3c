"""The mislabeled check's method: exact leave-one-out probabilities, implausible labels, ambiguity."""

from __future__ import annotations

import numpy as np

from sanitas.heal.detectors import DetectorContext, get_detector
from sanitas.heal.engine.mislabel_oof import RIDGE_GRID, oof_probabilities, ridge_loo_scores, wording_features


def _brute_loo(x: np.ndarray, y: np.ndarray, k: int, lam: float) -> np.ndarray:
    xb = np.hstack([x, np.ones((len(x), 1))])
    onehot = np.eye(k)[y]
    out = np.zeros((len(x), k))
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        w = np.linalg.solve(xb[keep].T @ xb[keep] + lam * np.eye(xb.shape[1]), xb[keep].T @ onehot[keep])
        out[i] = xb[i] @ w
    return out


def test_ridge_leave_one_out_is_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    y = rng.integers(0, 3, size=40)
    loo, lam = ridge_loo_scores(x, y, 3)
    assert lam in RIDGE_GRID
    np.testing.assert_allclose(loo, _brute_loo(x, y, 3, lam), atol=1e-8)


def _clusters(rng: np.random.Generator, centres: np.ndarray, sizes: list[int], spread: float) -> np.ndarray:
    pts = np.vstack(
        [c + spread * rng.normal(size=(n, centres.shape[1])) for c, n in zip(centres, sizes, strict=True)]
    )
    return pts / np.linalg.norm(pts, axis=1, keepdims=True)


def test_probabilities_are_out_of_sample_and_calibrated() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16))
    emb = _clusters(rng, centres, [60, 60, 60], 0.3)
    y = np.repeat(np.arange(3), 60)
    y_noisy = y.copy()
    y_noisy[:6] = 1  # six rows of class 0 given label 1
    votes = np.full((180, 3), 1 / 3)
    res = oof_probabilities(emb, y_noisy, votes)
    np.testing.assert_allclose(res.probs.sum(axis=1), 1.0)
    # a row never votes for its own (wrong) label: its true class wins out of sample
    assert (res.probs[:6].argmax(axis=1) == 0).all()
    assert res.probs[np.arange(6), 1].max() < 0.1


def _ctx(texts: list[str], labels: list[str], emb: np.ndarray) -> DetectorContext:
    return DetectorContext(texts=texts, labels=list(labels), embeddings=emb.astype(np.float32))


def test_overlapping_classes_are_ambiguous_not_relabeled() -> None:
    """Two classes drawn from one cloud (labels that overlap by nature) plus a distinct class with flips.

    Rows of the overlapping pair are never relabeled and few are flagged; the genuine flips into the
    distinct class are flagged and relabeled to their true class.
    """
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(2, 16))
    emb = _clusters(rng, centres, [200, 100], 0.25)
    labels = ["pathology" if i % 2 else "general" for i in range(200)] + ["cardiac"] * 100
    flipped = [200 + i for i in range(0, 100, 20)]
    for i in flipped:
        labels[i] = "general"
    texts = [f"row {i}" for i in range(300)]
    res = get_detector("mislabeled").detect(_ctx(texts, labels, emb))
    pair = np.arange(200)
    assert res.flags[pair].sum() <= 4
    assert not any(res.details[i] and res.details[i]["relabel"] for i in pair)
    assert res.summary["ambiguous"] > 0
    assert res.flags[flipped].all()
    assert all(res.details[i]["suggested_label"] == "cardiac" for i in flipped)
    assert all(res.details[i]["relabel"] for i in flipped)


def test_wording_view_finds_flips_the_embedding_cannot_see() -> None:
    """Two classes whose texts differ by one stop word ("on" / "off") and whose embeddings are one cloud:
    only the wording view can tell them apart, and the flipped rows are flagged through it."""
    rng = np.random.default_rng(3)
    rooms = ["kitchen", "hall", "bedroom", "garage", "office", "attic", "porch", "den", "study", "yard"]
    verbs = ["turn", "switch", "put", "flip", "set"]
    texts, labels = [], []
    for i in range(240):
        state = "on" if i % 2 else "off"
        texts.append(f"{verbs[i % 5]} the {rooms[(i // 2) % 10]} lights {state} please {i % 7}")
        labels.append(f"lights_{state}")
    flipped = list(range(0, 240, 24))
    for i in flipped:
        labels[i] = "lights_on" if labels[i] == "lights_off" else "lights_off"
    emb = _clusters(rng, rng.normal(size=(1, 16)), [240], 0.3)
    wording = wording_features(texts)
    assert wording is not None
    y = np.array([lb == "lights_on" for lb in labels], dtype=int)
    votes = np.full((240, 2), 0.5)
    blind = oof_probabilities(emb, y, votes)
    seeing = oof_probabilities(emb, y, votes, wording=wording)
    truth = 1 - y[flipped]
    assert (seeing.probs[flipped].argmax(axis=1) == truth).all()
    assert seeing.weights[1] > 0  # the wording view carries weight
    # the embedding alone cannot separate the classes: it gives no flip its true class with confidence
    assert (blind.probs[flipped, truth] < 0.9).all()
    res = get_detector("mislabeled").detect(_ctx(texts, labels, emb))
    assert res.flags[flipped].sum() >= 8
    assert res.flags.sum() <= len(flipped) + 2
