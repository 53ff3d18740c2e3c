"""The mislabeled check's method: exact leave-one-out probabilities, implausible labels, ambiguity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax

from sanitas.heal.detectors import DetectorContext, get_detector, mislabeled
from sanitas.heal.engine.mislabel_oof import (
    RIDGE_GRID,
    OofProbabilities,
    _sampled_components,
    _top_components,
    oof_probabilities,
    ridge_loo_scores,
    wording_features,
)
from sanitas.models.calibration import choose_fusion, search_fusion


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
    details = [d or {} for d in res.details]
    assert not any(details[i].get("relabel") for i in pair)
    assert res.summary["ambiguous"] > 0
    assert res.flags[flipped].all()
    assert all(details[i].get("suggested_label") == "cardiac" for i in flipped)
    assert all(details[i].get("relabel") for i in flipped)
    # cleanlab's own prune_by_class leaves every row's probabilities in a module global; the check's
    # blockwise confident learning never fills it
    from cleanlab import filter as cl_filter

    assert not getattr(cl_filter, "pred_probs_by_class", None)
    assert not getattr(cl_filter, "prune_count_matrix_cols", None)


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


def test_fusion_search_finds_the_full_grids_point() -> None:
    """The local search over weights and temperatures lands on the point the full grid scan picks."""
    rng = np.random.default_rng(4)
    for seed in range(6):
        n, k = 300, 5 + seed
        y = rng.integers(0, k, size=n)
        views = []
        for strength in rng.uniform(0.5, 4.0, size=2 + seed % 2):
            logits = rng.normal(size=(n, k)) + strength * np.eye(k)[y]
            views.append(log_softmax(logits, axis=1))
        assert search_fusion(views, y) == choose_fusion(views, np.eye(k)[y], exclusive=True)


def test_fusion_search_keeps_the_first_of_tied_points() -> None:
    """Views that say nothing tie everywhere: the grid scan's first point (and lowest temperature) wins."""
    flat = np.log(np.full((50, 3), 1 / 3))
    y = np.arange(50) % 3
    expected = choose_fusion([flat, flat, flat], np.eye(3)[y], exclusive=True)
    assert search_fusion([flat, flat, flat], y) == expected


def test_wording_components_match_truncated_svd() -> None:
    """The wording view's projection is scikit-learn's randomized TruncatedSVD, up to column signs,
    whether the texts have more terms than rows or fewer."""
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD

    rng = np.random.default_rng(5)
    for rows, terms in ((120, 300), (300, 120), (300, 40)):
        x = sparse.random(rows, terms, density=0.05, random_state=rng, format="csr")
        ref = TruncatedSVD(n_components=20, algorithm="randomized", n_iter=2, random_state=0).fit_transform(x)
        got = _top_components(x, 20)
        signs = np.sign((ref * got).sum(axis=0))
        np.testing.assert_allclose(got * signs, ref, atol=1e-8)


def test_wording_components_of_a_large_set_come_from_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above WORDING_SAMPLE rows the basis is fitted on a sample: float32 features of every row that keep
    nearly all of the energy the exact top components keep (rows beyond the sample use its terms)."""
    from scipy import sparse

    from sanitas.heal.engine import mislabel_oof

    monkeypatch.setattr(mislabel_oof, "WORDING_SAMPLE", 600)
    rng = np.random.default_rng(6)
    topics = rng.random((8, 400)) < 0.04  # eight topics, each a set of terms rows draw from
    rows = [np.flatnonzero(topics[i % 8] & (rng.random(400) < 0.5)) for i in range(3000)]
    x = sparse.csr_matrix(
        (np.ones(sum(len(r) for r in rows)), np.concatenate(rows), np.cumsum([0] + [len(r) for r in rows])),
        shape=(3000, 400),
    )
    got = _sampled_components(x, 20)
    exact = _top_components(x, 20)
    assert got.shape == (3000, 20) and got.dtype == np.float32
    assert (got**2).sum() >= 0.95 * (exact**2).sum()


def test_implausible_level_is_a_bayes_factor_on_the_label_prior() -> None:
    """Few balanced classes: the level is ALPHA. Many classes or a rare class: the probability at which the
    posterior odds are BAYES_FACTOR times the label's prior odds, below ALPHA."""
    few = np.repeat(np.arange(4), 25)
    np.testing.assert_allclose(mislabeled.implausible_level(few, 4), mislabeled.ALPHA)
    many = np.repeat(np.arange(50), 8)
    level = mislabeled.implausible_level(many, 50)
    assert (level < mislabeled.ALPHA).all()
    prior = 1 / 50
    bf = (level / (1 - level)) / (prior / (1 - prior))
    np.testing.assert_allclose(bf, mislabeled.BAYES_FACTOR)
    skewed = np.array([0] * 198 + [1] * 2)  # a class of 1% and one of 99%
    level = mislabeled.implausible_level(skewed, 2)
    assert level[-1] < level[0] == mislabeled.ALPHA


