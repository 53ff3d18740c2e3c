"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanitas import __version__
from sanitas.api.envelopes import error_response
from sanitas.api.faults import CatchAll
from sanitas.api.hosts import PinnedHost
from sanitas.api.responses import OrjsonResponse as ORJSONResponse
from sanitas.config import Settings, load_settings
from sanitas.db import Database
from sanitas.errors import SanitasError
from sanitas.streams import readahead
from sanitas.validation import nul_path, plain_json_error

log = logging.getLogger("sanitas.api")


def _loc(loc: tuple[Any, ...]) -> str:
    # Only the first element names the request part; a later "body" is a field (a message's body).
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header", "cookie") else list(loc)
    parts = parts or list(loc[-1:])
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def format_validation(errors: list[Any]) -> tuple[int, str, list[dict[str, Any]]]:
    """Status, one-line message and per-field details of a pydantic/FastAPI error list."""
    if any(e.get("type") == "json_invalid" for e in errors):
        err = next(e for e in errors if e.get("type") == "json_invalid")
        detail = plain_json_error(str((err.get("ctx") or {}).get("error", "")))
        return 400, f"the request body is not valid JSON: {detail}".rstrip(": "), []
    items = []
    for e in errors:
        field = _loc(tuple(e.get("loc", ())))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif e.get("type") == "missing":
            msg = "field required"
        item: dict[str, Any] = {"field": field, "message": msg}
        index = next((p for p in e.get("loc", ()) if isinstance(p, int)), None)
        if index is not None:
            item["index"] = index
        items.append(item)
    head = "; ".join(f"{i['field']}: {i['message']}" for i in items[:5])
    more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
    return 422, f"{head}{more}", items


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_MESSAGE = "text must not contain NUL (\\u0000) characters"


def _nul_message(body: bytes) -> str:
    """The NUL refusal, naming the field that holds it when the body parses."""
    try:
        where = nul_path(json.loads(body))
    except ValueError:
        where = None
    return f"{where}: {NUL_MESSAGE}" if where else NUL_MESSAGE


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class BodyLimit:
    """Guard the edge of every route: body size cap, and no NUL characters anywhere.

    A body over the cap is refused whether announced by Content-Length or streamed. NUL characters are
    refused in the path, the query and JSON bodies because PostgreSQL cannot store them in text, and a
    request must get the same answer on both backends.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        too_big = f"the request body is over the {self.max_bytes}-byte limit"
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(path, 413, too_big)(scope, receive, send)
                return
        query = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in query or b"\x00" in query:
            await error_response(path, 422, NUL_MESSAGE)(scope, receive, send)
            return
        seen = 0
        check_nul = _is_json(scope)
        tail = b""
        # References to the chunks already passed on (no copies): to name the field holding a NUL.
        chunks: list[bytes] = []

        async def rest(msg: Message) -> bytes:
            nonlocal seen
            while msg.get("more_body", False) and seen <= self.max_bytes:
                msg = await receive()
                chunks.append(msg.get("body", b""))
                seen += len(chunks[-1])
            return b"".join(chunks)

        async def limited() -> Message:
            nonlocal seen, tail
            msg = await receive()
            if msg["type"] == "http.request":
                chunk = msg.get("body", b"")
                seen += len(chunk)
                # HTTPException, not a domain error: FastAPI turns anything else raised while it reads
                # the body into a generic 400.
                if seen > self.max_bytes:
                    raise HTTPException(413, too_big)
                if check_nul and chunk:
                    chunks.append(chunk)
                    # An escape may straddle two chunks: search the end of the previous one too.
                    window = tail + chunk
                    if b"u0000" in window and _NUL_ESCAPE.search(window):
                        body = await rest(msg)
                        if seen > self.max_bytes:
                            raise HTTPException(413, too_big)
                        raise HTTPException(422, _nul_message(body))
                    tail = window[-64:]
            return msg

        await self.app(scope, limited, send)


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    auth: bool = True,
    workers: int = 0,
) -> FastAPI:
    """Build the app. ``workers`` > 0 starts in-process job workers with it."""
    settings = settings or load_settings()
    db = db or Database(settings.database_url, files_dir=settings.files_dir)
    if db.files_dir is None:
        db.files_dir = settings.files_dir
    if db.job_max_attempts is None:
        db.job_max_attempts = settings.job_max_attempts

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = []
        if workers > 0:
            from sanitas.jobs.worker import run_workers_in_thread

            started = run_workers_in_thread(db=db, settings=settings, count=workers)
        app.state.workers = started
        try:
            yield
        finally:
            if started:
                from sanitas.jobs.worker import shutdown_workers

                # However the app was started (``sanitas serve`` or uvicorn directly), a running job is
                # given back to the queue at shutdown, never left leased to a process that is going away.
                app.state.released = await asyncio.to_thread(shutdown_workers, started)
            # Before the database goes away: a read-ahead still running would use it.
            readahead.drain()

    app = FastAPI(
        lifespan=lifespan,
        title="Sanitas",
        version=__version__,
        description="Heal labelled text datasets, anonymize PII and stream comments with pinned predictions.",
        default_response_class=ORJSONResponse,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.auth_enabled = auth

    @app.exception_handler(SanitasError)
    async def _domain(request: Request, exc: SanitasError) -> ORJSONResponse:
        extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
        if exc.errors:
            extra["errors"] = exc.errors
        return error_response(request.url.path, exc.status, exc.message, code=exc.code, extra=extra or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> ORJSONResponse:
        status, message, items = format_validation(list(exc.errors()))
        return error_response(request.url.path, status, message, extra={"errors": items} if items else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ORJSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            # FastAPI's words for a body it could not decode (bad UTF-8 mostly); say which rule broke.
            cause = exc.__cause__
            message = "the request body is not valid JSON" + (
                f": {plain_json_error(str(cause))}" if cause else ""
            )
        return error_response(
            request.url.path, exc.status_code, message, headers=getattr(exc, "headers", None)
        )

    from sanitas.api.routes import include_routers

    include_routers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(PinnedHost, public_url=settings.public_url)
    # Outermost of ours: every unhandled error (storage faults named) is answered here, not re-raised.
    app.add_middleware(CatchAll, on_storage_fault=db.note_storage_fault)
    return app
