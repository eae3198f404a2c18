"""A task leased to a live worker that never received it is handed out again.

The claim that leases a task to a polling worker is one script in Redis; the answer that
delivers it is written afterwards. An orchestrator killed in between (or a Redis killed after
the script's write reached its append-only file, before its reply went out) leaves the task
leased to a worker that never saw it. That worker's heartbeats kept every lease of it alive,
and its heartbeats say which tasks it runs: this one is not among them, and it must not stay
leased for as long as the worker lives.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import redis.asyncio as aioredis

from orchestrator.storage.redis_store import RedisStore
from tests.e2e.conftest import WORKER_TOKEN, Api, Cluster, Orchestrator

HEADERS = {"X-Worker-Token": WORKER_TOKEN}
STRANDED = "w-stranded"


async def _beat(http: aiohttp.ClientSession, orch: Orchestrator) -> None:
    """What a live SDK worker that never got the task sends: it runs nothing."""
    url = f"{orch.url}/_worker/workers/{STRANDED}"
    while True:
        async with http.patch(url, json={"load": 0, "running_tasks": []}, headers=HEADERS) as r:
            assert r.status == 200, await r.text()
        await asyncio.sleep(0.1)  # the heartbeat's pace, not a wait for an outcome


async def _claim_undelivered(cluster: Cluster) -> bytes:
    """The claim the killed process made for the worker's poll, whose answer never left."""
    store = RedisStore(aioredis.Redis.from_url(cluster.redis_url), cluster.prefix)
    try:
        await store.scripts.load(store.redis)
        (payload,) = (await store.claim_many("echo", STRANDED, 1.0, 1)).payloads
        return payload
    finally:
        await store.close()


async def test_a_lease_its_live_worker_does_not_run_is_lost(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    api = Api(http, orch)
    async with http.post(
        f"{orch.url}/_worker/workers/register",
        json={"worker_id": STRANDED, "supported_skills": ["echo"]},
        headers=HEADERS,
    ) as r:
        assert r.status == 200, await r.text()
    beating = asyncio.create_task(_beat(http, orch))
    try:
        job_id = await api.create("echo", {"n": 1})  # no worker polls: it waits in its queue
        assert await _claim_undelivered(cluster)
        assert (await api.job(job_id))["task"]["worker_id"] == STRANDED

        cluster.worker(orch, "w-rescuer")
        job = await api.wait_status(job_id, "finished", timeout=20)
        assert job["result"]["worker"] == "w-rescuer"
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
