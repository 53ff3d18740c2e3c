"""API keys: random, shown once, stored as SHA-256, scoped to projects and a role."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanitas.auth.tables import ApiKey, Project, WebSession
from sanitas.errors import InvalidInput, NotFound
from sanitas.timeutil import utcnow

ROLES = ("read", "write", "admin")
ALL_PROJECTS = "*"
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's role and the projects it may see (``*`` = all)."""

    key_id: str | None
    role: str
    projects: tuple[str, ...]
    #: the key's name and public prefix (who made a decision); empty for the anonymous admin
    name: str = ""
    prefix: str = ""

    @property
    def actor(self) -> str:
        """How the caller is named in records of who did what: the key's name and prefix."""
        if not self.prefix:
            return "anonymous"
        return f"{self.name} ({self.prefix})" if self.name else self.prefix

    def can_see(self, project: str) -> bool:
        """True when ``project`` is in this key's scope."""
        return ALL_PROJECTS in self.projects or project in self.projects

    def allows(self, role: str) -> bool:
        """True when this key's role is at least ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


ANONYMOUS_ADMIN = Principal(key_id=None, role="admin", projects=(ALL_PROJECTS,))


def _hash(secret: str) -> str:
    # Keys carry 256 bits of entropy, so a fast hash is enough (no password-style stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(*, session: Session, name: str, role: str, projects: list[str]) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext token, which is never stored."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if not projects:
        raise InvalidInput("a key needs at least one project (or '*')", field="projects")
    prefix = secrets.token_hex(6)
    token = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=uuid.uuid4().hex,
        prefix=prefix,
        key_hash=_hash(token),
        name=name,
        role=role,
        projects=sorted(set(projects)),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, token


def list_keys(*, session: Session) -> list[ApiKey]:
    """Every key, newest first (hashes included only for internal use)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))


def revoke_key(*, session: Session, key_id_or_prefix: str) -> ApiKey:
    """Revoke a key by id or prefix; revoking twice is harmless."""
    row = session.scalar(
        select(ApiKey).where((ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix))
    )
    if row is None:
        raise NotFound(f"no key {key_id_or_prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def authenticate(*, session: Session, token: str) -> Principal | None:
    """The principal of a bearer/X-API-Key token, or None when unknown or revoked."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "sk":
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(token)):
        return None
    return _principal_of(row)


def _principal_of(row: ApiKey) -> Principal:
    return Principal(
        key_id=row.id, role=row.role, projects=tuple(row.projects), name=row.name, prefix=row.prefix
    )


def create_web_session(*, session: Session, token: str) -> str | None:
    """Exchange a valid key for a browser session cookie value."""
    principal = authenticate(session=session, token=token)
    if principal is None or principal.key_id is None:
        return None
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=_hash(cookie), key_id=principal.key_id, expires_at=utcnow() + SESSION_TTL)
    )
    return cookie


def authenticate_cookie(*, session: Session, cookie: str) -> Principal | None:
    """The principal behind a session cookie, or None when unknown or expired."""
    from sanitas.timeutil import as_utc

    ws = session.get(WebSession, _hash(cookie))
    if ws is None or as_utc(ws.expires_at) < utcnow():
        return None
    row = session.get(ApiKey, ws.key_id)
    if row is None or row.revoked_at is not None:
        return None
    return _principal_of(row)


def end_web_session(*, session: Session, cookie: str) -> bool:
    """Forget a browser session (logout); True when it existed."""
    ws = session.get(WebSession, _hash(cookie))
    if ws is None:
        return False
    session.delete(ws)
    return True


def count_keys(*, session: Session) -> int:
    """Number of keys that exist (revoked included)."""
    return len(list(session.scalars(select(ApiKey.id))))


def ensure_project(*, session: Session, name: str) -> Project:
    """Get or create a project (projects come into being with their first resource)."""
    row = session.get(Project, name)
    if row is None:
        # Names run to 1024 characters but titles to 256 (PostgreSQL enforces the column width).
        row = Project(name=name, title=name[:256], created_at=utcnow())
        session.add(row)
        session.flush()
    return row
