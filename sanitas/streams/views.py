"""Re:infer streams routes (``/streams/…`` and the old ``/triggers/…`` aliases), thin over the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from sanitas.api.deps import DB, Conf, Reader, Writer, check_project
from sanitas.datasets.service import get_dataset
from sanitas.db import Database
from sanitas.names import NAME_PATTERN, PROJECT_PATTERN
from sanitas.streams import service
from sanitas.streams.reader import read_batch
from sanitas.streams.schemas import (
    AdvanceRequest,
    ExceptionsPut,
    FetchRequest,
    ResetRequest,
    StreamPut,
    StreamUpdate,
)

router = APIRouter(tags=["streams"])
ProjectName = Annotated[str, Path(pattern=PROJECT_PATTERN)]
DatasetName = Annotated[str, Path(pattern=r"^(id:[0-9a-fA-F-]{32,36}|[A-Za-z0-9_\-]{1,256})$")]
StreamName = Annotated[str, Path(pattern=NAME_PATTERN)]
UidList = Annotated[
    list[Annotated[str, Query(max_length=1041, pattern=r"^[0-9a-f]{16}\.[^\s/]+$")]],
    Query(min_length=1, max_length=4096),
]
KINDS = ("streams", "triggers")


@dataclass(frozen=True)
class _Read:
    """What ``fetch`` and ``results`` share: one stream's cursor, read the same way by both."""

    db: Database
    secret: bytes
    project: str
    dataset: str
    stream: str

    def batch(
        self, *, size: int, max_filtered: int | None, wait_seconds: float, results: bool = False
    ) -> Response:
        """The next batch after the cursor, in the legacy (``fetch``) or new (``results``) shape."""
        batch = read_batch(
            db=self.db,
            secret=self.secret,
            project=self.project,
            dataset_name=self.dataset,
            stream_name=self.stream,
            size=size,
            max_filtered=max_filtered,
            wait_seconds=wait_seconds,
            results_shape=results,
        )
        return Response(batch.to_json(results_shape=results), media_type="application/json")


