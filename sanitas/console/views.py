"""Serve the web console: ``/`` is the single page, ``/console/...`` its assets (package data).

The assets hold no data: every figure the console shows comes from the authorized API, so these routes
are public like ``/healthz`` (they are mounted apart from the domain routers for that reason). Nothing is
fetched from elsewhere at run time: the page's Content-Security-Policy allows only this origin.
"""

from __future__ import annotations

import re
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from sanitas.errors import NotFound

router = APIRouter(include_in_schema=False)

MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
#: same-origin only: no CDN, no inline script; styles may be set by the scripts (bar widths)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: a flat folder of plain names: no path separator, no dot-dot, only the media types above
ASSET_NAME = re.compile(r"^[a-z0-9_\-]{1,64}\.(html|css|js|svg|png)$")


def _asset(name: str) -> Response:
    if not ASSET_NAME.match(name):
        raise NotFound(f"no console asset {name[:80]!r}")
    suffix = name[name.rindex(".") :]
    node = resources.files("sanitas.console").joinpath("static", name)
    if not node.is_file():
        raise NotFound(f"no console asset {name!r}")
    # The console changes with the package: a reload after an upgrade must not run stale modules.
    headers = {**HEADERS, "Cache-Control": "no-cache"}
    return Response(node.read_bytes(), media_type=MEDIA[suffix], headers=headers)


@router.get("/")
def index() -> Response:
    """The console's single page (log in with an API key, then datasets, heal, review, runs, streams)."""
    return _asset("index.html")


@router.get("/console/{name}")
def asset(name: str) -> Response:
    """One stylesheet, script module or image of the console."""
    return _asset(name)
