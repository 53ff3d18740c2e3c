"""Exceptions raised by the SDK: one per kind of failure, each carrying the server's message."""

from __future__ import annotations

from typing import Any


class SanitasError(Exception):
    """Base of every SDK error."""


class TransportError(SanitasError):
    """The server could not be reached (after retries)."""


class APIError(SanitasError):
    """The server answered with an error status; ``message`` is its explanation."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.body = body


class BadRequestError(APIError):
    """400/422: the request broke a rule (the message names the field)."""


class AuthError(APIError):
    """401/403: missing, unknown or insufficient credentials."""


class NotFoundError(APIError):
    """404: unknown (or another project's) resource."""


class ConflictError(APIError):
    """409: e.g. a stream ``sequence_id`` issued before the stream was reset."""


class RateLimitedError(APIError):
    """429 after every retry."""


class ServerError(APIError):
    """5xx after every retry."""


def error_for(status: int, message: str, body: Any = None) -> APIError:
    """The exception class that matches an HTTP status."""
    cls: type[APIError]
    if status in (400, 413, 422):
        cls = BadRequestError
    elif status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = APIError
    return cls(status, message, body)
