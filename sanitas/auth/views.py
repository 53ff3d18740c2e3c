"""Session login for the web UI, the caller's identity, and health probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from sanitas import __version__
from sanitas.api.deps import COOKIE_NAMES, DB, Reader
from sanitas.auth.service import create_web_session
from sanitas.errors import Unauthorized

router = APIRouter(tags=["auth"])


class Login(BaseModel):
    """Body of ``POST /api/auth/login``."""

    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=1, max_length=256)


@router.post("/api/auth/login")
def login(body: Login, response: Response, db: DB) -> dict[str, Any]:
    """Exchange an API key for a session cookie."""
    with db.write() as s:
        cookie = create_web_session(session=s, token=body.api_key)
    if cookie is None:
        raise Unauthorized("the API key is unknown or revoked")
    response.set_cookie(COOKIE_NAMES[0], cookie, httponly=True, samesite="lax", max_age=12 * 3600)
    return {"status": "ok"}


@router.get("/api/auth/me")
def me(who: Reader) -> dict[str, Any]:
    """The caller's key id, role and projects."""
    return {"key_id": who.key_id, "role": who.role, "projects": list(who.projects)}


@router.get("/healthz", tags=["health"])
def health() -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", tags=["health"])
def ready(db: DB, response: Response) -> dict[str, Any]:
    """Readiness: the database answers and writes can succeed (no full or read-only storage)."""
    ok = db.ping()
    problem = db.storage_problem() if ok else None
    response.status_code = 200 if ok and problem is None else 503
    body: dict[str, Any] = {
        "status": "ok" if response.status_code == 200 else "unavailable",
        "database": "ok" if ok else "unreachable",
        "storage": problem or "ok",
    }
    return body
