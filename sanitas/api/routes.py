"""Mount every domain's router (Re:infer routers twice: ``/api/v1`` and the ``/api/preview`` alias) and
the web console."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI

REINFER_ROUTERS = (
    "sanitas.sources.views",
    "sanitas.datasets.views",
    "sanitas.models.views",
    "sanitas.streams.views",
)
NATIVE_ROUTERS = (
    "sanitas.auth.views",
    "sanitas.jobs.views",
    "sanitas.datasets.native_views",
    "sanitas.heal.views",
    "sanitas.anonymization.views",
)
#: the web console's page and assets: public static files (they hold no data), so apart from the
#: domain routers whose every route must check a role
CONSOLE_ROUTER = "sanitas.console.views"


def _router(module: str) -> APIRouter | None:
    try:
        return importlib.import_module(module).router
    except ModuleNotFoundError as exc:
        if not exc.name or not module.startswith(exc.name):
            raise
        return None


def include_routers(app: FastAPI) -> None:
    """Attach all routers that exist in this build."""
    for module in REINFER_ROUTERS:
        router = _router(module)
        if router is not None:
            app.include_router(router, prefix="/api/v1")
            app.include_router(router, prefix="/api/preview", include_in_schema=False)
    for module in NATIVE_ROUTERS:
        router = _router(module)
        if router is not None:
            app.include_router(router)
    console = _router(CONSOLE_ROUTER)
    if console is not None:
        app.include_router(console)
