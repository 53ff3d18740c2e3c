"""Sanitas: heal labelled text datasets, anonymize PII, stream comments with pinned model predictions.

The Python SDK is ``sanitas.Client`` (imported lazily, so the server does not load it)::

    from sanitas import Client
    client = Client("http://127.0.0.1:8000", token="sk_…")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from sanitas.sdk import Client

        return Client
    raise AttributeError(f"module 'sanitas' has no attribute {name!r}")
