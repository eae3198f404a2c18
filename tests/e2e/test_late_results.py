"""A late result for an attempt that lost its lease must not complete the job (issue 7 §3).

Real processes: an orchestrator, one or two workers, and the session's Redis. The incident:
the orchestrator forgot a busy worker (a Redis restart lost its record), the worker registered
again, so its lease was lost and the task queued as attempt 2; attempt 1 then finished late.
Its result must be refused and recorded as dropped, whoever holds attempt 2, and attempt 2's
result must be the one that completes the job.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from orchestrator.storage.keys import Keys
from tests.e2e.conftest import Api, Cluster, result_posts, takes_results, task_results
from tests.helpers import wait_for

BLUEPRINTS = "tests.e2e.attempts"
WORKER = "tests.e2e.attempts:worker"


async def _forget_worker(cluster: Cluster, worker_id: str) -> None:
    """What a Redis restart that lost the worker's record does: its next heartbeat is answered
    ``WORKER_NOT_REGISTERED``, it registers again, and the leases it held count as lost."""
    keys = Keys(cluster.prefix)
    redis = aioredis.Redis.from_url(cluster.redis_url)
    try:
        await redis.zrem(keys.workers_seen, worker_id)
        await redis.hdel(keys.workers, worker_id)
    finally:
        await redis.aclose()


async def _history(api: Api, job_id: str) -> list[dict[str, Any]]:
    async with api.session.get(
        f"{api.base}/api/v1/jobs/{job_id}/history", headers=api.headers
    ) as r:
        assert r.status == 200, await r.text()
        return list(await r.json())


@pytest.mark.parametrize("attempt_2_goes_to", ["the same worker", "another worker"])
async def test_a_late_result_of_a_lost_attempt_does_not_complete_the_job(
    cluster: Cluster, http: aiohttp.ClientSession, attempt_2_goes_to: str
) -> None:
    orch = await cluster.orchestrator(blueprints=BLUEPRINTS)
    api = Api(http, orch)
    same = attempt_2_goes_to == "the same worker"
    # With room for two tasks the first worker takes attempt 2 itself; with one, it is busy
    # with attempt 1 and only the second worker polls.
    cluster.worker(orch, "w-first", capacity=2 if same else 1, target=WORKER)
    job_id = await api.create("gated", {"max_wait_s": 60})

    async def first_started() -> bool:
        task = (await api.job(job_id)).get("task") or {}
        return bool(
            task.get("task_id") and (cluster.marks / f"started-{task['task_id']}-1").exists()
        )

    await wait_for(first_started, 20, "attempt 1 to start")
    task_id = (await api.job(job_id))["task"]["task_id"]
    holder = "w-first" if same else "w-second"
    if not same:
        cluster.worker(orch, "w-second", target=WORKER)

    await _forget_worker(cluster, "w-first")

    async def leased_again() -> bool:
        task = (await api.job(job_id))["task"]
        return bool(task["attempt"] == 2 and task["status"] == "leased")

    await wait_for(leased_again, 20, "attempt 2 to be leased")
    assert (await api.job(job_id))["task"]["worker_id"] == holder

    # attempt 1 finishes now, late: its result must not be taken for attempt 2's
    (cluster.marks / f"go-{task_id}-1").touch()

    async def settled() -> dict[str, Any] | None:
        job = await api.job(job_id)
        dropped = [e for e in await _history(api, job_id) if e["type"] == "result_dropped"]
        return job if dropped or job["status"] != "waiting_for_worker" else None

    job = await wait_for(settled, 20, "attempt 1's late result to be dropped")
    assert job["status"] == "waiting_for_worker", f"the late result moved the job: {job}"
    assert (job["task"]["attempt"], job["task"]["worker_id"]) == (2, holder)
    (dropped,) = [e for e in await _history(api, job_id) if e["type"] == "result_dropped"]
    assert (dropped["attempt"], dropped["worker"]) == (1, "w-first"), dropped
    # It went on w-first's WebSocket, and its refusal there was final, as over HTTP: logged
    # and dropped, not sent again over HTTP.
    await takes_results(cluster, "w-first")
    counts = await task_results(http, orch)
    assert (counts["websocket refused"], counts["http refused"]) == (1, 0), counts
    log = (cluster.tmp / "worker-w-first.log").read_text()
    assert "dropped: worker no longer holds it (HTTP 409 TASK_NOT_HELD" in log, log
    assert "over HTTP" not in log, log
    assert result_posts(orch) == []

    # attempt 2 really runs, on the worker that holds it, and its result completes the job
    await wait_for(
        lambda: (cluster.marks / f"started-{task_id}-2").exists(), 20, "attempt 2 to start"
    )
    assert (cluster.marks / f"started-{task_id}-2").read_text() == holder
    (cluster.marks / f"go-{task_id}-2").touch()
    job = await api.wait_status(job_id, "finished", timeout=20)
    assert job["result"] == {"worker": holder, "attempt": 2}
    results = [
        (e["attempt"], e["worker"])
        for e in await _history(api, job_id)
        if e["type"] == "task_result"
    ]
    assert results == [(2, holder)]
