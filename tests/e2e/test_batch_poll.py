"""A worker with k free slots fills them from one long-poll (``?max=k``), real processes."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.e2e.conftest import Api, Cluster
from tests.helpers import wait_for

K = 4


async def _history(api: Api, job_id: str) -> list[dict[str, Any]]:
    async with api.session.get(
        f"{api.base}/api/v1/jobs/{job_id}/history", headers=api.headers
    ) as r:
        assert r.status == 200, await r.text()
        return list(await r.json())


async def test_a_worker_with_k_free_slots_runs_k_tasks_from_one_poll(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator(ORCH_LEASE_S="10")
    api = Api(http, orch)
    jobs = [await api.create("hold", {"hold_on": ["w-batch"]}) for _ in range(K)]
    cluster.worker(orch, "w-batch", capacity=K)

    async def all_running() -> bool:
        return len(list(cluster.marks.glob("held-*-w-batch"))) == K

    await wait_for(all_running, 30, f"{K} tasks running at once")
    leases = [
        [e for e in await _history(api, job_id) if e["type"] == "task_leased"] for job_id in jobs
    ]
    assert all(len(leased) == 1 and leased[0]["worker"] == "w-batch" for leased in leases)
    # One claim script call stamps its whole batch with one time; one poll a task would not.
    assert len({leased[0]["at"] for leased in leases}) == 1, leases

    for job_id in jobs:
        task_id = (await api.job(job_id))["task"]["task_id"]
        (cluster.marks / f"go-{task_id}").touch()
    for job_id in jobs:
        assert (await api.wait_status(job_id, "finished"))["result"]["worker"] == "w-batch"
