"""Declared action and read routes, app-level over real Redis, in seed 001's shapes; each
test runs on the Python blueprint and on its YAML twin (``alert.yaml``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import OTHER_CLIENT_TOKEN, Api
from tests.routes.conftest import BEARER

AUTH = {"Authorization": BEARER}


@pytest.fixture(params=["route-alerts", "yaml-alerts"], ids=["python", "yaml"])
def base(request: pytest.FixtureRequest) -> str:
    return f"/api/v1/{request.param}"


async def call(
    api: Api, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    resp = await api.client.request(method, path, json=body, headers={**AUTH, **headers})
    return resp.status, await resp.json()


async def start(api: Api, base: str, alert_id: str) -> None:
    status, body = await call(api, "POST", base, {"id": alert_id, "severity": "high"})
    assert status == 202, body
    assert body["job_id"] == alert_id
    assert body["status"] == "waiting_for_human"


async def test_acknowledge_once_then_refused_with_the_seed_body(api: Api, base: str) -> None:
    await start(api, base, "alert-1")
    status, body = await call(api, "GET", f"{base}/alert-1")
    assert (status, body["status"], body["severity"]) == (200, "OPEN", "high")
    status, body = await call(api, "POST", f"{base}/alert-1/acknowledge", **{"x-username": "ana"})
    assert (status, body) == (
        200,
        {
            "success": True,
            "alertId": "alert-1",
            "status": "ACKNOWLEDGED",
            "message": "Alert acknowledged",
        },
    )
    status, body = await call(api, "POST", f"{base}/alert-1/acknowledge")
    assert status == 400
    assert body["currentStatus"] == "ACKNOWLEDGED"
    assert set(body) == {"error", "currentStatus"}
    status, body = await call(api, "GET", f"{base}/alert-1")
    assert (status, body) == (
        200,
        {
            "alertId": "alert-1",
            "status": "ACKNOWLEDGED",
            "severity": "high",
            "acknowledgedBy": "ana",
        },
    )
    job = await api.job("alert-1")
    assert job["status"] == "finished" and job["result"]["status"] == "ACKNOWLEDGED"


async def test_an_unknown_alert_is_404_in_the_seed_shape(api: Api, base: str) -> None:
    for method, path in [("POST", f"{base}/nope/acknowledge"), ("GET", f"{base}/nope")]:
        status, body = await call(api, method, path)
        assert (status, body) == (404, {"error": "Alert not found", "alertId": "nope"})


async def test_another_clients_or_another_blueprints_job_is_not_found(api: Api, base: str) -> None:
    await start(api, base, "alert-2")
    other = {"Authorization": f"Bearer {OTHER_CLIENT_TOKEN}"}
    resp = await api.client.post(f"{base}/alert-2/acknowledge", headers=other)
    assert resp.status == 404
    audit = {"task_uuid": "t", "notes": "n", "isCall": True}
    status, body = await call(api, "POST", "/api/v1/validate-thing-quickly", audit)
    assert status == 202, body
    other_job = body["job_id"]
    status, body = await call(api, "POST", f"{base}/{other_job}/acknowledge")
    assert (status, body) == (404, {"error": "Alert not found", "alertId": other_job})


async def test_a_field_the_step_requires_is_the_invalid_shape(api: Api, base: str) -> None:
    await start(api, base, "alert-3")
    status, body = await call(api, "POST", f"{base}/alert-3/dismiss", {})
    assert status == 400
    assert body == {"error": "notes: required for decision 'dismiss'", "field": "notes"}
    status, body = await call(api, "POST", f"{base}/alert-3/dismiss", {"notes": "duplicate"})
    assert (status, body) == (200, {"success": True, "alertId": "alert-3", "status": "DISMISSED"})
    status, body = await call(api, "POST", f"{base}/alert-3/acknowledge")
    assert status == 400 and body["currentStatus"] == "DISMISSED"


async def test_a_role_mismatch_is_the_invalid_shape(api: Api, base: str) -> None:
    await start(api, base, "alert-4")
    status, body = await call(
        api, "POST", f"{base}/alert-4/acknowledge", {"actor": "bo", "actor_roles": ["sales"]}
    )
    assert status == 400
    assert body["currentStatus"] == "OPEN" and "compliance" in body["error"]


async def test_the_same_alert_id_twice_is_one_job(api: Api, base: str) -> None:
    await start(api, base, "alert-5")
    status, body = await call(api, "POST", base, {"id": "alert-5", "severity": "high"})
    assert status == 202 and body["job_id"] == "alert-5"
    jobs = await api.client.get("/api/v1/jobs", headers=AUTH)
    assert [j["job_id"] for j in (await jobs.json())["jobs"]] == ["alert-5"]


async def test_the_alert_id_may_come_as_idempotency_key(api: Api, base: str) -> None:
    status, body = await call(api, "POST", base, {"severity": "low"}, **{"Idempotency-Key": "k-9"})
    assert (status, body["job_id"]) == (202, "k-9")


async def test_an_alert_id_of_another_client_is_taken(api: Api, base: str) -> None:
    await start(api, base, "alert-6")
    resp = await api.client.post(
        base, json={"id": "alert-6"}, headers={"Authorization": f"Bearer {OTHER_CLIENT_TOKEN}"}
    )
    body = await resp.json()
    assert resp.status == 409 and body["code"] == "JOB_ID_TAKEN"


async def test_an_alert_id_that_cannot_be_a_job_id_is_400(api: Api, base: str) -> None:
    status, body = await call(api, "POST", base, {"id": "a{b}"})
    assert status == 400 and body["code"] == "VALIDATION_ERROR"


async def test_keys_of_the_client_system_are_left_alone(api: Api, base: str) -> None:
    await start(api, base, "alert-7")
    status, body = await call(
        api, "POST", f"{base}/alert-7/dismiss", {"notes": "dup", "reason_code": 7}
    )
    assert (status, body["status"]) == (200, "DISMISSED")


async def test_a_body_naming_another_decision_is_refused(api: Api, base: str) -> None:
    await start(api, base, "alert-8")
    status, body = await call(api, "POST", f"{base}/alert-8/dismiss", {"decision": "acknowledge"})
    assert status == 400 and body["field"] == "decision"


async def test_an_alert_id_another_blueprints_job_holds_is_taken(api: Api) -> None:
    await start(api, "/api/v1/route-alerts", "alert-9")
    status, body = await call(api, "POST", "/api/v1/yaml-alerts", {"id": "alert-9"})
    assert (status, body["code"]) == (409, "JOB_ID_TAKEN")


async def test_a_start_routes_actor_header_is_the_jobs_actor_unless_the_body_names_one(
    api: Api, base: str
) -> None:
    by_header = {"id": "alert-10", "severity": "high"}
    status, _ = await call(api, "POST", base, by_header, **{"x-username": "ana"})
    assert status == 202
    status, _ = await call(
        api, "POST", base, {"id": "alert-11", "actor": "bo"}, **{"x-username": "ana"}
    )
    assert status == 202
    status, _ = await call(api, "POST", base, {"id": "alert-12"})
    assert status == 202

    actors = []
    for alert_id in ("alert-10", "alert-11", "alert-12"):
        status, job = await call(api, "GET", f"/api/v1/jobs/{alert_id}")
        assert status == 200, job
        actors.append(job["initial_data"].get("actor"))

    assert actors == ["ana", "bo", None]
