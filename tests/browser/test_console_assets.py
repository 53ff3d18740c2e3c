"""The console's page and assets: served from the package, same-origin only, nothing to run from data."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from sanitas.cli.main import console_url

ASSETS = sorted(p.name for p in resources.files("sanitas.console").joinpath("static").iterdir())


def test_the_page_and_its_assets_are_served_without_a_key(anon: TestClient) -> None:
    r = anon.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # Every asset the page names is served, with its media type.
    named = re.findall(r'(?:src|href)="/console/([^"]+)"', r.text)
    assert "app.js" in named and "console.css" in named
    for name in named:
        got = anon.get(f"/console/{name}")
        assert got.status_code == 200, name
        assert got.headers["content-type"].split(";")[0] in ("text/css", "text/javascript"), name


@pytest.mark.parametrize("name", ASSETS)
def test_no_asset_reaches_outside_the_origin(name: str) -> None:
    """No CDN, nothing fetched at run time; no script parses data as HTML."""
    body = resources.files("sanitas.console").joinpath("static", name).read_text()
    assert not re.search(r"""(src|href|import|from|url\()\s*=?\s*["'(]?\s*(https?:)?//""", body), name
    assert "innerHTML" not in body and "insertAdjacentHTML" not in body and "eval(" not in body, name


def test_every_module_an_asset_imports_is_served(anon: TestClient) -> None:
    for name in ASSETS:
        body = resources.files("sanitas.console").joinpath("static", name).read_text()
        for target in re.findall(r'from "(/console/[^"]+)"', body):
            assert anon.get(target).status_code == 200, (name, target)


@pytest.mark.parametrize(
    "path", ["/console/nope.js", "/console/..%2fviews.py", "/console/views.py", "/console/"]
)
def test_unknown_assets_are_404_in_the_envelope(anon: TestClient, path: str) -> None:
    r = anon.get(path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_the_data_routes_still_need_a_key(anon: TestClient) -> None:
    assert anon.get("/api/v1/datasets").status_code == 401


@pytest.mark.parametrize(
    ("host", "public", "url"),
    [
        ("127.0.0.1", None, "http://127.0.0.1:8000/"),
        ("0.0.0.0", None, "http://127.0.0.1:8000/"),
        ("::1", None, "http://[::1]:8000/"),
        ("0.0.0.0", "https://sanitas.example.com/base", "https://sanitas.example.com/base/"),
    ],
)
def test_the_printed_console_url(host: str, public: str | None, url: str) -> None:
    assert console_url(host, 8000, public) == url