def _routes(kind: str) -> None:
    base = f"/datasets/{{project}}/{{dataset}}/{kind}"
    item = f"{base}/{{stream}}"
    legacy = kind == "triggers"

    @router.put(base, name=f"put_{kind}", include_in_schema=not legacy)
    def put_stream(project: ProjectName, dataset: DatasetName, body: StreamPut, db: DB, who: Writer) -> Any:
        """Create a stream, or update the stream with that name (its position is kept)."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row, _ = service.put_stream(session=s, dataset=ds, fields=body.stream)
            return {"status": "ok", "stream": service.render_stream(row)}

    @router.post(item, name=f"update_{kind}", include_in_schema=not legacy)
    def update_stream(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        body: StreamUpdate,
        db: DB,
        who: Writer,
    ) -> Any:
        """Update a stream's settings (the 2021 schema's update route)."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.update_stream(session=s, dataset=ds, name=stream, fields=body.stream)
            return {"status": "ok", "stream": service.render_stream(row)}

    @router.get(base, name=f"list_{kind}", include_in_schema=not legacy)
    def list_streams(project: ProjectName, dataset: DatasetName, db: DB, who: Reader) -> Any:
        """Every stream of the dataset (``streams: [...]``)."""
        check_project(who, project, "dataset")
        with db.read() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            return {
                "status": "ok",
                "streams": [service.render_stream(r) for r in service.list_streams(session=s, dataset=ds)],
            }

    @router.get(item, name=f"get_{kind}", include_in_schema=not legacy)
    def get_stream(
        project: ProjectName, dataset: DatasetName, stream: StreamName, db: DB, conf: Conf, who: Reader
    ) -> Any:
        """One stream, with its lag (backlog and the oldest unprocessed comment's age)."""
        check_project(who, project, "dataset")
        with db.read() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream)
            body = service.render_stream(row, secret=conf.secret_key)
            body["lag"] = service.lag(session=s, stream=row, dataset=ds)
            return {"status": "ok", "stream": body}

    @router.delete(item, name=f"delete_{kind}", include_in_schema=not legacy)
    def delete_stream(
        project: ProjectName, dataset: DatasetName, stream: StreamName, db: DB, who: Writer
    ) -> Any:
        """Delete a stream."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            service.delete_stream(session=s, stream=service.get_stream(session=s, dataset=ds, name=stream))
        return {"status": "ok"}

    @router.post(f"{item}/fetch", name=f"fetch_{kind}", include_in_schema=not legacy)
    def fetch(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        body: FetchRequest,
        db: DB,
        conf: Conf,
        who: Reader,
    ) -> Any:
        """The next batch after the cursor (never moves it); ``wait_seconds`` long-polls."""
        check_project(who, project, "dataset")
        read = _Read(db=db, secret=conf.secret_key, project=project, dataset=dataset, stream=stream)
        return read.batch(size=body.size, max_filtered=body.max_filtered, wait_seconds=body.wait_seconds)

    @router.get(f"{item}/results", name=f"results_{kind}", include_in_schema=not legacy)
    def results(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        db: DB,
        conf: Conf,
        who: Reader,
        max_results: Annotated[int, Query(ge=1, le=1024)] = 16,
        max_filtered: Annotated[int | None, Query(ge=1, le=1024)] = None,
        wait_seconds: Annotated[float, Query(ge=0.0, le=20.0)] = 0.0,
    ) -> Any:
        """The new read route: the same cursor as ``fetch``, results with ``continuation``."""
        check_project(who, project, "dataset")
        read = _Read(db=db, secret=conf.secret_key, project=project, dataset=dataset, stream=stream)
        return read.batch(
            size=max_results, max_filtered=max_filtered, wait_seconds=wait_seconds, results=True
        )

    @router.post(f"{item}/advance", name=f"advance_{kind}", include_in_schema=not legacy)
    def advance(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        body: AdvanceRequest,
        db: DB,
        conf: Conf,
        who: Writer,
    ) -> Any:
        """Commit progress up to a batch's or a comment's ``sequence_id`` (monotonic, idempotent)."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream)
            token = service.advance(session=s, secret=conf.secret_key, stream=row, token=body.token)
        return {"status": "ok", "sequence_id": token, "continuation": token}

    @router.post(f"{item}/reset", name=f"reset_{kind}", include_in_schema=not legacy)
    def reset(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        body: ResetRequest,
        db: DB,
        conf: Conf,
        who: Writer,
    ) -> Any:
        """Move the cursor to an upload time, forwards or backwards; earlier tokens stop working."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream, for_update=True)
            token = service.reset(
                session=s, secret=conf.secret_key, stream=row, dataset=ds, when=body.to_comment_created_at
            )
            return {"status": "ok", "sequence_id": token, "stream": service.render_stream(row)}

    @router.put(f"{item}/exceptions", name=f"tag_{kind}", include_in_schema=not legacy)
    def tag(
        project: ProjectName,
        dataset: DatasetName,
        stream: StreamName,
        body: ExceptionsPut,
        db: DB,
        who: Writer,
    ) -> Any:
        """Tag comments as exceptions for a model trainer to review."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream)
            service.tag_exceptions(session=s, dataset=ds, stream=row, items=body.exceptions)
        return {"status": "ok"}

    @router.delete(f"{item}/exceptions", name=f"untag_{kind}", include_in_schema=not legacy)
    def untag(
        project: ProjectName, dataset: DatasetName, stream: StreamName, uid: UidList, db: DB, who: Writer
    ) -> Any:
        """Untag exceptions by comment uid (``?uid=a&uid=b``)."""
        check_project(who, project, "dataset")
        with db.write() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream)
            service.untag_exceptions(session=s, stream=row, uids=uid)
        return {"status": "ok"}

    @router.get(f"{item}/exceptions", name=f"list_exceptions_{kind}", include_in_schema=not legacy)
    def list_exceptions(
        project: ProjectName, dataset: DatasetName, stream: StreamName, db: DB, who: Reader
    ) -> Any:
        """The stream's tagged exceptions (our extension)."""
        check_project(who, project, "dataset")
        with db.read() as s:
            ds = get_dataset(session=s, project=project, name=dataset)
            row = service.get_stream(session=s, dataset=ds, name=stream)
            return {"status": "ok", "exceptions": service.list_exceptions(session=s, stream=row)}


for _kind in KINDS:
    _routes(_kind)

__all__ = ["router"]
