"""Read-ahead: after a cold fetch, the next batch is predicted in the background, with the same values.

Uses a real model (trained here on the bundled MiniLM), since read-ahead only matters when predictions
are computed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sanitas.db import Database
from sanitas.models.tables import ModelVersion, Prediction
from sanitas.sources.text import comment_text
from sanitas.streams import readahead
from sanitas.timeutil import utcnow
from tests.streams.helpers import BASE, comment, create_stream, fetch, make_dataset, seed_model, upload

classifier = pytest.importorskip("sanitas.models.classifier")

TEXTS = {
    "Card": ["my card was declined", "card payment failed", "the card does not work abroad"],
    "Refund": ["I want my money back", "please refund the order", "when will the refund arrive"],
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-label model, trained once for the module."""
    texts, labels = [], []
    for label, items in TEXTS.items():
        for rep in range(4):
            texts += [f"{t} (case {rep})" for t in items]
            labels += [[(label,)]] * len(items)
    path = tmp_path_factory.mktemp("model") / "1"
    classifier.train_classifier(texts, labels, cache=None, seed=0).save(path)
    return path


@pytest.fixture(autouse=True)
def window_of_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests read ahead exactly one batch of 2 (the window's own tests set it again)."""
    monkeypatch.setattr(readahead, "MIN_WINDOW", 2)


def _setup(client: TestClient, db: Database, model_dir: Path, n: int = 8) -> str:
    make_dataset(client, labels=[["Card"], ["Refund"]])
    dataset_id = str(client.get(BASE).json()["dataset"]["id"])
    with db.write() as s:
        s.add(
            ModelVersion(
                dataset_id=dataset_id,
                version=1,
                job_id="test",
                branch_id=None,
                path=str(model_dir),
                pinned=True,
                labels=[["Card"], ["Refund"]],
                metrics={},
                thresholds={},
                trained_on=24,
                created_at=utcnow(),
            )
        )
    if n:
        upload(client, [comment(i) for i in range(n)])
    return dataset_id


def _stored(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Prediction)) or 0)


def _labels(batch: dict[str, Any]) -> list[Any]:
    return [(r["comment"]["id"], r["labels"]) for r in batch["results"]]


@pytest.mark.parametrize(("setting", "stored_after_first_fetch"), [("1", 4), ("0", 2)])
def test_cold_fetch_predicts_the_next_batch_ahead(
    client: TestClient,
    db: Database,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    stored_after_first_fetch: int,
) -> None:
    monkeypatch.setenv("SANITAS_STREAM_READAHEAD", setting)
    _setup(client, db, model_dir)
    create_stream(client, model={"version": 1})
    first = fetch(client, size=2)
    readahead.wait_idle()
    assert _stored(db) == stored_after_first_fetch
    client.post(f"{BASE}/streams/s/advance", json={"sequence_id": first["sequence_id"]})
    second = fetch(client, size=2)
    readahead.wait_idle()
    # Whether computed ahead or on demand, the values are the model's own.
    model = classifier.TrainedModel.load(model_dir)
    texts = [comment_text(comment(i)["messages"]) for i in (2, 3)]
    expected = [[{"name": list(n), "probability": p} for n, p in row] for row in model.predict(texts)]
    assert [labels for _, labels in _labels(second)] == expected
    # Read-ahead goes on while the stream is cold: the batch after the second is stored too.
    assert _stored(db) == (6 if setting == "1" else 4)


@pytest.mark.parametrize(
    ("window", "stored"),
    [
        # (minimum window, predictions stored after each of three fetches of 2, advancing between)
        (2, [4, 6, 8]),  # one batch ahead per fetch
        (4, [6, 8, 10]),  # 2 + 4 ahead; then 2 of the next 4 missing is half: computed
        (6, [8, 8, 12]),  # 2 + 6 ahead; 2 of 6 missing is under half: waits; then 4 of 6 is not
    ],
)
def test_read_ahead_window_is_wide_and_computed_when_half_missing(
    client: TestClient,
    db: Database,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    stored: list[int],
) -> None:
    monkeypatch.setattr(readahead, "MIN_WINDOW", window)
    _setup(client, db, model_dir, n=12)
    create_stream(client, model={"version": 1})
    seen = []
    for _ in stored:
        batch = fetch(client, size=2)
        readahead.wait_idle()
        seen.append(_stored(db))
        client.post(f"{BASE}/streams/s/advance", json={"sequence_id": batch["sequence_id"]})
    assert seen == stored


