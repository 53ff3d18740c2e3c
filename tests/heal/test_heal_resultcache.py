"""The result cache: a re-run of unchanged data recomputes no check; a changed input recomputes
exactly the checks that read it; PII entities are cached per text; a warm run loads no heavy library.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sanitas.heal import pipeline
from sanitas.heal.detectors import CHECKS, DetectorContext, get_detector
from sanitas.heal.detectors.base import Detector, DetectorResult
from sanitas.heal.detectors.sensitive import SensitiveDetector
from sanitas.heal.engine import resultcache
from sanitas.heal.engine.resultcache import CachedCheck, CheckCache, DatasetDigest
from sanitas.heal.pipeline import HealOptions, HealRow, run_heal

REPO = Path(__file__).resolve().parents[2]
LABEL_READERS = {"mislabeled", "outlier", "off_topic", "poisoned"}


class Counting(Detector):
    """Wraps a real detector and counts how often it actually computes."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name = inner.name
        self.depends_on = inner.depends_on
        self.calls = 0

    @property
    def models(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.models

    def cache_params(self) -> dict[str, Any]:
        return self.inner.cache_params()

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        self.calls += 1
        return self.inner.detect(ctx)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counting]:
    """Every check wrapped in a counter; the sensitive one on the model-free patterns."""
    sens = SensitiveDetector()
    sens.backend = "fallback-patterns"
    dets = {name: Counting(sens if name == "sensitive" else get_detector(name)) for name in CHECKS}
    for name, det in dets.items():
        monkeypatch.setitem(pipeline._detectors, name, det)
    return dets


def _rows(clean_rows: list[tuple[str, str]]) -> list[HealRow]:
    rows = [HealRow(id=f"r{i}", text=t, label=lab) for i, (t, lab) in enumerate(clean_rows)]
    rows.append(HealRow(id="pii", text="my card ref7, write to jane.doe@example.com", label="card_arrival"))
    return rows


def _change(rows: list[HealRow], kind: str) -> list[HealRow]:
    out = [HealRow(id=r.id, text=r.text, label=r.label, uid=r.uid) for r in rows]
    if kind == "text":
        out[3].text += " please"
    elif kind == "label":
        out[3].label = "refund_missing" if out[3].label != "refund_missing" else "pin_blocked"
    elif kind == "row added":
        out.append(HealRow(id="new", text="why is my pin locked ref900", label="pin_blocked"))
    return out


@pytest.mark.parametrize(
    ("kind", "recomputed"),
    [
        ("nothing", set()),
        ("text", set(CHECKS)),  # every check reads the texts (or embeddings of them)
        ("label", LABEL_READERS),  # injection and sensitive never read labels
        ("row added", set(CHECKS)),
    ],
)
def test_rerun_recomputes_exactly_what_changed(
    tmp_path: Path, clean_rows, fake_embedder, counting: dict[str, Counting], kind: str, recomputed: set[str]
) -> None:  # noqa: ANN001
    rows = _rows(clean_rows)
    opts = HealOptions(remove_sensitive_information=True)
    first = run_heal(rows, opts, embedder=fake_embedder, cache_dir=tmp_path)
    assert all(d.calls == 1 for d in counting.values())
    second = run_heal(_change(rows, kind), opts, embedder=fake_embedder, cache_dir=tmp_path)
    assert {name for name, d in counting.items() if d.calls == 2} == recomputed
    if kind == "nothing":  # a cached result is the same result
        assert second.scores == first.scores
        assert [d.actions for d in second.decisions] == [d.actions for d in first.decisions]
        assert second.manifest["models"] == first.manifest["models"]


def test_no_cache_dir_means_no_caching(clean_rows, fake_embedder, counting: dict[str, Counting]) -> None:  # noqa: ANN001
    rows = _rows(clean_rows)
    for _ in range(2):
        run_heal(rows, HealOptions(), embedder=fake_embedder)
    assert all(d.calls == 2 for d in counting.values())


