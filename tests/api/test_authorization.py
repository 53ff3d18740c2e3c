"""One authorization idiom: every route of every domain router authenticates and checks a role.

A route either takes ``Reader``/``Writer``/``Admin`` from ``sanitas.api.deps`` or is one of the few
that are public by design (probes, login, and the signed download links, which carry their own
signature instead of a key).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from sanitas.api import deps
from sanitas.api.routes import NATIVE_ROUTERS, REINFER_ROUTERS

PUBLIC = {
    ("POST", "/api/auth/login"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}
ROLES = {deps.reader, deps.writer, deps.admin}


def _calls(dependant: Any) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _routes() -> list[tuple[str, str, APIRoute]]:
    out = []
    for module in REINFER_ROUTERS + NATIVE_ROUTERS:
        for route in importlib.import_module(module).router.routes:
            if isinstance(route, APIRoute):
                out += [(m, route.path, route) for m in sorted(route.methods)]
    return out


def test_there_are_routes_to_check() -> None:
    assert len(_routes()) > 60


@pytest.mark.parametrize(("method", "path", "route"), _routes(), ids=lambda v: str(getattr(v, "name", v)))
def test_every_route_checks_a_role(method: str, path: str, route: APIRoute) -> None:
    signed = "signature" in {p.name for p in route.dependant.query_params}
    if (method, path) in PUBLIC or signed:
        return
    assert set(_calls(route.dependant)) & ROLES, f"{method} {path} takes no Reader/Writer/Admin"


def test_views_use_the_shared_aliases() -> None:
    """No view spells its own role dependency: the aliases live in one place."""
    import pathlib

    root = pathlib.Path(deps.__file__).resolve().parents[1]
    for path in [*root.glob("*/views.py"), *root.glob("*/native_views.py")]:
        text = path.read_text()
        assert "Depends(reader)" not in text and "Depends(writer)" not in text, path
        assert "Depends(get_db)" not in text, path
