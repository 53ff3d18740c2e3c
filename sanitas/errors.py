"""Domain errors raised by services; each route family renders them in its own envelope."""

from __future__ import annotations

from typing import Any


class SanitasError(Exception):
    """Base class: ``status`` is the HTTP code, ``code`` a stable machine name."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self, message: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Per-item problems of a batch (``{"index", "field", "message"}``), rendered as ``errors``.
        self.errors = errors or []


class InvalidInput(SanitasError):
    """The request is well-formed JSON but breaks a rule."""

    status = 422
    code = "VALIDATION_ERROR"


class BadRequest(SanitasError):
    """The request cannot be read at all."""

    status = 400
    code = "BAD_REQUEST"


class NotFound(SanitasError):
    """Unknown, deleted or foreign resource (foreign resources are never revealed)."""

    status = 404
    code = "NOT_FOUND"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class Conflict(SanitasError):
    """The resource exists or is in a state that forbids the operation."""

    status = 409
    code = "CONFLICT"


class Unauthorized(SanitasError):
    """No valid credentials."""

    status = 401
    code = "UNAUTHORIZED"


class Forbidden(SanitasError):
    """Valid credentials without the needed role."""

    status = 403
    code = "FORBIDDEN"


class PayloadTooLarge(SanitasError):
    """Body or batch over a configured cap."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"
