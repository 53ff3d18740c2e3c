"""``sanitas.Client``: the HTTP API from Python, with retries on 429/5xx and typed results."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from sanitas.sdk.errors import TransportError, error_for
from sanitas.sdk.types import AnonymizationRun, Batch, Dataset, Job, Source, Stream, StreamResult, SyncResult

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A sync that lost a race with other writers answers 409; an upsert by id is safe to send again.
SYNC_RETRY_STATUSES = RETRY_STATUSES | {409}
SYNC_LIMIT = 16384


def _message(resp: httpx.Response) -> tuple[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500] or resp.reason_phrase, None
    if isinstance(body, dict):
        err = body.get("error")
        msg = (
            body.get("message")
            or body.get("detail")
            or (err.get("message") if isinstance(err, dict) else None)
        )
        return str(msg or body), body
    return str(body), body


class Client:
    """A client for one Sanitas server.

    ``Client("http://127.0.0.1:8000", token)``. Requests that fail with 429, 5xx or a connection error
    are retried ``retries`` times with exponential backoff (honouring ``Retry-After``); every stream
    operation is idempotent, so retrying them is safe.

    Stream delivery follows Re:infer's streams:

    - A stream is one cursor over the dataset's comments in upload order. :meth:`fetch` reads after it
      and never moves it; :meth:`advance` moves it. Delivery is at-least-once: a consumer that stops
      before advancing gets the same comments again, so handling must be idempotent (key on ``uid``).
    - A comment takes its place in the queue once, when it is first uploaded. Re-syncing it later (same
      id, new content) updates it in place but does not queue it again: a consumer already past it never
      sees the update through the stream, while one that has not advanced yet reads the new content.
      To follow updates, compare ``last_modified`` through the comments API.
    - Consumers sharing one stream share its cursor: a fetch gives each of them the same comments, and
      the first to advance moves the cursor for all. There are no consumer groups or leases; give each
      independent consumer its own stream (each then gets every comment).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
    ) -> Any:
        """Send a request and return its decoded JSON; raises an :mod:`sanitas.sdk.errors` exception.

        Answers with a status in ``retry_statuses`` (and connection errors) are retried with backoff.
        """
        attempt = 0
        while True:
            try:
                kwargs: dict[str, Any] = {"json": json, "params": params}
                if timeout is not None:
                    kwargs["timeout"] = timeout
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise TransportError(f"{method} {path}: {exc}") from exc
                self._sleep(attempt, None)
                attempt += 1
                continue
            if resp.status_code in retry_statuses and attempt < self.retries:
                self._sleep(attempt, resp.headers.get("retry-after"))
                attempt += 1
                continue
            if resp.status_code >= 400:
                message, body = _message(resp)
                raise error_for(resp.status_code, message, body)
            return resp.json() if resp.content else None

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt) * (0.5 + random.random())
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, 30.0))

    # Sources and datasets (Re:infer) ------------------------------------------------------------

    def create_source(self, project: str, name: str, **fields: Any) -> Source:
        """Create or update a source."""
        body = self.request("PUT", f"/api/v1/sources/{project}/{name}", json={"source": fields})
        return Source.from_json(body["source"])

    def get_source(self, project: str, name: str) -> Source:
        """One source."""
        return Source.from_json(self.request("GET", f"/api/v1/sources/{project}/{name}")["source"])

    def sync(self, project: str, source: str, comments: Sequence[Mapping[str, Any]]) -> SyncResult:
        """Upsert comments by id (split into batches of 16,384).

        A batch that conflicted with concurrent syncs of the same ids (409) is sent again, like a 5xx:
        an upsert by id gives the same result however often it is repeated.
        """
        new = updated = unchanged = 0
        for k in range(0, len(comments), SYNC_LIMIT):
            chunk = list(comments[k : k + SYNC_LIMIT])
            path = f"/api/v1/sources/{project}/{source}/sync"
            body = self.request("POST", path, json={"comments": chunk}, retry_statuses=SYNC_RETRY_STATUSES)
            new, updated, unchanged = (
                new + body["new"],
                updated + body["updated"],
                unchanged + body["unchanged"],
            )
        return SyncResult(new, updated, unchanged)

    def create_dataset(
        self,
        project: str,
        name: str,
        *,
        source_ids: Sequence[str] = (),
        labels: Sequence[Sequence[str]] = (),
        **fields: Any,
    ) -> Dataset:
        """Create or update a dataset fed by ``source_ids``."""
        body = {**fields, "source_ids": list(source_ids), "label_defs": [{"name": list(n)} for n in labels]}
        return Dataset.from_json(
            self.request("PUT", f"/api/v1/datasets/{project}/{name}", json={"dataset": body})["dataset"]
        )

    def get_dataset(self, project: str, name: str) -> Dataset:
        """One dataset."""
        return Dataset.from_json(self.request("GET", f"/api/v1/datasets/{project}/{name}")["dataset"])

    def list_datasets(self, project: str | None = None) -> list[Dataset]:
        """Datasets the token can see (of one project if given)."""
        path = f"/api/v1/datasets/{project}" if project else "/api/v1/datasets"
        return [Dataset.from_json(d) for d in self.request("GET", path)["datasets"]]

    def delete_dataset(self, project: str, name: str) -> None:
        """Delete a dataset (its sources and comments stay)."""
        self.request("DELETE", f"/api/v1/datasets/{project}/{name}")

    def assign_labels(self, project: str, dataset: str, labels: Mapping[str, Sequence[Sequence[str]]]) -> int:
        """Set the labels of comments by uid."""
        items = [
            {"uid": uid, "assigned": [{"name": list(n)} for n in names]} for uid, names in labels.items()
        ]
        return int(
            self.request(
                "POST", f"/api/v1/datasets/{project}/{dataset}/labellings", json={"labellings": items}
            )["updated"]
        )

    # Models ---------------------------------------------------------------------------------------

    def train_model(self, project: str, dataset: str, *, seed: int = 0) -> Job:
        """Start training a model version on the dataset's active branch."""
        body = self.request(
            "POST", f"/api/v1/datasets/{project}/{dataset}/labellers/train", json={"seed": seed}
        )
        return Job.from_json(body["job"])

    def list_models(self, project: str, dataset: str) -> list[dict[str, Any]]:
        """Model versions with their metrics."""
        return list(self.request("GET", f"/api/v1/datasets/{project}/{dataset}/labellers")["models"])

    def pin_model(self, project: str, dataset: str, version: int, *, pinned: bool = True) -> None:
        """Pin (or unpin) a model version."""
        self.request(
            "PUT" if pinned else "DELETE", f"/api/v1/datasets/{project}/{dataset}/labellers/{version}/pin"
        )

    def get_job(self, job_id: str) -> Job:
        """A generic job (training, export)."""
        return Job.from_json(self.request("GET", f"/api/jobs/{job_id}"))

    # Heal (Antidote) and anonymization runs (Dataframer) ------------------------------------------

    def start_heal(self, dataset_id: str, **options: Any) -> Job:
        """Start a heal job (options as in the heal API: ``target``, ``fix_mislabeled``, …)."""
        return Job.from_json(self.request("POST", f"/api/datasets/{dataset_id}/heal", json=options))

    def get_heal(self, job_id: str) -> Job:
        """A heal job's status, progress and manifest summary."""
        return Job.from_json(self.request("GET", f"/api/healing/{job_id}"))

    def create_anonymization_run(
        self, dataset_id: str, pii_types: Sequence[str], **options: Any
    ) -> AnonymizationRun:
        """Start an anonymization run."""
        body = {"dataset_id": dataset_id, "pii_types": list(pii_types), **options}
        return AnonymizationRun.from_json(
            self.request("POST", "/api/dataframer/anonymization-runs/", json=body)
        )

    def get_anonymization_run(self, run_id: str) -> AnonymizationRun:
        """One anonymization run."""
        return AnonymizationRun.from_json(
            self.request("GET", f"/api/dataframer/anonymization-runs/{run_id}/")
        )

    def list_anonymization_runs(self) -> list[AnonymizationRun]:
        """Runs, newest first."""
        body = self.request("GET", "/api/dataframer/anonymization-runs/")
        items = body.get("results", body) if isinstance(body, dict) else body
        return [AnonymizationRun.from_json(r) for r in items]

    # Streams --------------------------------------------------------------------------------------

    def _stream_path(self, project: str, dataset: str, name: str = "") -> str:
        return f"/api/v1/datasets/{project}/{dataset}/streams" + (f"/{name}" if name else "")

    def create_stream(
        self,
        project: str,
        dataset: str,
        name: str,
        *,
        model_version: int | None = None,
        label_thresholds: Mapping[Sequence[str] | str, float] | None = None,
        comment_filter: Mapping[str, Any] | None = None,
        start_at: str | datetime | None = None,
        title: str = "",
        description: str = "",
    ) -> Stream:
        """Create (or update) a stream; ``start_at`` is ``"earliest"``, ``"latest"`` or an upload time."""
        body: dict[str, Any] = {"name": name, "title": title, "description": description}
        if model_version is not None:
            body["model"] = {"version": model_version}
            if label_thresholds:
                body["model"]["label_thresholds"] = [
                    {"name": [n] if isinstance(n, str) else list(n), "threshold": t}
                    for n, t in label_thresholds.items()
                ]
        if comment_filter is not None:
            body["comment_filter"] = dict(comment_filter)
        if start_at is not None:
            body["start_at"] = start_at.isoformat() if isinstance(start_at, datetime) else start_at
        return Stream.from_json(
            self.request("PUT", self._stream_path(project, dataset), json={"stream": body})["stream"]
        )

    def get_stream(self, project: str, dataset: str, name: str) -> Stream:
        """One stream, with its lag."""
        return Stream.from_json(self.request("GET", self._stream_path(project, dataset, name))["stream"])

    def list_streams(self, project: str, dataset: str) -> list[Stream]:
        """Streams of a dataset."""
        return [
            Stream.from_json(s) for s in self.request("GET", self._stream_path(project, dataset))["streams"]
        ]

    def delete_stream(self, project: str, dataset: str, name: str) -> None:
        """Delete a stream."""
        self.request("DELETE", self._stream_path(project, dataset, name))

    def fetch(
        self,
        project: str,
        dataset: str,
        stream: str,
        *,
        size: int = 64,
        max_filtered: int | None = None,
        wait_seconds: float = 0.0,
    ) -> Batch:
        """The next batch after the stream's position (does not move it).

        Every consumer of the stream fetching now gets this same batch; comments updated after they
        were first uploaded keep their place and are not queued again (see :class:`Client`).
        """
        body: dict[str, Any] = {"size": size}
        if max_filtered is not None:
            body["max_filtered"] = max_filtered
        if wait_seconds:
            body["wait_seconds"] = wait_seconds
        path = self._stream_path(project, dataset, stream) + "/fetch"
        return Batch.from_json(self.request("POST", path, json=body, timeout=60.0 + wait_seconds))

    def advance(self, project: str, dataset: str, stream: str, sequence_id: str) -> str:
        """Commit progress up to a batch's or a comment's ``sequence_id`` (idempotent, never backwards).

        Returns the ``sequence_id`` of where the stream now is: the one given, or a later one when the
        stream was already past it (another consumer of the same stream advanced further).
        """
        body = self.request(
            "POST",
            self._stream_path(project, dataset, stream) + "/advance",
            json={"sequence_id": sequence_id},
        )
        return str(body["sequence_id"])

    def reset(self, project: str, dataset: str, stream: str, to_comment_created_at: datetime | str) -> str:
        """Move the stream to an upload time; returns the new position's ``sequence_id``."""
        when = (
            to_comment_created_at.isoformat()
            if isinstance(to_comment_created_at, datetime)
            else to_comment_created_at
        )
        body = self.request(
            "POST",
            self._stream_path(project, dataset, stream) + "/reset",
            json={"to_comment_created_at": when},
        )
        return str(body["sequence_id"])

    def tag_exceptions(self, project: str, dataset: str, stream: str, exceptions: Mapping[str, str]) -> None:
        """Tag comments (uid → exception type) for review."""
        items = [{"uid": uid, "metadata": {"type": t}} for uid, t in exceptions.items()]
        self.request(
            "PUT", self._stream_path(project, dataset, stream) + "/exceptions", json={"exceptions": items}
        )

    def untag_exceptions(self, project: str, dataset: str, stream: str, uids: Sequence[str]) -> None:
        """Remove exception tags."""
        self.request(
            "DELETE", self._stream_path(project, dataset, stream) + "/exceptions", params={"uid": list(uids)}
        )

    def iter_stream(
        self,
        project: str,
        dataset: str,
        stream: str,
        *,
        size: int = 64,
        max_filtered: int | None = None,
        wait_seconds: float = 5.0,
        advance: str = "batch",
        stop_at_end: bool = False,
        on_advance: Callable[[str], None] | None = None,
    ) -> Iterator[StreamResult]:
        """Yield each result; advance only after the caller's code for it (or its batch) returned.

        If the caller crashes while handling a result, that result (``advance="comment"``) or its batch
        (``advance="batch"``) was never acknowledged and is delivered again: at-least-once, never lost.
        ``on_advance(sequence_id)`` is called after each acknowledged advance. Two iterators over one
        stream both see every comment (one cursor, no consumer groups), and a comment updated after it
        was delivered is not delivered again.
        """

        def ack(token: str) -> None:
            self.advance(project, dataset, stream, token)
            if on_advance is not None:
                on_advance(token)

        if advance not in ("batch", "comment"):
            raise ValueError("advance must be 'batch' or 'comment'")
        while True:
            batch = self.fetch(
                project, dataset, stream, size=size, max_filtered=max_filtered, wait_seconds=wait_seconds
            )
            for result in batch.results:
                yield result
                if advance == "comment":
                    ack(result.sequence_id)
            last = batch.results[-1].sequence_id if batch.results else None
            if advance == "batch" or batch.sequence_id != last:
                # Also skips comments the filter left out after the last result.
                if batch.results or batch.filtered:
                    ack(batch.sequence_id)
            if batch.is_end_sequence and stop_at_end:
                return
