"""Write transactions that meet other writers: a bounded retry, then a 409 instead of a 500.

PostgreSQL aborts one of two transactions that wait on each other (deadlock, SQLSTATE 40P01) or that
cannot be serialised (40001); a unique violation (23505) means another request committed the same new
row first. Each is safe to run again from the start, on a fresh transaction; SQLite's single writer
only ever reports "database is locked" when its busy timeout ran out.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sanitas.db import Database
from sanitas.errors import Conflict

T = TypeVar("T")
RETRYABLE = frozenset({"40001", "40P01", "55P03", "23505"})
ATTEMPTS = 4
log = logging.getLogger("sanitas.contention")


def is_contention(exc: DBAPIError) -> bool:
    """True when the error means "another transaction was in the way", not "this request is wrong"."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in RETRYABLE:
        return True
    return "database is locked" in str(exc.orig)


def write_with_retry(db: Database, work: Callable[[Session], T], *, what: str, attempts: int = ATTEMPTS) -> T:
    """Run ``work`` in a write transaction, again (after a short random pause) when it lost a race.

    ``work`` must do all its writing through the session it is given, so a retry starts clean. After
    ``attempts`` lost races the caller gets a :class:`Conflict` (409), which the Re:infer client retries.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.write() as session:
                return work(session)
        except DBAPIError as exc:
            if not is_contention(exc):
                raise
            log.info("%s lost a race with another writer (attempt %d): %s", what, attempt, exc.orig)
            if attempt == attempts:
                raise Conflict(
                    f"{what} conflicted with concurrent writes {attempts} times; retry the request"
                ) from exc
            # Jitter, so the writers that collided do not collide again in lockstep.
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)
    raise AssertionError("unreachable")
