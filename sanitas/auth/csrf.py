"""CSRF protection for writes a browser makes with the session cookie.

A browser attaches the session cookie to any request to this server, whichever page made it; a write
it authenticates must therefore prove it comes from our own pages. Two proofs are asked (double submit
plus origin):

* the ``X-CSRF-Token`` header equals the readable ``sanitas_csrf`` cookie set at login. Another site can
  neither read that cookie nor set a custom header on a cross-origin request without a CORS preflight,
  which this server never grants. The token is an HMAC of the session cookie under the installation's
  secret, so a token planted by a sibling host (cookies ignore ports) does not fit another session.
* an ``Origin`` header, when the browser sends one, names this server's own address.

Requests authenticated by ``Authorization: Bearer`` or ``X-API-Key`` carry no ambient credential and
are not checked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from ipaddress import ip_address
from urllib.parse import urlsplit

from sanitas.errors import Forbidden

CSRF_COOKIE = "sanitas_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


class CsrfFailed(Forbidden):
    """A cookie-authenticated write without a valid CSRF token, or from another origin."""

    code = "CSRF_FAILED"


def csrf_token(*, session_cookie: str, secret: bytes) -> str:
    """The CSRF token bound to one browser session (what the ``sanitas_csrf`` cookie holds)."""
    return hmac.new(secret, b"csrf:" + session_cookie.encode(), hashlib.sha256).hexdigest()


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, default ports dropped, lower case; None when it has none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def own_origins(*, base_url: str, public_url: str | None) -> set[str]:
    """The origins this server's pages are served from.

    With ``SANITAS_PUBLIC_URL`` set, its origin alone. Otherwise the address the server listens on
    (``base_url``, pinned to it by ``api.hosts``); on a loopback address the other loopback spellings
    (``localhost``, ``127.0.0.1``, ``[::1]``) at the same port name the same server.
    """
    first = _origin(public_url or base_url)
    if first is None:
        return set()
    out = {first}
    parts = urlsplit(first)
    if not public_url and parts.hostname and _is_loopback(parts.hostname):
        port = f":{parts.port}" if parts.port else ""
        out |= {f"{parts.scheme}://{name}{port}" for name in _LOOPBACK_NAMES}
    return out


def check_csrf(
    *,
    method: str,
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    session_cookie: str,
    secret: bytes,
    origins: set[str],
) -> None:
    """Raise ``CsrfFailed`` unless a cookie-authenticated request is safe or proves its origin."""
    if method.upper() in SAFE_METHODS:
        return
    origin = headers.get("origin")
    if origin is not None and _origin(origin) not in origins:
        where = ", ".join(sorted(origins)) or "unknown"
        raise CsrfFailed(
            f"cross-origin write refused: the request's Origin {origin!r} is not this server's ({where}); "
            "set SANITAS_PUBLIC_URL to the address browsers use"
        )
    sent = headers.get(CSRF_HEADER, "")
    cookie = cookies.get(CSRF_COOKIE, "")
    expected = csrf_token(session_cookie=session_cookie, secret=secret)
    if not sent:
        raise CsrfFailed(
            "a write made with the session cookie needs the X-CSRF-Token header "
            f"set to the value of the {CSRF_COOKIE} cookie"
        )
    if not (hmac.compare_digest(sent, cookie) and hmac.compare_digest(sent, expected)):
        raise CsrfFailed(
            f"the X-CSRF-Token header does not match this session's {CSRF_COOKIE} cookie; log in again"
        )
