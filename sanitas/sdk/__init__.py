"""The Sanitas Python SDK: ``Client(base_url, token)`` over the HTTP API."""

from sanitas.sdk.client import Client
from sanitas.sdk.errors import (
    APIError,
    AuthError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    SanitasError,
    ServerError,
    TransportError,
)
from sanitas.sdk.types import (
    AnonymizationRun,
    Batch,
    Dataset,
    Job,
    Label,
    Source,
    Stream,
    StreamResult,
    SyncResult,
)

__all__ = [
    "APIError",
    "AnonymizationRun",
    "AuthError",
    "BadRequestError",
    "Batch",
    "Client",
    "ConflictError",
    "Dataset",
    "Job",
    "Label",
    "NotFoundError",
    "RateLimitedError",
    "SanitasError",
    "ServerError",
    "Source",
    "Stream",
    "StreamResult",
    "SyncResult",
    "TransportError",
]
