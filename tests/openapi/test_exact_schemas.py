"""The OpenAPI document's request schemas say exactly what the server takes.

Each case is judged twice: by the document (JSON Schema, as a client generator or a fuzzer
reads it) and by the server (refused for its shape with a 400, or not). The two must agree.
The cases are the ones schemathesis found where they did not: ``capacity: 611.0``, webhook
URLs, control characters in an ``Idempotency-Key`` or a file name, an empty ``filename``, the
worker file routes' worker id, a plain GET on the WebSocket route, an empty upload.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from orchestrator.api.openapi import build_document
from orchestrator.appkeys import REGISTRY, SETTINGS
from tests.api.conftest import Api, MakeApi, client_headers, worker_headers

Doc = dict[str, Any]


def document(api: Api) -> Doc:
    return build_document(api.app[SETTINGS], api.app[REGISTRY].all())


def body_fits(doc: Doc, name: str, body: object) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return bool(Draft202012Validator(schema).is_valid(body))


def parameter_fits(doc: Doc, path: str, method: str, name: str, value: str | None) -> bool:
    (param,) = [p for p in doc["paths"][path][method]["parameters"] if p["name"] == name]
    if value is None:
        return not param["required"]
    return bool(Draft202012Validator(param["schema"]).is_valid(value))


def refused(status: int) -> bool:
    return status == 400


COUNTS = [611.0, 611, 1, 0, -1, 1.5, 2**53 - 1, 2**53, 2.4e20, True, "2", None]


@pytest.mark.parametrize("capacity", COUNTS)
async def test_registration_capacity(api: Api, capacity: object) -> None:
    body = {"worker_id": "w9", "supported_skills": ["greet"], "capacity": capacity}
    resp = await api.client.post("/_worker/workers/register", json=body, headers=worker_headers())
    assert body_fits(document(api), "Registration", body) == (resp.status == 200), (
        resp.status,
        await resp.text(),
    )


@pytest.mark.parametrize("field", ["load", "capacity"])
@pytest.mark.parametrize("value", COUNTS)
async def test_heartbeat_counts(api: Api, field: str, value: object) -> None:
    await api.register("w9")
    body = {field: value}
    resp = await api.heartbeat("w9", body)
    assert body_fits(document(api), "Heartbeat", body) == (resp.status == 200), (
        resp.status,
        await resp.text(),
    )


ALLOWED = ("hooks.example.com", "*.corp.io")
URLS = [
    "http://hooks.example.com/x",
    "HtTPs://HOOKS.example.com.:8443/a?b#c",
    "https://user:pw@a.corp.io/hook",
    "https://corp.io/",
    "http://evil.com/hooks.example.com",
    "http://hooks.example.com@evil.com/",
    "http://",
    "http:///path",
    "http://hooks.example.com:0/",
    "http://hooks.example.com:65536/",
    "http://[::1]/",
    "ftp://hooks.example.com/",
    "http://hooks.example.com/a b",
    "http://hooks.example.com/\x85",
    "http://hooks.example.com\n",
    "http://hooks.example.com/" + "x" * 2048,
    None,
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "server",
    [
        {},
        {"webhook_secret": "s3cret-for-tests"},
        {
            "webhook_secret": "s3cret-for-tests",
            "webhook_allowed_hosts": ("hooks.example.com", "*.corp.io"),
        },
    ],
    ids=["webhooks-off", "any-host", "allowed-hosts"],
)
async def test_webhook_url(make_api: MakeApi, server: dict[str, Any], url: str | None) -> None:
    api = await make_api(**server)
    body = {"initial_data": {"name": "Ada"}, "webhook_url": url}
    resp = await api.client.post("/api/v1/greeting", json=body, headers=client_headers())
    assert resp.status in (202, 400), await resp.text()
    assert body_fits(document(api), "NewJob", body) == (resp.status == 202), await resp.text()


@pytest.mark.parametrize("key", ["k-1", "a b", "~!", "a\tb", "é", "x" * 255, "x" * 256])
async def test_idempotency_key(api: Api, key: str) -> None:
    resp = await api.client.post(
        "/api/v1/greeting",
        json={"initial_data": {"name": "Ada"}},
        headers={**client_headers(), "Idempotency-Key": key},
    )
    fits = parameter_fits(document(api), "/api/v1/greeting", "post", "Idempotency-Key", key)
    assert fits == (not refused(resp.status)), (resp.status, await resp.text())


NAMES = ["report.txt", "ñandú.png", "a b", "", ".", "a..b", "a\x01b", "a\x7fb", "x" * 255]


@pytest.mark.parametrize("name", NAMES)
async def test_file_name_of_an_upload_link(
    make_api: MakeApi, s3_settings: dict[str, Any], name: str
) -> None:
    api = await make_api(**s3_settings)
    job_id = await api.create()
    path = "/api/v1/jobs/{job_id}/files/upload"
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/upload", params={"filename": name}, headers=client_headers()
    )
    fits = parameter_fits(document(api), path, "get", "filename", name)
    assert fits == (not refused(resp.status)), (resp.status, await resp.text())


async def test_the_upload_link_needs_a_file_name(
    make_api: MakeApi, s3_settings: dict[str, Any]
) -> None:
    api = await make_api(**s3_settings)
    job_id = await api.create()
    resp = await api.client.get(f"/api/v1/jobs/{job_id}/files/upload", headers=client_headers())
    path = "/api/v1/jobs/{job_id}/files/upload"
    assert not parameter_fits(document(api), path, "get", "filename", None)
    assert refused(resp.status), await resp.text()


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("", ".")])
async def test_file_name_in_a_path(
    make_api: MakeApi, s3_settings: dict[str, Any], name: str
) -> None:
    api = await make_api(**s3_settings)
    job_id = await api.create()
    path = "/api/v1/jobs/{job_id}/files/content/{filename}"
    url = api.client.make_url(f"/api/v1/jobs/{job_id}/files/content/").joinpath(name)
    resp = await api.client.session.put(url, data=b"x", headers=client_headers())
    fits = parameter_fits(document(api), path, "put", "filename", name)
    assert fits == (resp.status == 200), (resp.status, await resp.text())


async def test_an_empty_upload_is_an_empty_file(
    make_api: MakeApi, s3_settings: dict[str, Any]
) -> None:
    api = await make_api(**s3_settings)
    job_id = await api.create()
    op = document(api)["paths"]["/api/v1/jobs/{job_id}/files/content/{filename}"]["put"]
    assert op["requestBody"]["required"] is False
    resp = await api.client.put(
        f"/api/v1/jobs/{job_id}/files/content/empty.csv", headers=client_headers()
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["size"] == 0


@pytest.mark.parametrize("route", ["content", "download"])
async def test_the_worker_file_routes_need_the_worker_id_header(
    make_api: MakeApi, s3_settings: dict[str, Any], route: str
) -> None:
    api = await make_api(**s3_settings)
    method = "put" if route == "content" else "get"
    path = f"/_worker/jobs/{{job_id}}/files/{route}/{{filename}}"
    assert not parameter_fits(document(api), path, method, "X-Worker-Id", None)
    resp = await api.client.request(
        method.upper(), f"/_worker/jobs/j1/files/{route}/a.txt", headers=worker_headers()
    )
    assert refused(resp.status), await resp.text()


async def test_a_plain_get_on_the_websocket_route(api: Api) -> None:
    doc = document(api)
    assert not parameter_fits(doc, "/_worker/ws/{worker_id}", "get", "Upgrade", None)
    resp = await api.client.get("/_worker/ws/w9", headers=worker_headers())
    assert refused(resp.status), await resp.text()
    assert (await resp.json())["error"]["code"] == "WEBSOCKET_HANDSHAKE_REQUIRED"


HUMAN_BODIES = [
    ("assignment", "Assignment", {"assignee": None}),
    ("assignment", "Assignment", {"role": None, "assignee": "ann"}),
    ("assignment", "Assignment", {"role": "ops"}),
    ("assignment", "Assignment", {"role": "ok\n"}),
    ("assignment", "Assignment", {"assignee": "a b"}),
    ("assignment", "Assignment", {"role": "ops", "actor": None, "notes": "x" * 10001}),
    ("escalation", "Escalation", {}),
    ("escalation", "Escalation", {"actor": None, "reason": None}),
    ("escalation", "Escalation", {"actor": "x" * 257}),
    ("decision", "Decision", {"decision": "ok", "state": "x" * 257}),
    ("decision", "Decision", {"decision": "ok", "actor_roles": None, "data": None}),
    ("decision", "Decision", {"decision": "ok", "actor_roles": ["a", 1]}),
]


@pytest.mark.parametrize(("route", "name", "body"), HUMAN_BODIES)
async def test_human_bodies(api: Api, route: str, name: str, body: object) -> None:
    # The body is read before the job is looked up: a 404 means its shape was taken.
    resp = await api.client.post(f"/api/v1/jobs/nope/{route}", json=body, headers=client_headers())
    assert body_fits(document(api), name, body) == (resp.status != 400), await resp.text()


TRANSITIONS = [
    {"transition": "go"},
    {"transition": ""},
    {"transition": "go", "actor": None},
    {"transition_id": 5, "notes": "done"},
    {"transition_id": 5.0},
    {"transition_id": 0},
    {"transition_id": 1.5},
    {"transition_id": "5"},
    {"transition_id": 5, "transition": None},
    {"transition_id": 5, "transition": "go"},
    {"notes": "which one?"},
]


@pytest.mark.parametrize("body", TRANSITIONS)
async def test_ticket_transition(api: Api, body: object) -> None:
    resp = await api.client.post(
        "/api/v1/tickets/nope/transition", json=body, headers=client_headers()
    )
    assert body_fits(document(api), "TicketTransition", body) == (resp.status != 400), (
        await resp.text()
    )
