"""Faults outside the request's control: name the storage ones, and never drop the connection on a 500.

A full disk, a full SQLite file or a read-only store is not a bug in the request, and "internal error"
tells an operator nothing: those answer 507 (no space) or 503 (read-only), naming the cause, and the
database remembers the failure so that ``/readyz`` reports it until a write succeeds again.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanitas.api.envelopes import error_response

log = logging.getLogger("sanitas.api")

# PostgreSQL SQLSTATEs: disk_full, insufficient_resources, out_of_memory, read_only_sql_transaction.
_PG_STATES = {
    "53100": (507, "the database server's disk is full"),
    "53000": (507, "the database server is out of resources (disk full)"),
    "53200": (503, "the database server is out of memory"),
    "25006": (503, "the database is read-only"),
}
# SQLite and OS messages, matched on the driver's own words.
_MESSAGES = (
    ("database or disk is full", 507, "the database or disk is full"),
    ("no space left on device", 507, "the disk is full (no space left on device)"),
    ("attempt to write a readonly database", 503, "the database is read-only"),
    ("read-only file system", 503, "the file system is read-only"),
)
_ERRNOS = {
    errno.ENOSPC: (507, "the disk is full (no space left on device)"),
    errno.EDQUOT: (507, "the disk quota is exceeded"),
    errno.EROFS: (503, "the file system is read-only"),
}


@dataclass(frozen=True)
class StorageFault:
    """A storage failure: the HTTP status to answer and its cause in words."""

    status: int
    cause: str


def storage_fault(exc: BaseException) -> StorageFault | None:
    """The storage failure behind ``exc`` (its causes included), or None for anything else."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DBAPIError):
            state = getattr(cur.orig, "sqlstate", None) or getattr(cur.orig, "pgcode", None)
            if state in _PG_STATES:
                return StorageFault(*_PG_STATES[state])
        if isinstance(cur, OSError) and cur.errno in _ERRNOS:
            return StorageFault(*_ERRNOS[cur.errno])
        text = str(cur).lower()
        for needle, status, cause in _MESSAGES:
            if needle in text:
                return StorageFault(status, cause)
        cur = cur.__cause__ or cur.__context__
    return None


class CatchAll:
    """Answer any unhandled exception with the family's 500 envelope and keep the connection.

    Starlette hands an ``Exception`` handler's response to the client and then re-raises, and the server
    closes a keep-alive connection on any exception that escapes the app: the client's next request on
    it fails with a reset. This middleware sits inside that layer and does not re-raise. Storage faults
    get their own status and cause, and are remembered for readiness.
    """

    def __init__(self, app: ASGIApp, on_storage_fault: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.on_storage_fault = on_storage_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise  # half a response is out: closing the connection is all that is left
            path = scope.get("path", "")
            fault = storage_fault(exc)
            if fault is not None:
                log.error("storage fault on %s %s: %s (%s)", scope.get("method"), path, fault.cause, exc)
                if self.on_storage_fault is not None:
                    self.on_storage_fault(fault.cause)
                response = error_response(path, fault.status, f"storage unavailable: {fault.cause}")
            else:
                log.exception("unhandled error on %s %s", scope.get("method"), path)
                response = error_response(path, 500, "internal error; the server log has the details")
            await response(scope, receive, send)
