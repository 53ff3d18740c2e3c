"""The cold part of the streams benchmark: a real pinned model over comments with nothing predicted yet.

Used by ``bench/streams_bench.py``; compares the stream's rate with the embedder's own rate. Like the
other benchmarks it reads data beside the project, not in the repository: BANKING77 from
``../shared/data/banking77`` (``SANITAS_SHARED`` overrides the ``../shared`` folder).
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from sanitas.datasets.schemas import DatasetFields
from sanitas.datasets.service import append_to_datasets, attach_source, put_dataset
from sanitas.db import Database
from sanitas.models.tables import ModelVersion
from sanitas.sources.schemas import SourceFields
from sanitas.sources.service import put_source
from sanitas.sources.tables import Comment
from sanitas.sources.text import comment_text

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2025, 1, 1, tzinfo=UTC)
COLD_VERSIONS = 4


def shared_dir() -> Path:
    """``../shared`` beside the project (``SANITAS_SHARED`` overrides)."""
    return Path(os.environ.get("SANITAS_SHARED", ROOT.parent / "shared"))


def build_cold(db: Database, home: Path, n: int) -> list[str]:
    """Dataset ``cold``: ``n`` unique BANKING77 texts, one real model pinned as several versions.

    The model is trained on the first 2,000 rows of the train split (``train_classifier``, as a model
    job does) and nothing is predicted ahead, so the stream computes every prediction while it is read.
    The texts are the test split's distinct texts, then the rest of the train split's, none of them
    among the 2,000 the model saw (about 11,000 in all). Returns them.
    """
    import csv

    from sanitas.embeddings import get_embedder
    from sanitas.models.classifier import train_classifier

    data = shared_dir() / "data" / "banking77"
    with (data / "train.csv").open() as f:
        rows = list(csv.DictReader(f))
    train, unseen = rows[:2000], [r["text"] for r in rows[2000:]]
    with (data / "test.csv").open() as f:
        test = [r["text"] for r in csv.DictReader(f)]
    seen = {r["text"] for r in train}
    texts = [t for t in dict.fromkeys(test + unseen) if t not in seen][:n]
    get_embedder()
    model = train_classifier(
        [r["text"] for r in train], [[(r["category"],)] for r in train], cache=None, seed=0
    )
    path = home / "models" / "cold" / "1"
    model.save(path)
    with db.write() as s:
        src, _ = put_source(session=s, project="bench", name="mail-cold", fields=SourceFields())
        labels = sorted({r["category"] for r in train})
        fields = DatasetFields.model_validate({"label_defs": [{"name": [lb]} for lb in labels]})
        ds, _ = put_dataset(session=s, project="bench", name="cold", fields=fields)
        attach_source(session=s, dataset=ds, source_id=src.id)
        when = START
        rows = []
        for i, t in enumerate(texts):
            msgs = [{"body": {"text": t}}]
            rows.append(
                {
                    "source_id": src.id,
                    "id": f"cold{i:06d}",
                    "thread_id": None,
                    "timestamp": START,
                    "body": {"timestamp": "2025-01-01T00:00:00.000000Z", "messages": msgs},
                    "content_hash": hashlib.sha256(t.encode()).hexdigest(),
                    "text": comment_text(msgs),
                    "created_at": when,
                    "last_modified": when,
                }
            )
        pks = [
            pk
            for (pk,) in s.execute(insert(Comment).returning(Comment.pk, sort_by_parameter_order=True), rows)
        ]
        append_to_datasets(session=s, source_id=src.id, comment_pks=pks, created_at=when)
        # Versions 2-4 are the same model under other numbers: predictions are cached per version, so
        # each version's pass over the same comments is cold again (repeated runs, busy consumer).
        for version in range(1, COLD_VERSIONS + 1):
            s.add(
                ModelVersion(
                    dataset_id=ds.id,
                    version=version,
                    job_id="bench-cold",
                    branch_id=None,
                    path=str(path),
                    pinned=True,
                    labels=[[lb] for lb in labels],
                    metrics={},
                    thresholds={},
                    trained_on=len(train),
                    created_at=datetime.now(UTC),
                )
            )
    return texts


def embedding_rate(texts: list[str], window: int | None = None) -> float:
    """Texts/s of the embedder alone, in this process, with no cache (what a cold stream must match).

    Measured on the very texts the stream embedded: the server never caches embeddings on that path
    and runs in another process, so nothing is reused, and the two rates see the same lengths. With
    ``window``, the texts are embedded that many at a time, as a stream reading batches of that size
    gets them (the embedder then sorts and batches within each window only).
    """
    from sanitas.embeddings import embed_texts, get_embedder

    embedder = get_embedder()
    embed_texts(texts[:64], cache=None, embedder=embedder)  # first-call costs are not the rate
    step = window or len(texts)
    t0 = time.perf_counter()
    for start in range(0, len(texts), step):
        embed_texts(texts[start : start + step], cache=None, embedder=embedder)
    return len(texts) / (time.perf_counter() - t0)
