"""The server's own address comes from configuration, never from the client's ``Host`` header.

Links the server hands out (signed downloads) are built from ``request.base_url``, which Starlette reads
from the ``Host`` header: a client could make a link point at any host it likes. This middleware
replaces the header (and the scheme) with the configured public URL's, or with the address the server
listens on when none is configured, so every use of ``request.base_url`` is trustworthy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send


class PinnedHost:
    """Pin ``Host`` and the scheme of every HTTP request to the server's configured public address."""

    def __init__(self, app: ASGIApp, public_url: str | None) -> None:
        self.app = app
        parts = urlsplit(public_url) if public_url else None
        self.netloc = parts.netloc.encode() if parts else None
        self.scheme = parts.scheme if parts else None

    def _own_address(self, scope: Scope) -> bytes:
        server = scope.get("server")
        if not server:
            return b"localhost"
        host, port = str(server[0]), server[1]
        if ":" in host:
            host = f"[{host}]"
        default = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
        return (host if port in (None, default) else f"{host}:{port}").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = self.netloc or self._own_address(scope)
            headers = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
            scope = {**scope, "headers": [(b"host", host), *headers]}
            if self.scheme:
                scope["scheme"] = self.scheme
        await self.app(scope, receive, send)
