"""Session login and logout for the web UI, the caller's identity, and health probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sanitas import __version__
from sanitas.api.deps import COOKIE_NAMES, DB, Conf, Reader, session_csrf_token
from sanitas.auth.csrf import CSRF_COOKIE, csrf_token
from sanitas.auth.service import SESSION_TTL, create_web_session, end_web_session
from sanitas.config import Settings
from sanitas.errors import Unauthorized

router = APIRouter(tags=["auth"])


class Login(BaseModel):
    """Body of ``POST /api/auth/login``."""

    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=1, max_length=256)


def _secure(request: Request, settings: Settings) -> bool:
    # Behind a TLS-terminating proxy the app sees HTTP: SANITAS_COOKIE_SECURE (or an https
    # SANITAS_PUBLIC_URL, which pins the request's scheme) says the browser is on HTTPS.
    return request.url.scheme == "https" or settings.cookie_secure


@router.post("/api/auth/login")
def login(body: Login, request: Request, response: Response, db: DB, settings: Conf) -> dict[str, Any]:
    """Exchange an API key for a session cookie (HttpOnly) and its CSRF token cookie (readable)."""
    with db.write() as s:
        cookie = create_web_session(session=s, token=body.api_key)
    if cookie is None:
        raise Unauthorized("the API key is unknown or revoked")
    token = csrf_token(session_cookie=cookie, secret=settings.secret_key)
    secure, age = _secure(request, settings), int(SESSION_TTL.total_seconds())
    response.set_cookie(COOKIE_NAMES[0], cookie, httponly=True, samesite="lax", secure=secure, max_age=age)
    # Readable by our own pages, which copy it into the X-CSRF-Token header of every write.
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", secure=secure, max_age=age)
    return {"status": "ok", "csrf_token": token}


@router.post("/api/auth/logout")
def logout(request: Request, response: Response, db: DB, who: Reader, settings: Conf) -> dict[str, Any]:
    """End the browser session: the server forgets it and both cookies are cleared."""
    cookie = getattr(request.state, "session_cookie", None)
    if cookie is not None:
        with db.write() as s:
            end_web_session(session=s, cookie=cookie)
    secure = _secure(request, settings)
    for name in (*COOKIE_NAMES, CSRF_COOKIE):
        response.delete_cookie(name, secure=secure, httponly=name != CSRF_COOKIE, samesite="lax")
    return {"status": "ok"}


@router.get("/api/auth/me")
def me(request: Request, who: Reader) -> dict[str, Any]:
    """The caller's key id, role and projects (and the session's CSRF token when it uses the cookie)."""
    out: dict[str, Any] = {"key_id": who.key_id, "role": who.role, "projects": list(who.projects)}
    token = session_csrf_token(request)
    if token is not None:
        out["csrf_token"] = token
    return out


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
