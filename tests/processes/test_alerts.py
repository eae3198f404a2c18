"""Seed 001's alerts through its own routes, with the example investigation worker and a
notify worker as real processes, on real Redis."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.helpers import wait_for
from tests.processes.conftest import ALERT_WORKER, NOTIFY_WORKER, Client, Processes

ALERT = {
    "severity": "high",
    "title": "Unusual transfer volume",
    "entity": {"id": "ent-42", "name": "ACME Ltd"},
    "details": {"amount": 250000, "currency": "EUR"},
}


async def _raise(client: Client, alert: dict[str, Any], **headers: str) -> dict[str, Any]:
    status, body = await client.call("POST", "/api/v1/alerts", alert, headers)
    assert status == 202, body
    return dict(body)


async def _alert(client: Client, alert_id: str) -> dict[str, Any]:
    status, body = await client.call("GET", f"/api/v1/alerts/{alert_id}")
    assert status == 200, body
    return dict(body)


async def _reaches(client: Client, alert_id: str, status: str) -> dict[str, Any]:
    async def there() -> dict[str, Any] | None:
        alert = await _alert(client, alert_id)
        return alert if alert["status"] == status else None

    return await wait_for(there, 20, f"alert {alert_id} to be {status}")


async def test_acknowledged_once_refused_the_second_time_then_resolved_with_findings(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    url = await processes.orchestrator()
    client = Client(http, url)
    raised = await _raise(client, ALERT, **{"Idempotency-Key": "alert-uuid-123"})
    assert raised == {
        "success": True,
        "alertId": "alert-uuid-123",
        "status": "OPEN",
        "message": "Alert received",
    }
    alert = await _alert(client, "alert-uuid-123")
    assert (alert["status"], alert["assignedRole"], alert["title"]) == (
        "OPEN",
        "compliance",
        ALERT["title"],
    )
    ack = "/api/v1/alerts/alert-uuid-123/acknowledge"

    first = await client.call("POST", ack)
    # no investigation worker runs yet, so the alert stays ACKNOWLEDGED while we ask again
    second = await client.call("POST", ack)

    assert first == (
        200,
        {
            "success": True,
            "alertId": "alert-uuid-123",
            "status": "ACKNOWLEDGED",
            "message": "Alert acknowledged successfully",
        },
    )
    assert second == (400, {"error": "Alert already acknowledged", "currentStatus": "ACKNOWLEDGED"})
    assert (await _alert(client, "alert-uuid-123"))["status"] == "ACKNOWLEDGED"

    processes.worker(url, ALERT_WORKER, "w-investigate")
    resolved = await _reaches(client, "alert-uuid-123", "RESOLVED")

    assert resolved["findings"] == [
        "ACME Ltd: screened against the sanctions and PEP lists, no match",
        "ACME Ltd: activity reviewed for the alert 'Unusual transfer volume'",
        "alert details checked: amount, currency",
    ]
    job = await client.job("alert-uuid-123")
    assert job["status"] == "finished"
    assert job["result"]["status"] == "RESOLVED"
    assert job["result"]["investigation"]["investigated_by"] == "w-investigate"
    assert await client.call("POST", ack) == (
        400,
        {"error": "Alert already acknowledged", "currentStatus": "RESOLVED"},
    )


async def test_the_same_alert_id_raised_again_is_the_same_alert(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    first = await _raise(client, {**ALERT, "id": "a-7"})
    again = await _raise(client, {**ALERT, "id": "a-7"})
    assert first["alertId"] == again["alertId"] == "a-7"
    jobs = await client.call("GET", "/api/v1/jobs?blueprint=alerts")
    assert [j["job_id"] for j in jobs[1]["jobs"]] == ["a-7"]


async def test_an_unknown_alert_is_404_in_the_seeds_shape(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    not_found = {"error": "Alert not found", "alertId": "no-such-alert"}

    assert await client.call("POST", "/api/v1/alerts/no-such-alert/acknowledge") == (
        404,
        not_found,
    )
    assert await client.call("POST", "/api/v1/alerts/no-such-alert/dismiss") == (404, not_found)
    assert await client.call("GET", "/api/v1/alerts/no-such-alert") == (404, not_found)


async def test_dismissed_then_acknowledge_is_refused(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    alert_id = (await _raise(client, {**ALERT, "severity": "low"}))["alertId"]

    status, body = await client.call(
        "POST", f"/api/v1/alerts/{alert_id}/dismiss", {"actor": "ana", "notes": "known customer"}
    )

    assert (status, body["status"], body["alertId"]) == (200, "DISMISSED", alert_id), body
    alert = await _reaches(client, alert_id, "DISMISSED")
    assert (alert["decidedBy"], alert["notes"]) == ("ana", "known customer")
    assert await client.call("POST", f"/api/v1/alerts/{alert_id}/acknowledge") == (
        400,
        {"error": "Alert already dismissed", "currentStatus": "DISMISSED"},
    )


async def test_a_bad_alert_is_refused_with_its_code(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())

    missing = await client.call("POST", "/api/v1/alerts", {"severity": "high"})
    wrong = await client.call("POST", "/api/v1/alerts", {**ALERT, "severity": "urgent"})
    async with http.post(f"{client.url}/api/v1/alerts", json=ALERT) as r:
        anonymous = r.status, await r.json()

    assert missing == (
        400,
        {"error": "missing required field(s): title", "code": "MISSING_FIELDS"},
    )
    assert wrong[0] == 400 and wrong[1]["code"] == "VALIDATION_ERROR", wrong
    assert "severity" in wrong[1]["error"]
    assert anonymous[0] == 401 and anonymous[1]["code"] == "MISSING_AUTH_HEADER", anonymous


async def test_unacknowledged_past_its_deadline_it_escalates_and_keeps_waiting(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    url = await processes.orchestrator(
        ALERT_ACK_DEADLINES="critical=0.5", ALERT_ESCALATION_ROLES="compliance-lead,cco"
    )
    processes.worker(url, NOTIFY_WORKER, "w-notify")
    processes.worker(url, ALERT_WORKER, "w-investigate")
    client = Client(http, url)
    alert_id = (await _raise(client, {**ALERT, "severity": "critical", "id": "crit-1"}))["alertId"]

    first, second = await client.events(alert_id, "escalated", 2)

    assert (first["from_role"], first["to_role"]) == ("compliance", "compliance-lead")
    assert (second["from_role"], second["to_role"]) == ("compliance-lead", "cco")
    alert = await _alert(client, alert_id)
    assert (alert["status"], alert["assignedRole"]) == ("ESCALATED", "cco")
    notices = await wait_for(lambda: _two(processes), 20, "two escalation notices")
    # the two notices are tasks of their own, which may run in either order
    assert sorted(notices, key=lambda n: str(n["text"])) == [
        {
            "text": "Alert crit-1 (critical) is not acknowledged after 0.5 s: escalated to "
            "compliance-lead",
            "variant": "warning",
            "is_global": True,
        },
        {
            "text": "Alert crit-1 (critical) is not acknowledged after 1 s: escalated to cco",
            "variant": "warning",
            "is_global": True,
        },
    ]

    status, body = await client.call("POST", f"/api/v1/alerts/{alert_id}/acknowledge")

    assert (status, body["status"]) == (200, "ACKNOWLEDGED"), body
    resolved = await _reaches(client, alert_id, "RESOLVED")
    assert len(resolved["findings"]) == 3


async def _two(processes: Processes) -> list[dict[str, Any]] | None:
    found = await processes.notices()
    return found if len(found) >= 2 else None


async def test_the_alert_routes_are_in_the_openapi_document_with_their_schemas(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())

    async with http.get(f"{client.url}/_public/openapi.json") as r:
        doc = await r.json()

    paths = doc["paths"]
    raise_op = paths["/api/v1/alerts"]["post"]
    body = raise_op["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["severity"] == {"enum": ["low", "medium", "high", "critical"]}
    assert "Idempotency-Key" in [p["name"] for p in raise_op.get("parameters", [])]
    ack = paths["/api/v1/alerts/{id}/acknowledge"]["post"]["responses"]
    assert ack["200"]["content"]["application/json"]["schema"]["properties"]["status"] == {
        "const": "ACKNOWLEDGED"
    }
    assert {"400", "404"} <= set(ack)
    read = paths["/api/v1/alerts/{id}"]["get"]["responses"]["200"]
    assert (
        "RESOLVED" in read["content"]["application/json"]["schema"]["properties"]["status"]["enum"]
    )
