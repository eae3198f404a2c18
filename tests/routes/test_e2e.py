"""Declared routes end to end: a real orchestrator process serving the route blueprints
(Python and YAML) over the test's Redis, and a real worker process running their task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import CLIENT_TOKEN, Cluster, Orchestrator, cluster  # noqa: F401

BLUEPRINTS = f"tests.routes.blueprints,{Path(__file__).with_name('alert.yaml')}"
AUTH = {"Authorization": f"Bearer {CLIENT_TOKEN}"}
GOOD = {"task_uuid": "t-1", "notes": "ok", "isCall": True}


@pytest.fixture
async def orch(cluster: Cluster) -> AsyncIterator[Orchestrator]:  # noqa: F811
    served = await cluster.orchestrator(blueprints=BLUEPRINTS)
    cluster.worker(served, "mailer", target="tests.routes.workers:worker")
    yield served


async def post(orch: Orchestrator, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{orch.url}{path}", headers=AUTH, **kwargs) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_start_route_answers_the_workers_result(orch: Orchestrator) -> None:
    status, body = await post(orch, "/api/v1/validate-thing", json=GOOD)
    assert (status, body) == (
        200,
        {
            "success": True,
            "code": "OK",
            "details": {"task_uuid": "t-1", "sent_to": ["op@example.com", "mailer@example.com"]},
        },
    )


async def test_a_multipart_start_route_answers_the_workers_result(orch: Orchestrator) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in {"task_uuid": "t-2", "notes": "form", "isCall": "false"}.items():
        form.add_field(name, value)
    status, body = await post(orch, "/api/v1/validate-thing", data=form)
    assert status == 200, body
    assert body["details"]["task_uuid"] == "t-2"


async def test_a_worker_failure_answers_its_mapped_status(orch: Orchestrator) -> None:
    status, body = await post(orch, "/api/v1/validate-thing", json={**GOOD, "task_uuid": "fail"})
    assert (status, body) == (
        502,
        {
            "success": False,
            "code": "EMAIL_SEND_ERROR",
            "message": "sending to op@example.com failed",
        },
    )


async def test_missing_fields_and_auth_in_the_seed_shape(orch: Orchestrator) -> None:
    status, body = await post(orch, "/api/v1/validate-thing", json={"notes": "x"})
    assert (status, body["code"]) == (400, "MISSING_FIELDS")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{orch.url}/api/v1/validate-thing", json=GOOD) as resp,
    ):
        assert resp.status == 401
        assert (await resp.json())["code"] == "MISSING_AUTH_HEADER"


@pytest.mark.parametrize("base", ["/api/v1/route-alerts", "/api/v1/yaml-alerts"])
async def test_an_alert_acknowledged_once(orch: Orchestrator, base: str) -> None:
    status, body = await post(orch, base, json={"id": "e2e-alert", "severity": "low"})
    assert (status, body["job_id"]) == (202, "e2e-alert")
    status, body = await post(orch, f"{base}/e2e-alert/acknowledge")
    assert (status, body["status"]) == (200, "ACKNOWLEDGED")
    status, body = await post(orch, f"{base}/e2e-alert/acknowledge")
    assert (status, body["currentStatus"]) == (400, "ACKNOWLEDGED")
    status, body = await post(orch, f"{base}/nobody/acknowledge")
    assert (status, body) == (404, {"error": "Alert not found", "alertId": "nobody"})