def test_cancelled_check_is_not_stored(tmp_path: Path, clean_rows, fake_embedder) -> None:  # noqa: ANN001
    texts = [t for t, _ in clean_rows]
    ctx = DetectorContext(
        texts=texts, labels=[lab for _, lab in clean_rows], embeddings=fake_embedder.encode(texts)
    )
    store = pipeline._CheckStore(tmp_path, ctx)
    store.run(get_detector("outlier"), lambda: True)
    key = store.digest.key("outlier", get_detector("outlier").depends_on, {})
    assert store.cache.get(key) is None
    store.run(get_detector("outlier"), None)
    assert store.cache.get(key) is not None
    store.close()


class FallsBack(Detector):
    """A check whose model fails to load while it runs, so it answers with a fallback."""

    name = "sensitive"
    depends_on = ("texts",)

    def __init__(self, *, falls_back: bool) -> None:
        self.backend = "engine"
        self.falls_back = falls_back
        self.calls = 0

    def cache_params(self) -> dict[str, Any]:
        return {"backend": self.backend}

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        self.calls += 1
        if self.falls_back:
            self.backend = "fallback"
        return DetectorResult(scores=np.zeros(ctx.n), flags=np.zeros(ctx.n, dtype=bool), threshold=0.5)


@pytest.mark.parametrize(("falls_back", "calls"), [(True, 2), (False, 1)])
def test_result_is_kept_only_under_the_parameters_it_was_computed_with(
    tmp_path: Path, clean_rows, fake_embedder, falls_back: bool, calls: int
) -> None:  # noqa: ANN001
    texts = [t for t, _ in clean_rows]
    ctx = DetectorContext(texts=texts, labels=[None] * len(texts), embeddings=fake_embedder.encode(texts))
    store = pipeline._CheckStore(tmp_path, ctx)
    det = FallsBack(falls_back=falls_back)
    for _ in range(2):
        det.backend = "engine"  # each new process plans the engine again
        store.run(det, None)
    store.close()
    assert det.calls == calls


@pytest.mark.parametrize(
    ("change", "same_key"),
    [
        ({}, True),
        ({"params": {"threshold": 0.4}}, False),
        ({"check": "off_topic"}, False),
        ({"texts": ["a", "c"]}, False),
        ({"labels": ["x", "x"]}, True),  # the check does not read labels
        ({"labels": [None, "y"]}, True),
        ({"embeddings": np.eye(2, dtype=np.float32)[::-1]}, False),
    ],
)
def test_key_covers_exactly_the_declared_inputs(change: dict[str, Any], same_key: bool) -> None:
    base: dict[str, Any] = {
        "texts": ["a", "b"],
        "labels": ["x", "y"],
        "embeddings": np.eye(2, dtype=np.float32),
        "check": "injection",
        "params": {"threshold": 0.3},
    }
    args = {**base, **change}

    def key(a: dict[str, Any]) -> bytes:
        return DatasetDigest.of(a["texts"], a["labels"], a["embeddings"]).key(
            a["check"], ("texts", "embeddings"), a["params"]
        )

    assert (key(args) == key(base)) is same_key


@pytest.mark.parametrize(("labels_a", "labels_b"), [([None], [""]), (["ab", "c"], ["a", "bc"])])
def test_label_digest_keeps_values_apart(labels_a: list[str | None], labels_b: list[str | None]) -> None:
    emb = np.zeros((len(labels_a), 2), dtype=np.float32)
    texts = ["t"] * len(labels_a)
    assert (
        DatasetDigest.of(texts, labels_a, emb).labels
        != DatasetDigest.of(texts, labels_b, emb[: len(labels_b)]).labels
    )


def test_source_edit_changes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    d = DatasetDigest.of(["a"], ["x"], np.ones((1, 2), dtype=np.float32))
    before = d.key("outlier", ("texts",), {})
    monkeypatch.setattr(resultcache, "heal_source_digest", lambda: "edited")
    assert d.key("outlier", ("texts",), {}) != before


