"""Each route family answers errors in its own vendor's envelope."""

from __future__ import annotations

from typing import Any

from sanitas.api.responses import OrjsonResponse as ORJSONResponse

REINFER, ANTIDOTE, DATAFRAMER = "reinfer", "antidote", "dataframer"

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
    507: "INSUFFICIENT_STORAGE",
}


def family(path: str) -> str:
    """Which family a path belongs to."""
    if path.startswith(("/api/v1/", "/api/preview/")) or path in ("/api/v1", "/api/preview"):
        return REINFER
    if path.startswith("/api/dataframer"):
        return DATAFRAMER
    return ANTIDOTE


def error_response(
    path: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ORJSONResponse:
    """Render an error for ``path``'s family."""
    fam = family(path)
    code = code or _CODES.get(status, "ERROR")
    body: dict[str, Any]
    if fam == REINFER:
        body = {"status": "error", "message": message}
    elif fam == DATAFRAMER:
        body = {"detail": message, "code": code}
    else:
        body = {"error": {"code": code, "message": message}}
    if extra:
        body.update(extra)
    return ORJSONResponse(body, status_code=status, headers=headers)
