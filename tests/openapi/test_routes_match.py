"""The OpenAPI document and the app's routes are the same set, in both directions; the
document is valid OpenAPI 3.1; /_public/docs works offline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from orchestrator import BlueprintRegistry, create_app
from orchestrator.api.openapi import build_document, docs_page
from orchestrator.appkeys import REGISTRY, SETTINGS
from orchestrator.storage.embedded import embedded_store
from tests.api.blueprints import ALL
from tests.api.conftest import CLIENT_TOKEN, WORKER_TOKEN, make_settings
from tests.helpers import ROOT

METHODS = {"get", "put", "post", "patch", "delete", "options"}
CREATE = ("POST", "/api/{version}/{endpoint}")
CONSOLE = "/console"


@pytest.fixture(params=[False, True], ids=["prod", "dev"])
async def app(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[web.Application]:
    store = embedded_store(prefix)
    try:
        yield create_app(make_settings(dev_mode=request.param), store, BlueprintRegistry(ALL))
    finally:
        await store.close()


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route; HEAD is the one aiohttp adds to each GET."""
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        assert route.resource is not None
        if route.resource.canonical.startswith(CONSOLE):
            continue  # the console's HTML and scripts for people, not API operations
        found.add((route.method, route.resource.canonical))
    return found


def documented(doc: dict[str, Any]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(operations of routes, concrete create operations of blueprints)."""
    routes, blueprints = set(), set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert method in METHODS, (path, method)
            (blueprints if "x-blueprint" in op else routes).add((method.upper(), path))
    return routes, blueprints


def test_document_and_routes_match(app: web.Application) -> None:
    doc = build_document(app[SETTINGS], app[REGISTRY].all())
    routes, blueprints = documented(doc)
    served = app_routes(app)
    assert CREATE in served
    assert served - routes == set(), "routes missing from the OpenAPI document"
    assert routes - served == set(), "documented operations the app does not serve"
    expected = {("POST", f"/api/{bp.api_version}/{bp.api_endpoint}") for bp in ALL}
    assert blueprints == expected


def test_document_is_valid_openapi_31(app: web.Application) -> None:
    doc = build_document(app[SETTINGS], app[REGISTRY].all())
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # picks the 3.1 validator from the document's version
    op_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(op_ids) == len(set(op_ids))


def test_every_operation_is_tagged_by_group_and_secured() -> None:
    doc = build_document(make_settings(dev_mode=True), ALL)
    expected = {
        "/_public/": ("public", []),
        "/api/": ("clients", [{"ClientToken": []}, {"ClientBearer": []}]),
        "/_worker/": ("workers", [{"WorkerToken": []}]),
    }
    for path, item in doc["paths"].items():
        tag, security = next(v for prefix, v in expected.items() if path.startswith(prefix))
        for op in item.values():
            assert op["tags"] == [tag], path
            assert op["security"] == security, path
            if tag != "public":
                assert "401" in op["responses"], path


async def test_served_document_and_docs_page(aiohttp_client: Any, prefix: str) -> None:
    store = embedded_store(prefix)
    app = create_app(make_settings(), store, BlueprintRegistry(ALL))
    client = await aiohttp_client(app)
    resp = await client.get("/_public/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == build_document(make_settings(), ALL)
    resp = await client.get("/_public/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert 'fetch("openapi.json")' in page
    # the page is public: no token is needed for it nor for the document
    assert (await client.get("/_public/docs", headers={"X-Client-Token": CLIENT_TOKEN})).ok


def test_docs_page_needs_nothing_from_the_network() -> None:
    page = docs_page()
    assert "http://" not in page and "https://" not in page
    links = re.findall(r"""(?:src|href|action)\s*=\s*["']([^"']*)["']""", page, re.IGNORECASE)
    assert all(not re.match(r"^[a-z][a-z0-9+.-]*:|^//", link, re.I) for link in links), links
    assert "@import" not in page and "url(" not in page
    fetched = re.findall(r"""fetch\(\s*["'`]([^"'`]*)""", page)
    assert fetched == ["openapi.json"]


def test_the_api_guide_lists_every_route() -> None:
    """docs/api.md's table of endpoints is the document's operations, no more, no fewer."""
    doc = build_document(make_settings(dev_mode=True), ALL)
    routes, _ = documented(doc)
    guide = (ROOT / "docs" / "api.md").read_text()
    listed = set(re.findall(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \|", guide, re.M))
    assert listed == routes


PLACEHOLDERS = {
    "job_id": "j1",
    "worker_id": "w1",
    "filename": "f.txt",
    "name": "greeting",
    "version": "v1",
    "endpoint": "greeting",
}


async def test_a_405_lists_the_methods_the_path_answers(
    app: web.Application, aiohttp_client: Any
) -> None:
    """RFC 9110 15.5.6: every 405 carries ``Allow``, and ``Allow`` is what the document
    lists for the path (HEAD comes with each GET)."""
    client = await aiohttp_client(app)
    headers = {"X-Client-Token": CLIENT_TOKEN, "X-Worker-Token": WORKER_TOKEN}
    doc = build_document(app[SETTINGS], app[REGISTRY].all())
    checked = 0
    for template, item in doc["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], template)
        documented = {method.upper() for method in item}
        # the same path may be documented twice: `{version}/{endpoint}` and `v1/greeting`
        for other, other_item in doc["paths"].items():
            pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(other))
            if other not in (template, CREATE[1]) and re.fullmatch(pattern, path):
                documented |= {method.upper() for method in other_item}
        expected = documented | ({"HEAD"} if "GET" in documented else set())
        method = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in expected)
        resp = await client.request(method, path, headers=headers)
        body = await resp.text()
        assert resp.status == 405, (method, path, resp.status, body)
        assert set(resp.headers.get("Allow", "").split(", ")) == expected, (method, path)
        assert (await resp.json())["error"]["details"]["allowed"] == sorted(expected)
        checked += 1
    assert checked == len(doc["paths"])


async def test_a_path_only_the_create_route_matches_is_a_404(
    app: web.Application, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/no-such-thing", headers={"X-Client-Token": CLIENT_TOKEN})
    assert resp.status == 404, await resp.text()
    assert "Allow" not in resp.headers
