"""Declared routes in the OpenAPI document (generated from the declarations) and in the
blueprint list; the document still matches the app's routes both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from orchestrator import BlueprintRegistry, create_app
from orchestrator.api.openapi import build_document
from orchestrator.appkeys import REGISTRY, SETTINGS
from orchestrator.storage.embedded import embedded_store
from tests.api.conftest import Api, make_settings
from tests.openapi.test_routes_match import app_routes, documented
from tests.routes.conftest import BEARER, BLUEPRINTS

DECLARED = {
    ("POST", "/api/v1/validate-thing"),
    ("POST", "/api/v1/validate-thing-quickly"),
    ("POST", "/api/v1/route-alerts"),
    ("POST", "/api/v1/route-alerts/{id}/acknowledge"),
    ("POST", "/api/v1/route-alerts/{id}/dismiss"),
    ("GET", "/api/v1/route-alerts/{id}"),
    ("POST", "/api/v1/yaml-alerts"),
    ("POST", "/api/v1/yaml-alerts/{id}/acknowledge"),
    ("POST", "/api/v1/yaml-alerts/{id}/dismiss"),
    ("GET", "/api/v1/yaml-alerts/{id}"),
}


@pytest.fixture
async def app(prefix: str) -> AsyncIterator[web.Application]:
    store = embedded_store(prefix)
    try:
        yield create_app(make_settings(), store, BlueprintRegistry(BLUEPRINTS))
    finally:
        await store.close()


def document(app: web.Application) -> dict[str, Any]:
    return build_document(app[SETTINGS], app[REGISTRY].all())


def test_declared_routes_are_served_and_documented(app: web.Application) -> None:
    doc = document(app)
    routes, _ = documented(doc)
    served = app_routes(app)
    assert served >= DECLARED
    assert routes >= DECLARED  # the whole set is tests/openapi/test_routes_match.py's to check
    marked = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "x-blueprint-route" in op
    }
    assert marked == DECLARED
    validate(doc)


def test_a_start_route_documents_its_forms_and_statuses(app: web.Application) -> None:
    op = document(app)["paths"]["/api/v1/validate-thing"]["post"]
    content = op["requestBody"]["content"]
    assert content["application/json"]["schema"]["properties"] == {"task_uuid": {"type": "string"}}
    form = content["multipart/form-data"]["schema"]
    assert form["properties"]["isCall"]["enum"][:2] == ["true", "false"]
    assert form["additionalProperties"] == {"type": "string", "format": "binary"}
    assert {"200", "202", "400", "401", "404", "500", "501", "502"} <= set(op["responses"])
    failure = op["responses"]["502"]["content"]["application/json"]["schema"]
    assert failure["required"] == ["success", "code", "message"]
    assert failure["properties"]["success"] == {"const": False}
    quick = document(app)["paths"]["/api/v1/validate-thing-quickly"]["post"]
    assert "multipart/form-data" not in quick["requestBody"]["content"]
    assert "501" not in quick["responses"]


def test_an_action_route_documents_each_declared_shape(app: web.Application) -> None:
    op = document(app)["paths"]["/api/v1/yaml-alerts/{id}/acknowledge"]["post"]
    assert op["parameters"][0]["name"] == "id"
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["properties"]["status"] == {"const": "ACKNOWLEDGED"}
    assert ok["properties"]["alertId"] == {}
    missing = op["responses"]["404"]["content"]["application/json"]["schema"]
    assert missing["properties"]["error"] == {"const": "Alert not found"}
    refused = op["responses"]["401"]["content"]["application/json"]["schema"]
    assert set(refused["properties"]) == {"error", "code"}  # the route's `error` shape


async def test_the_blueprint_list_names_the_routes(api: Api) -> None:
    resp = await api.client.get("/api/v1/blueprints", headers={"Authorization": BEARER})
    listed = {bp["name"]: bp for bp in await resp.json()}
    assert listed["yaml_alert"]["routes"] == [
        {"kind": "start", "method": "POST", "path": "/api/v1/yaml-alerts"},
        {"kind": "action", "method": "POST", "path": "/api/v1/yaml-alerts/{id}/acknowledge"},
        {"kind": "action", "method": "POST", "path": "/api/v1/yaml-alerts/{id}/dismiss"},
        {"kind": "read", "method": "GET", "path": "/api/v1/yaml-alerts/{id}"},
    ]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/route-alerts/a1", "GET, HEAD"),
        ("GET", "/api/v1/route-alerts/a1/acknowledge", "POST"),
        ("PUT", "/api/v1/validate-thing", "POST"),
    ],
)
async def test_another_method_on_a_declared_path_is_405(
    api: Api, method: str, path: str, allowed: str
) -> None:
    resp = await api.client.request(method, path, headers={"Authorization": BEARER})
    assert resp.status == 405, await resp.text()
    assert resp.headers["Allow"] == allowed


async def test_a_head_on_a_read_route_answers_like_its_get(api: Api) -> None:
    resp = await api.client.head("/api/v1/route-alerts/nope", headers={"Authorization": BEARER})
    assert resp.status == 404
