"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanitas import __version__
from sanitas.api.envelopes import error_response
from sanitas.api.responses import OrjsonResponse as ORJSONResponse
from sanitas.config import Settings, load_settings
from sanitas.db import Database
from sanitas.errors import PayloadTooLarge, SanitasError

log = logging.getLogger("sanitas.api")


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")] or list(loc[-1:])
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def format_validation(errors: list[Any]) -> tuple[int, str, list[dict[str, Any]]]:
    """Status, one-line message and per-field details of a pydantic/FastAPI error list."""
    if any(e.get("type") == "json_invalid" for e in errors):
        err = next(e for e in errors if e.get("type") == "json_invalid")
        detail = (err.get("ctx") or {}).get("error", "")
        return 400, f"the request body is not valid JSON: {detail}".rstrip(": "), []
    items = []
    for e in errors:
        field = _loc(tuple(e.get("loc", ())))
        msg = e.get("msg", "invalid")
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


class BodyLimit:
    """Refuse bodies over the configured cap, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                resp = error_response(path, 413, f"the request body is over the {self.max_bytes}-byte limit")
                await resp(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLarge(f"the request body is over the {self.max_bytes}-byte limit")
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
    db = db or Database(settings.database_url)

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
            for w in started:
                w.stop.set()

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
        extra = {"field": exc.field} if exc.field else None
        return error_response(request.url.path, exc.status, exc.message, code=exc.code, extra=extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> ORJSONResponse:
        status, message, items = format_validation(list(exc.errors()))
        return error_response(request.url.path, status, message, extra={"errors": items} if items else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ORJSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        return error_response(
            request.url.path, exc.status_code, message, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> ORJSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request.url.path, 500, "internal error; the server log has the details")

    from sanitas.api.routes import include_routers

    include_routers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
