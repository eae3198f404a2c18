"""The console's files: served from the package, self-contained, locked to this origin."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from orchestrator import BlueprintRegistry, create_app
from orchestrator.config_sources import load_settings
from orchestrator.console.routes import _NAME
from orchestrator.storage.embedded import embedded_store
from tests.api.blueprints import ALL
from tests.api.conftest import make_settings
from tests.helpers import ROOT

STATIC = ROOT / "orchestrator" / "console" / "static"
FILES = sorted(p.name for p in STATIC.iterdir())


@pytest.fixture
async def client(aiohttp_client: Any, prefix: str) -> AsyncIterator[TestClient[Any, Any]]:
    store = embedded_store(prefix)
    try:
        yield await aiohttp_client(create_app(make_settings(), store, BlueprintRegistry(ALL)))
    finally:
        await store.close()


async def test_the_page_and_every_file_it_loads_are_served(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/console", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].endswith("/console/")
    resp = await client.get("/console/")
    assert resp.status == 200 and resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert "font-src 'none'" in csp
    # no token is needed for the files: the token is typed into the page, then sent to /api
    page = await resp.text()
    assert '<script type="module" src="app.js">' in page
    for name in FILES:
        resp = await client.get(f"/console/{name}")
        assert resp.status == 200, name
        assert resp.headers["Cache-Control"] == "no-cache"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_nothing_outside_the_static_directory_is_served(
    client: TestClient[Any, Any],
) -> None:
    for path in (
        "/console/routes.py",
        "/console/__init__.py",
        "/console/..%2Froutes.py",
        "/console/%2e%2e%2fapp.py",
        "/console/.hidden.js",
        "/console/nope.js",
    ):
        resp = await client.get(path)
        assert resp.status == 404, path
        body = await resp.json()
        assert body["error"]["code"] == "NOT_FOUND", path


async def test_a_deployment_can_turn_the_console_off(aiohttp_client: Any, prefix: str) -> None:
    store = embedded_store(prefix)
    try:
        app = create_app(make_settings(console_enabled=False), store, BlueprintRegistry(ALL))
        client = await aiohttp_client(app)
        for path in ("/console", "/console/", "/console/app.js"):
            assert (await client.get(path)).status == 404, path
    finally:
        await store.close()
    settings = load_settings({"ORCH_CONSOLE_ENABLED": "false", "ORCH_DEV_MODE": "true"})
    assert settings.http.console_enabled is False


def test_every_file_is_servable_and_packaged() -> None:
    assert "index.html" in FILES and "app.js" in FILES
    for name in FILES:
        assert _NAME.fullmatch(name), f"{name}: the console route would not serve it"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"console/static/*"' in pyproject


def test_the_files_load_nothing_from_another_host() -> None:
    """No CDN, no web font, no remote image: every URL in the files is relative, and the
    scripts only import each other. (The browser test checks the requests it really sees.)"""
    for name in FILES:
        text = (STATIC / name).read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name
        assert "@import" not in text and "url(http" not in text, name
        assert "//" + "cdn" not in text, name
        for target in re.findall(r"""\bfrom\s+["']([^"']+)["']""", text):
            assert re.fullmatch(r"\./[a-z0-9_-]+\.js", target), (name, target)
            assert target[2:] in FILES, (name, target)


def test_the_token_never_goes_into_a_url() -> None:
    """It is sent as the X-Client-Token header; EventSource (which cannot send headers) is
    not used, and no query string is built from it."""
    api = (STATIC / "api.js").read_text()
    assert '"X-Client-Token": token()' in api
    for name in FILES:
        text = (STATIC / name).read_text()
        assert "EventSource(" not in text, name
        assert not re.search(r"searchParams\.set\([^)]*token", text, re.I), name
    # the input has no name: a form submitted before the script runs cannot send it
    assert re.search(r'<input id="token" type="password"', (STATIC / "index.html").read_text())
