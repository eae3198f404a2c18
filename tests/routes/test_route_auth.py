"""Client tokens on declared routes: Bearer or X-Client-Token; the two 401s answered in the
route's own shape (seed 000: MISSING_AUTH_HEADER, UNAUTHORIZED)."""

from __future__ import annotations

import pytest

from tests.api.conftest import CLIENT_TOKEN, WORKER_TOKEN, Api

STATUSES = [
    ({}, "MISSING_AUTH_HEADER"),
    ({"X-Client-Token": ""}, "MISSING_AUTH_HEADER"),
    ({"Authorization": "Bearer nope"}, "UNAUTHORIZED"),
    ({"Authorization": f"Bearer {WORKER_TOKEN}"}, "UNAUTHORIZED"),
    ({"Authorization": f"Token {CLIENT_TOKEN}"}, "UNAUTHORIZED"),
    ({"X-Client-Token": "nope"}, "UNAUTHORIZED"),
]
IDS = ["none", "empty", "wrong bearer", "worker token", "other scheme", "wrong x-client-token"]


@pytest.mark.parametrize(("headers", "code"), STATUSES, ids=IDS)
async def test_a_start_route_answers_401_in_its_failure_shape(
    api: Api, headers: dict[str, str], code: str
) -> None:
    resp = await api.client.post("/api/v1/validate-thing", json={}, headers=headers)
    body = await resp.json()
    assert resp.status == 401, body
    assert set(body) == {"success", "code", "message"}
    assert (body["success"], body["code"]) == (False, code)
    assert "token" in body["message"].lower()


@pytest.mark.parametrize(("headers", "code"), STATUSES[:3], ids=IDS[:3])
async def test_an_action_route_answers_401_in_its_error_shape(
    api: Api, headers: dict[str, str], code: str
) -> None:
    resp = await api.client.post("/api/v1/route-alerts/a1/acknowledge", headers=headers)
    body = await resp.json()
    assert resp.status == 401, body
    assert body["code"] == code and set(body) == {"error", "code"}


async def test_a_route_without_an_error_shape_answers_the_envelope(api: Api) -> None:
    resp = await api.client.get("/api/v1/route-alerts/a1")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "MISSING_AUTH_HEADER"


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {CLIENT_TOKEN}"}, {"X-Client-Token": CLIENT_TOKEN}],
    ids=["bearer", "x-client-token"],
)
async def test_either_header_is_accepted(api: Api, headers: dict[str, str]) -> None:
    resp = await api.client.post("/api/v1/route-alerts", json={"id": "a9"}, headers=headers)
    assert resp.status == 202, await resp.text()
    resp = await api.client.get("/api/v1/jobs/a9", headers=headers)
    assert (await resp.json())["status"] == "waiting_for_human"
