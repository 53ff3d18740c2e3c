"""Which job errors are worth another attempt.

A retry helps only when the cause can go away by itself: a dropped database connection, a timeout, a
worker process that died. A read-only or full disk, a permission refused, a bad configuration or bad
input fail the same way every time; retrying them only delays the answer (and, under a full disk, each
attempt's partial output held the space that was missing). Those fail at once with their reason.
"""

from __future__ import annotations

import errno

from sanitas.errors import SanitasError

# OS errors that the next attempt, seconds later on the same machine, would meet again.
PERMANENT_ERRNOS = {
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a path component is not a folder",
    errno.EISDIR: "a folder is in the way of a file",
    errno.ENAMETOOLONG: "a file name is too long",
    errno.EFBIG: "a file is larger than the file system allows",
}
# SQLite result codes (sqlite3.Error.sqlite_errorcode, primary code in the low byte).
PERMANENT_SQLITE = {
    13: "the database or its disk is full",
    8: "the database is read-only",
    3: "access denied",
}
# PostgreSQL SQLSTATEs.
PERMANENT_SQLSTATE = {
    "53100": "the database server's disk is full",
    "25006": "the database is read-only",
    "42501": "insufficient privilege",
}
# Deterministic in the input or the configuration: the same payload fails the same way again.
DETERMINISTIC = (ValueError, TypeError, LookupError, NotImplementedError)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 16:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _reason(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in PERMANENT_ERRNOS:
        return PERMANENT_ERRNOS[exc.errno]
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in PERMANENT_SQLITE:
        return PERMANENT_SQLITE[code & 0xFF]
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state in PERMANENT_SQLSTATE:
        return PERMANENT_SQLSTATE[state]
    # SQLAlchemy wraps the driver's error in ``orig``.
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException) and orig is not exc:
        return _reason(orig)
    return None


def permanent_reason(exc: BaseException) -> str | None:
    """Why ``exc`` cannot be cured by retrying, or None when another attempt may succeed."""
    for item in _chain(exc):
        reason = _reason(item)
        if reason is not None:
            return reason
    if isinstance(exc, SanitasError):
        return "the request cannot be carried out"
    if isinstance(exc, DETERMINISTIC):
        return "the same input and configuration fail the same way"
    return None


def describe(exc: BaseException) -> str:
    """The error as a job records it: the type and message (a domain error: its message only)."""
    if isinstance(exc, SanitasError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