def test_many_classes_ambiguous_rows_are_not_flagged(monkeypatch) -> None:  # noqa: ANN001
    """40 classes of 10 rows. Ten flips give their label 0.005; ten clean rows that fit a second class give
    theirs 0.09 (under ALPHA, yet over three times the 1/40 prior: evidence for the label). Confident
    learning proposes both; only the flips are flagged, the others are reported as ambiguous."""
    k, per = 40, 10
    y = np.repeat(np.arange(k), per)
    flips = np.arange(0, 100, 10)
    ambiguous = np.arange(105, 205, 10)

    def row(given: int, p_given: float, other: float) -> np.ndarray:
        # the rest of the mass spread over the other 38 classes
        r = np.full(k, (1.0 - p_given - other) / (k - 2))
        r[given], r[(given + 1) % k] = p_given, other
        return r

    probs = np.vstack([row(c, 0.7, 0.3 / (k - 1)) for c in y])
    for i in flips:
        probs[i] = row(y[i], 0.005, 0.9)
    for i in ambiguous:
        probs[i] = row(y[i], 0.09, 0.85)
    model = OofProbabilities(probs=probs, ridge=1.0, weights=[1.0], temperature=1.0)
    monkeypatch.setattr(mislabeled, "oof_models", lambda *a, **kw: (m for m in (model, model)))
    rng = np.random.default_rng(6)
    emb = rng.normal(size=(k * per, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = [f"class_{c:02d}" for c in y]
    texts = [f"row {i} of class {c}" for i, c in enumerate(y)]
    res = get_detector("mislabeled").detect(_ctx(texts, labels, emb))
    assert res.flags[flips].all()
    assert not res.flags[ambiguous].any()
    assert res.flags.sum() == len(flips)
    details = [d or {} for d in res.details]
    assert all(details[i].get("ambiguous") for i in ambiguous)
    assert (res.scores[flips] > 0.5).all() and (res.scores[ambiguous] < 0.5).all()


def test_a_tie_with_the_given_label_suggests_the_other_class(monkeypatch) -> None:  # noqa: ANN001
    """20 classes; a row gives its own label and one other 0.08 each (argmax picks its own): flagged,
    and the suggestion is the other class, never the given label back."""
    k, per = 20, 10
    y = np.repeat(np.arange(k), per)
    probs = np.full((k * per, k), 0.1 / (k - 1))
    probs[np.arange(k * per), y] = 0.9
    probs[0] = (1.0 - 0.16) / (k - 2)
    probs[0, 0] = probs[0, 5] = 0.08
    model = OofProbabilities(probs=probs, ridge=1.0, weights=[1.0], temperature=1.0)
    monkeypatch.setattr(mislabeled, "oof_models", lambda *a, **kw: (m for m in (model, model)))
    # confident learning proposing the row (its count on one row of 200 is not what is tested here)
    monkeypatch.setattr(mislabeled, "_cl_issues", lambda pl, yl: pl[np.arange(len(yl)), yl] < 0.5)
    rng = np.random.default_rng(9)
    emb = rng.normal(size=(k * per, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = [f"class_{c:02d}" for c in y]
    res = get_detector("mislabeled").detect(_ctx([f"row {i}" for i in range(k * per)], labels, emb))
    assert res.flags[0] and res.details[0] is not None
    assert res.details[0]["suggested_label"] == "class_05" and not res.details[0]["relabel"]


def test_content_against_its_label_is_flagged_without_a_proposal(monkeypatch) -> None:  # noqa: ANN001
    """40 classes of 10 rows (prior 0.025). Confident learning proposes nothing. A row whose label gets
    0.01 (posterior odds under the prior odds: evidence against the label) is flagged; one at 0.05
    (implausible, yet twice the prior) with no class holding the majority (0.45) needs a proposal and is
    not; one at 0.05 whose other class holds the majority (0.6) is flagged."""
    k, per = 40, 10
    y = np.repeat(np.arange(k), per)
    probs = np.full((k * per, k), 0.1 / (k - 1))
    probs[np.arange(k * per), y] = 0.9
    against, weak, majority = 0, 10, 20
    for i, p_given, other in ((against, 0.01, 0.45), (weak, 0.05, 0.45), (majority, 0.05, 0.6)):
        probs[i] = (1.0 - p_given - other) / (k - 2)
        probs[i, y[i]], probs[i, (y[i] + 1) % k] = p_given, other
    level = mislabeled.implausible_level(y, k)
    assert probs[weak, y[weak]] <= level[weak]  # implausible at the Bayes factor of 3
    model = OofProbabilities(probs=probs, ridge=1.0, weights=[1.0], temperature=1.0)
    monkeypatch.setattr(mislabeled, "oof_models", lambda *a, **kw: (m for m in (model, model)))
    monkeypatch.setattr(mislabeled, "_cl_issues", lambda pl, yl: np.zeros(len(yl), dtype=bool))
    rng = np.random.default_rng(10)
    emb = rng.normal(size=(k * per, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = [f"class_{c:02d}" for c in y]
    res = get_detector("mislabeled").detect(_ctx([f"row {i}" for i in range(k * per)], labels, emb))
    assert res.flags[against] and res.flags[majority] and not res.flags[weak]
    assert res.flags.sum() == 2 and res.summary["flagged_without_proposal"] == 2
    assert res.summary["flagged_by_majority_alone"] == 1
    detail = res.details[against] or {}
    assert detail["suggested_label"] == "class_01" and not detail["relabel"] and not detail["ambiguous"]
    # 0.6 is far below the confidence a relabel needs (that of a typical confirmed row, 0.9): only flagged
    assert (res.details[majority] or {})["suggested_label"] == "class_03"
    assert not (res.details[majority] or {})["relabel"]
    # proposed by confident learning, the weaker row is flagged too
    monkeypatch.setattr(mislabeled, "_cl_issues", lambda pl, yl: pl[np.arange(len(yl)), yl] < 0.5)
    res = get_detector("mislabeled").detect(_ctx([f"row {i}" for i in range(k * per)], labels, emb))
    assert res.flags[against] and res.flags[weak] and res.flags[majority]


def test_a_majority_needs_classmates_and_more_than_half(monkeypatch) -> None:  # noqa: ANN001
    """The majority rule, at its edges: a row of a class with one other row (the leave-one-out model never
    saw its class) is not flagged by it, nor is a row whose other class holds exactly half; a row whose
    other class holds 0.51 is."""
    k = 40
    y = np.concatenate([np.repeat(np.arange(k - 1), 10), [k - 1, k - 1]])  # the last class: two rows
    n = len(y)
    probs = np.full((n, k), 0.1 / (k - 1))
    probs[np.arange(n), y] = 0.9
    lonely, half, above = n - 1, 0, 10
    # the two-row class's prior is 1/196, so its row needs 0.01 to be implausible
    for i, given, other in ((lonely, 0.01, 0.6), (half, 0.05, 0.5), (above, 0.05, 0.51)):
        probs[i] = (1.0 - given - other) / (k - 2)
        probs[i, y[i]], probs[i, (y[i] + 1) % k] = given, other
    model = OofProbabilities(probs=probs, ridge=1.0, weights=[1.0], temperature=1.0)
    monkeypatch.setattr(mislabeled, "oof_models", lambda *a, **kw: (m for m in (model, model)))
    monkeypatch.setattr(mislabeled, "_cl_issues", lambda pl, yl: np.zeros(len(yl), dtype=bool))
    rng = np.random.default_rng(11)
    emb = rng.normal(size=(n, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = [f"class_{c:02d}" for c in y]
    res = get_detector("mislabeled").detect(_ctx([f"row {i}" for i in range(n)], labels, emb))
    level = mislabeled.implausible_level(y, k)
    assert all(probs[i, y[i]] <= level[i] for i in (lonely, half, above))
    assert res.flags[above] and not res.flags[half] and not res.flags[lonely]
    assert res.flags.sum() == 1
