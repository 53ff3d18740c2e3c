"""Dependencies shared by routers: the database, the settings and the caller's principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from sanitas.auth.csrf import check_csrf, csrf_token, own_origins
from sanitas.auth.service import ANONYMOUS_ADMIN, Principal, authenticate, authenticate_cookie
from sanitas.config import Settings
from sanitas.db import Database
from sanitas.errors import Forbidden, NotFound, Unauthorized

COOKIE_NAMES = ("sanitas_session", "antidote_session")


def get_db(request: Request) -> Database:
    """The app's database."""
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def public_base_url(request: Request) -> str:
    """The base of links the server hands out: ``SANITAS_PUBLIC_URL`` (its path prefix included), else
    the address the server listens on. Never the request's ``Host`` header (see ``api/hosts.py``).
    """
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url
    return str(request.base_url).rstrip("/")


def _principal(request: Request) -> Principal:
    if not request.app.state.auth_enabled:
        return ANONYMOUS_ADMIN
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    db: Database = request.app.state.db
    token = None
    session_cookie: str | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        token = value.strip()
    token = token or request.headers.get("x-api-key")
    principal = None
    with db.read() as session:
        if token:
            principal = authenticate(session=session, token=token)
            if principal is None:
                raise Unauthorized("the API key is unknown or revoked")
        else:
            for name in COOKIE_NAMES:
                cookie = request.cookies.get(name)
                if cookie:
                    principal = authenticate_cookie(session=session, cookie=cookie)
                    if principal is not None:
                        session_cookie = cookie
                        break
    if principal is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key'")
    if session_cookie is not None:
        # The browser sends the cookie whichever page asks: a write must prove it is our page's.
        settings: Settings = request.app.state.settings
        check_csrf(
            method=request.method,
            headers=request.headers,
            cookies=request.cookies,
            session_cookie=session_cookie,
            secret=settings.secret_key,
            origins=own_origins(base_url=str(request.base_url), public_url=settings.public_url),
        )
        request.state.session_cookie = session_cookie
    request.state.principal = principal
    return principal


def session_csrf_token(request: Request) -> str | None:
    """The CSRF token of the request's cookie session, None when it is not cookie-authenticated."""
    cookie = getattr(request.state, "session_cookie", None)
    if cookie is None:
        return None
    settings: Settings = request.app.state.settings
    return csrf_token(session_cookie=cookie, secret=settings.secret_key)


def require(role: str) -> Callable[[Request], Principal]:
    """A dependency that authenticates and checks the key's role."""

    def dep(request: Request) -> Principal:
        principal = _principal(request)
        if not principal.allows(role):
            raise Forbidden(f"this key's role is '{principal.role}'; the operation needs '{role}'")
        return principal

    return dep


def check_project(principal: Principal, project: str, what: str = "resource") -> None:
    """Resources of projects outside the key's scope do not exist for it."""
    if not principal.can_see(project):
        raise NotFound(f"{what} not found", code=f"{what.upper()}_NOT_FOUND")


def visible_projects(principal: Principal) -> list[str] | None:
    """``None`` for all projects, else the key's list."""
    return None if "*" in principal.projects else list(principal.projects)


reader = require("read")
writer = require("write")
admin = require("admin")


# The one authorization idiom of every view: a route takes ``who: Reader`` (or ``Writer``, ``Admin``), which
# authenticates the caller and checks the key's role; what the key may see is then decided by
# ``who.can_see`` — through ``check_project`` for a project named in the path, or a service's
# ``allowed=who.can_see`` for a resource named by id. Resources outside the key's projects answer 404.
Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]
Admin = Annotated[Principal, Depends(admin)]
DB = Annotated[Database, Depends(get_db)]
Conf = Annotated[Settings, Depends(get_settings)]
