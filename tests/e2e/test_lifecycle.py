"""A job through real processes: create → task → result → finished; cancel over the WebSocket."""

from __future__ import annotations

import aiohttp

from tests.e2e.conftest import OTHER_CLIENT_TOKEN, Api, Cluster
from tests.helpers import wait_for


async def test_job_runs_end_to_end(cluster: Cluster, http: aiohttp.ClientSession) -> None:
    orch = await cluster.orchestrator()
    cluster.worker(orch, "w-e2e")
    api = Api(http, orch)
    job_id = await api.create("echo", {"text": "hi"})
    job = await api.wait_status(job_id, "finished")
    assert job["result"] == {"echo": {"text": "hi"}, "worker": "w-e2e"}
    assert job["finished_at"] is not None and job["error"] is None
    # another client cannot see it
    other = Api(http, orch, OTHER_CLIENT_TOKEN)
    async with http.get(f"{orch.url}/api/v1/jobs/{job_id}", headers=other.headers) as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "JOB_NOT_FOUND"


async def test_cancel_reaches_the_running_task(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    cluster.worker(orch, "w-cancel")
    api = Api(http, orch)
    job_id = await api.create("slow", {"hang_s": 60})
    job = await wait_for(lambda: _leased(api, job_id), 20, "the task to be leased by the worker")
    task_id = job["task"]["task_id"]
    await wait_for(lambda: (cluster.marks / f"started-{task_id}-1").exists(), 20, "task start")
    answer = await api.cancel(job_id)
    assert answer["status"] == "cancellation_request_sent"
    await wait_for(
        lambda: (cluster.marks / f"cancelled-{task_id}").exists(), 10, "handler cancelled"
    )
    assert (await api.job(job_id))["status"] == "cancelled"


async def _leased(api: Api, job_id: str) -> dict[str, object] | None:
    job = await api.job(job_id)
    task = job.get("task")
    return job if task and task["status"] == "leased" else None