def test_least_recently_used_entries_are_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resultcache, "MAX_ENTRIES", 2)
    cache = CheckCache(tmp_path / "c.sqlite")
    entry = CachedCheck(
        result=DetectorResult(scores=np.array([0.2, 0.9]), flags=np.array([False, True]), threshold=0.5),
        models=["m"],
    )
    for k in (b"a", b"b"):
        cache.put(k, entry)
    assert cache.get(b"a") is not None  # "a" is now the most recently used
    cache.put(b"c", entry)
    assert cache.get(b"b") is None
    hit = cache.get(b"a")
    assert hit is not None and hit.result.flags.tolist() == [False, True] and hit.models == ["m"]
    cache.close()


class CountingPii(SensitiveDetector):
    """The pattern backend, counting the texts it analyses."""

    def __init__(self) -> None:
        super().__init__()
        self.backend = "fallback-patterns"
        self.analysed: list[str] = []

    def analyze(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        self.analysed += texts
        return super().analyze(texts)


@pytest.mark.parametrize(
    ("second", "analysed"),
    [
        (["mail a@b.org", "no pii here"], []),
        (["mail a@b.org", "call +1 509 417 8271 now"], ["call +1 509 417 8271 now"]),
        (["no pii here", "mail a@b.org"], []),  # order does not matter: keyed by text
    ],
)
def test_pii_entities_are_cached_per_text(
    tmp_path: Path, fake_embedder, second: list[str], analysed: list[str]
) -> None:  # noqa: ANN001
    def ctx(texts: list[str]) -> DetectorContext:
        return DetectorContext(
            texts=texts,
            labels=[None] * len(texts),
            embeddings=fake_embedder.encode(texts),
            cache_dir=tmp_path,
        )

    det = CountingPii()
    first = det.detect(ctx(["mail a@b.org", "no pii here"]))
    det.analysed.clear()
    res = det.detect(ctx(second))
    assert det.analysed == analysed
    assert res.flags.tolist() == [("@" in t or "+1" in t) for t in second]
    assert first.flags.tolist() == [True, False]


WARM_SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys
    from pathlib import Path
    import numpy as np
    from sanitas.heal import pipeline
    from sanitas.heal.detectors.sensitive import SensitiveDetector
    from sanitas.heal.pipeline import HealOptions, HealRow, run_heal

    class Embedder:
        model_id, dim = "toy", 8
        def encode(self, texts, *, batch_size=64):
            out = np.array([np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts])
            out = out.astype(np.float32) + 1.0
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    det = SensitiveDetector()
    det.backend = "fallback-patterns"
    pipeline._detectors["sensitive"] = det
    rows = [HealRow(id=str(i), text=f"where is my card {i % 7} ref{i}", label=f"c{i % 3}") for i in range(60)]
    res = run_heal(rows, HealOptions(), embedder=Embedder(), cache_dir=Path(sys.argv[1]))
    heavy = ("torch", "spacy", "sklearn", "cleanlab", "scipy", "transformers", "sentence_transformers")
    print(json.dumps({"heavy": [m for m in heavy if m in sys.modules], "rows": res.manifest["rows"]}))
    """
)


def test_warm_run_loads_no_heavy_library(tmp_path: Path) -> None:
    """Cold: the checks compute (scikit-learn, cleanlab load). Warm: every result is cached."""
    script = tmp_path / "warm.py"
    script.write_text(WARM_SCRIPT)
    runs = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    cold, warm = runs
    assert "sklearn" in cold["heavy"]  # the cold run really computed
    assert warm["heavy"] == [] and warm["rows"] == 60


def test_source_digest_covers_shipped_weights(tmp_path: Path) -> None:
    """Retrained weights invalidate cached results as an edited detector does."""
    from sanitas.heal.engine.resultcache import source_digest

    pkg = tmp_path / "heal"
    (pkg / "detectors").mkdir(parents=True)
    (pkg / "models").mkdir()
    (pkg / "detectors" / "d.py").write_text("x = 1\n")
    (pkg / "models" / "w.npz").write_bytes(b"one")
    before = source_digest(pkg / "detectors", pkg / "models")
    (pkg / "models" / "w.npz").write_bytes(b"two")
    source_digest.cache_clear()
    assert source_digest(pkg / "detectors", pkg / "models") != before
