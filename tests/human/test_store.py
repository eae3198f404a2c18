"""The inbox on both stores the server runs on: real Redis and the embedded one (fakeredis,
the dev mode), through the real app in this process."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from orchestrator import BlueprintRegistry, create_app
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import CLIENT_TOKEN, make_settings
from tests.human.blueprints import alert

HEADERS = {"X-Client-Token": CLIENT_TOKEN}


@pytest.fixture
async def client(aiohttp_client: Any, store: RedisStore) -> TestClient[Any, Any]:
    app = create_app(make_settings(sweep_interval_s=0.05), store, BlueprintRegistry([alert]))
    return await aiohttp_client(app)


async def _start(client: TestClient[Any, Any], data: dict[str, Any]) -> str:
    r = await client.post("/api/v1/alerts", json={"initial_data": data}, headers=HEADERS)
    assert r.status == 202, await r.text()
    return str((await r.json())["job_id"])


async def _inbox(client: TestClient[Any, Any], query: str = "") -> dict[str, Any]:
    r = await client.get(f"/api/v1/human-tasks?{query}", headers=HEADERS)
    body: dict[str, Any] = await r.json()
    assert r.status == 200, body
    return body


async def test_inbox_pages_decisions_counts_and_stream(client: TestClient[Any, Any]) -> None:
    jobs = [await _start(client, {"alert_id": str(i), "due_in": 100 + i}) for i in range(5)]
    fraud = await _start(client, {"alert_id": "f", "role": "fraud"})

    first = await _inbox(client, "limit=2")
    second = await _inbox(client, f"limit=2&cursor={first['next_cursor']}")
    third = await _inbox(client, f"limit=2&cursor={second['next_cursor']}")
    listed = [t["job_id"] for page in (first, second, third) for t in page["items"]]
    assert listed == [*jobs, fraud]  # due ones by due time, then the one with none
    assert [t["job_id"] for t in (await _inbox(client, "role=fraud"))["items"]] == [fraud]

    r = await client.post(
        f"/api/v1/jobs/{jobs[0]}/decision",
        json={"decision": "acknowledge", "actor": "ana"},
        headers=HEADERS,
    )
    assert r.status == 200, await r.text()
    assert jobs[0] not in [t["job_id"] for t in (await _inbox(client))["items"]]

    r = await client.get("/api/v1/dashboard", headers=HEADERS)
    assert (await r.json())["human_tasks"]["by_role"] == {
        "compliance": {"waiting": 4, "overdue": 0},
        "fraud": {"waiting": 1, "overdue": 0},
    }

    r = await client.get(
        "/api/v1/human-tasks/events?wait=0", headers={**HEADERS, "Last-Event-ID": "0-0"}
    )
    text = await r.text()
    assert r.status == 200, text
    kinds = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event")]
    assert kinds == ["added"] * 6 + ["removed"]
    ids = [line.removeprefix("id: ") for line in text.splitlines() if line.startswith("id: ")]
    r = await client.get(
        "/api/v1/human-tasks/events?wait=0&role=fraud", headers={**HEADERS, "Last-Event-ID": ids[0]}
    )
    assert (await r.text()).count("event: added") == 1  # the fraud one, after the first
