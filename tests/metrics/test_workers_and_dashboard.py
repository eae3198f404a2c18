"""GET /api/v1/workers and the worker gauges; workers drop out by TTL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.api.conftest import Api, MakeApi, client_headers, worker_headers
from tests.helpers import wait_for
from tests.metrics.conftest import scrape


async def list_workers(api: Api) -> list[dict[str, Any]]:
    resp = await api.client.get("/api/v1/workers", headers=client_headers())
    body = await resp.json()
    assert resp.status == 200, body
    assert isinstance(body, list), body
    return body


async def test_live_workers_are_listed_with_their_load(api: Api) -> None:
    resp = await api.client.post(
        "/_worker/workers/register",
        json={"worker_id": "w1", "supported_skills": ["greet"], "capacity": 4, "tags": ["gpu"]},
        headers=worker_headers(),
    )
    assert resp.status == 200, await resp.text()
    await api.register("w2", skills=("flaky", "greet"))
    resp = await api.heartbeat("w1", {"load": 2})
    assert resp.status == 200, await resp.text()

    workers = await list_workers(api)

    assert [w["worker_id"] for w in workers] == ["w1", "w2"]
    w1 = workers[0]
    assert {k: w1[k] for k in ("supported_skills", "capacity", "load", "tags")} == {
        "supported_skills": ["greet"],
        "capacity": 4,
        "load": 2,
        "tags": ["gpu"],
    }
    assert set(w1) == {
        "worker_id",
        "supported_skills",
        "capacity",
        "load",
        "tags",
        "labels",
        "draining",
        "registered_at",
        "last_heartbeat",
    }
    heartbeat = datetime.fromisoformat(w1["last_heartbeat"])
    assert heartbeat >= datetime.fromisoformat(w1["registered_at"])
    assert workers[1]["load"] == 0
    m = await scrape(api)
    assert m.value("orchestrator_workers_active") == 2
    assert m.value("orchestrator_workers_busy") == 1
    assert m.value("orchestrator_workers_draining") == 0


async def test_a_silent_worker_drops_out_after_its_ttl(make_api: MakeApi) -> None:
    api = await make_api(worker_ttl_s=0.3)
    await api.register("w1")
    assert [w["worker_id"] for w in await list_workers(api)] == ["w1"]

    async def gone() -> bool:
        return await list_workers(api) == []

    await wait_for(gone, timeout=5.0, what="w1 to drop out")
    m = await scrape(api)
    assert m.value("orchestrator_workers_active") == 0
    resp = await api.client.get("/api/v1/dashboard", headers=client_headers())
    assert (await resp.json())["workers"] == {"active": 0, "busy": 0, "draining": 0}


async def test_dashboard_of_an_empty_deployment(api: Api) -> None:
    resp = await api.client.get("/api/v1/dashboard", headers=client_headers())

    assert resp.status == 200
    assert await resp.json() == {
        "jobs": {},
        "queues": {},
        "queue_oldest_s": {},
        "unroutable": [],
        "workers": {"active": 0, "busy": 0, "draining": 0},
        "finished": {"last_minute": 0, "last_hour": 0},
        "finished_per_minute": [0] * 60,
        "human_tasks": {"waiting": 0, "overdue": 0, "by_role": {}},
    }


async def test_workers_and_dashboard_need_a_client_token(api: Api) -> None:
    for path in ("/api/v1/workers", "/api/v1/dashboard"):
        resp = await api.client.get(path)
        assert resp.status == 401, path


async def test_a_worker_is_listed_with_what_it_told_about_itself(api: Api) -> None:
    """Seed 002 registers "a full description of the worker (ID, skills, resources, etc.)";
    docs/api.md: fields besides the known ones are kept and shown by GET /api/v1/workers."""
    body = {
        "worker_id": "w-gpu",
        "supported_skills": ["video_processing"],
        "resources": {"gpu": 1, "ram_gb": 16},
        "version": "1.2.0",
        "registered_at": "a worker cannot set this",
        "last_heartbeat": "nor this",
    }
    resp = await api.client.post("/_worker/workers/register", json=body, headers=worker_headers())
    assert resp.status == 200, await resp.text()
    resp = await api.heartbeat("w-gpu", {"status": "busy", "load": 1, "running_tasks": ["t-1"]})
    assert resp.status == 200, await resp.text()

    [worker] = await list_workers(api)

    assert worker["resources"] == {"gpu": 1, "ram_gb": 16}
    assert (worker["version"], worker["status"], worker["load"]) == ("1.2.0", "busy", 1)
    for field in ("registered_at", "last_heartbeat"):
        datetime.fromisoformat(worker[field])  # the orchestrator's, not the worker's
    assert "running_tasks" not in worker and "running_at" not in worker