def test_no_read_ahead_over_cached_predictions(client: TestClient, db: Database, model_dir: Path) -> None:
    dataset_id = _setup(client, db, model_dir, n=0)
    # Version 2 has stored predictions for comments 0 and 1; 2 and 3 have none.
    seed_model(db, dataset_id, 2, {"0": {("Card",): 0.9}, "1": {("Refund",): 0.8}})
    with db.write() as s:
        s.get(ModelVersion, (dataset_id, 2)).path = str(model_dir)  # type: ignore[union-attr]
    upload(client, [comment(i) for i in range(4)])
    before = _stored(db)
    create_stream(client, model={"version": 2})
    batch = fetch(client, size=2)
    readahead.wait_idle()
    assert [lb[0]["name"] for _, lb in _labels(batch)] == [["Card"], ["Refund"]]
    assert _stored(db) == before  # nothing computed, nothing read ahead


def test_refetch_after_read_ahead_is_byte_identical(
    client: TestClient, db: Database, model_dir: Path
) -> None:
    _setup(client, db, model_dir)
    create_stream(client, model={"version": 1})
    first = fetch(client, size=2)
    client.post(f"{BASE}/streams/s/advance", json={"sequence_id": first["sequence_id"]})
    one = client.post(f"{BASE}/streams/s/fetch", json={"size": 2}).content
    readahead.wait_idle()
    assert client.post(f"{BASE}/streams/s/fetch", json={"size": 2}).content == one


def test_two_readers_compute_each_comment_once(
    client: TestClient, db: Database, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sanitas.models import service

    dataset_id = _setup(client, db, model_dir, n=0)
    computed: list[int] = []
    started = threading.Event()
    real = service._compute

    def counting(path: str, items: Any) -> Any:
        computed.append(len(items))
        started.set()
        time.sleep(0.3)  # the second reader arrives while this work is in flight
        return real(path, items)

    monkeypatch.setattr(service, "_compute", counting)
    items = [service.Item(f"h{i}", f"my card was declined {i}") for i in range(6)]
    version = service.PinnedVersion(dataset_id, 1, str(model_dir))
    results: list[dict[str, tuple[str, str]]] = []

    def read() -> None:
        with db.read() as s:
            results.append(service.predictions(db=db, session=s, version=version, items=items))

    first = threading.Thread(target=read)
    first.start()
    assert started.wait(60)
    read()
    first.join()
    assert computed == [6]
    assert results[0] == results[1] and len(results[0]) == 6


def test_background_work_never_waits_for_a_reader_queued_behind_it(
    client: TestClient, db: Database, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-ahead runs on the prediction thread; a reader's own computation may be queued behind it
    there. Waiting for that reader would stall both (until a timeout, then compute twice)."""
    from sanitas.models import inflight, service

    dataset_id = _setup(client, db, model_dir, n=0)
    monkeypatch.setattr(service, "_WAIT_SECONDS", 5.0)  # what a stall would cost, instead of 300 s
    computed: list[list[str]] = []
    real = service._compute

    def counting(path: str, items: Any) -> Any:
        computed.append(sorted(i.content_hash for i in items))
        return real(path, items)

    monkeypatch.setattr(service, "_compute", counting)
    version = service.PinnedVersion(dataset_id, 1, str(model_dir))
    items = [service.Item(f"h{i}", f"my card was declined {i}") for i in range(4)]
    gate = threading.Event()
    busy = inflight.submit(lambda: gate.wait(30))  # the prediction thread is busy ...

    def background() -> int:
        with db.read() as s:
            return service.precompute(db=db, session=s, version=version, items=items)

    queued = inflight.submit(background)  # ... a read-ahead is queued behind that ...
    results: list[dict[str, tuple[str, str]]] = []

    def reader() -> None:
        with db.read() as s:
            results.append(service.predictions(db=db, session=s, version=version, items=items[:2]))

    thread = threading.Thread(target=reader)  # ... and a reader claims two of its comments
    thread.start()
    deadline = time.monotonic() + 30
    while len(service.INFLIGHT) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    assert busy.result(30)
    assert queued.result(60) == 4
    thread.join(60)
    assert computed == [["h2", "h3"], ["h0", "h1"]]  # each comment once: the read-ahead its own two
    assert sorted(results[0]) == ["h0", "h1"]


def test_drain_drops_queued_work_and_waits_for_the_running_one() -> None:
    started, gate, ran = threading.Event(), threading.Event(), []

    def running() -> int:
        started.set()
        gate.wait(10)
        ran.append("running")
        return 0

    def queued() -> int:
        ran.append("queued")
        return 0

    assert readahead.schedule(("drain", 1), "drain", running)
    assert readahead.schedule(("drain", 2), "drain", queued)
    assert not readahead.schedule(("drain", 2), "drain", queued)  # already pending
    assert started.wait(10)
    threading.Timer(0.2, gate.set).start()
    readahead.drain()
    assert ran == ["running"]
    assert readahead.schedule(("drain", 2), "drain", queued)  # nothing pending any more
    readahead.wait_idle()
    assert ran == ["running", "queued"]
