"""A task handed to a worker that is still finishing an earlier attempt of it.

The first test runs the real orchestrator (over the session's Redis) and a real ``Worker``: it
reproduces the incident behind it, where the orchestrator forgot a busy worker (a Redis
restart), the worker registered again, its lease was lost, and attempt 2 came back to the
same worker while attempt 1 still ran. The worker must run attempt 2, and attempt 1's late
result must not count as attempt 2's. The others use the fake orchestrator to reach the cases
where the worker cannot run a delivery and declines it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from orchestrator import BlueprintRegistry, create_app
from orchestrator.storage.redis_store import RedisStore
from tests.api.blueprints import ALL
from tests.api.conftest import CLIENT_TOKEN, WORKER_TOKEN, make_settings
from tests.conftest import delete_prefix
from tests.helpers import wait_for
from worker_sdk import TaskContext, Worker

from .conftest import StartWorker
from .conftest import wait_for as wait_until
from .fake_orchestrator import FakeOrchestrator

WORKER_ID = "w-redelivered"


@pytest.fixture
async def orchestrator(
    aiohttp_server: Any, redis_url: str, prefix: str
) -> AsyncIterator[tuple[str, RedisStore]]:
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    app = create_app(make_settings(), store, BlueprintRegistry(ALL))
    server = await aiohttp_server(app)
    try:
        yield str(server.make_url("")).rstrip("/"), store
    finally:
        await server.close()
        await delete_prefix(redis_url, prefix)


async def _job(http: aiohttp.ClientSession, base: str, job_id: str, what: str = "") -> Any:
    async with http.get(f"{base}/api/v1/jobs/{job_id}{what}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_a_redelivered_attempt_runs_while_the_old_one_finishes(
    orchestrator: tuple[str, RedisStore],
) -> None:
    base, store = orchestrator
    started: list[int] = []
    gates = {1: asyncio.Event(), 2: asyncio.Event()}
    worker = Worker(url=base, token=WORKER_TOKEN, worker_id=WORKER_ID, capacity=2)

    @worker.task("flaky")
    async def flaky(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        started.append(ctx.attempt)
        await gates[ctx.attempt].wait()  # each attempt ends when the test says so
        return {"value": ctx.attempt * 10}

    headers = {"X-Client-Token": CLIENT_TOKEN}
    async with aiohttp.ClientSession(headers=headers) as http, worker:
        async with http.post(f"{base}/api/v1/flaky", json={"initial_data": {"n": 1}}) as resp:
            assert resp.status == 202, await resp.text()
            job_id = (await resp.json())["job_id"]
        await wait_for(lambda: started == [1], 5, "attempt 1 to start")

        # The orchestrator forgets the worker, as when Redis restarted without its record: the
        # next heartbeat answers WORKER_NOT_REGISTERED, the worker registers again, and the
        # sweeper treats the lease it held from before as lost. Attempt 2 is queued.
        await store.redis.zrem(store.keys.workers_seen, WORKER_ID)
        await store.redis.hdel(store.keys.workers, WORKER_ID)

        async def leased_again() -> bool:
            task = (await _job(http, base, job_id))["task"]
            return bool(task["attempt"] == 2 and task["status"] == "leased")

        await wait_for(leased_again, 10, "attempt 2 to be leased")
        job = await _job(http, base, job_id)
        assert job["task"]["worker_id"] == WORKER_ID  # the only worker: the same one
        # the worker runs attempt 2 (it once ignored it, leaving it leased to nobody at work)
        await wait_for(lambda: started == [1, 2], 5, "attempt 2 to run beside attempt 1")

        # attempt 1 finishes late: its result names attempt 1 and is refused and recorded
        gates[1].set()

        async def dropped() -> list[Any]:
            history = await _job(http, base, job_id, "/history")
            return [e for e in history if e["type"] == "result_dropped"]

        (event,) = await wait_for(dropped, 5, "attempt 1's result to be dropped")
        assert (event["attempt"], event["worker"], event["reason"]) == (
            1,
            WORKER_ID,
            "stale_attempt",
        )
        job = await _job(http, base, job_id)
        assert (job["status"], job["task"]["attempt"]) == ("waiting_for_worker", 2)

        gates[2].set()

        async def ended() -> Any:
            job = await _job(http, base, job_id)
            return job if job["status"] == "finished" else None

        job = await wait_for(ended, 5, "the job to finish")
        assert job["result"] == {"value": 20}
        history = await _job(http, base, job_id, "/history")
        results = [e["attempt"] for e in history if e["type"] == "task_result"]
        assert results == [2]


# -- declining: the fake orchestrator reaches the cases a real one does not -----------------


async def test_a_delivery_the_worker_cannot_read_is_declined_at_once(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()

    @worker.task("echo")
    async def echo(params: dict[str, Any]) -> dict[str, Any]:
        return params

    await start_worker(worker)
    task_id = fake.enqueue("echo", params="not an object", attempt=3)  # type: ignore[arg-type]
    await wait_until(lambda: fake.declines, what="the decline")
    (decline,) = fake.declines
    assert {k: decline[k] for k in ("job_id", "task_id", "worker_id", "attempt")} == {
        "job_id": "job-" + task_id.removeprefix("task-"),
        "task_id": task_id,
        "worker_id": "w-1",
        "attempt": 3,
    }
    assert "params" in decline["reason"]
    assert fake.result_posts == []


async def test_the_same_attempt_given_to_a_cancelled_copy_is_declined(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    """A cancelled copy sends no result, so it cannot answer a delivery of its attempt."""
    worker = make_worker()
    unwound = asyncio.Event()
    runs: list[int] = []

    @worker.task("slow")
    async def slow(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        runs.append(ctx.attempt)
        try:
            await asyncio.Event().wait()
        finally:
            await unwound.wait()  # a slow clean-up: the copy stays until the test lets it go
        return {}

    await start_worker(worker)
    await wait_until(lambda: fake.sockets, what="command channel")
    task_id = fake.enqueue("slow")
    await wait_until(lambda: runs == [1], what="attempt 1 to start")
    await fake.send_cancel(task_id)
    # the same delivery again (as after a lost write), while the cancelled copy unwinds
    fake.enqueue("slow", job_id="job-" + task_id.removeprefix("task-"), task_id=task_id)

    await wait_until(lambda: fake.declines, what="the decline")
    assert [(d["task_id"], d["attempt"]) for d in fake.declines] == [(task_id, 1)]
    assert runs == [1]
    unwound.set()
    await wait_until(lambda: not worker.running_task_ids, what="the copy to end")
    assert fake.result_posts == []


async def test_the_same_attempt_handed_out_again_is_answered_by_the_running_copy(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    """The orchestrator re-leased the very attempt running here (as after a lost write): one
    run, one result naming that attempt, and nothing declined."""
    worker = make_worker()
    gate = asyncio.Event()
    runs: list[int] = []

    @worker.task("slow")
    async def slow(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        runs.append(ctx.attempt)
        await gate.wait()
        return {"attempt": ctx.attempt}

    await start_worker(worker)
    task_id = fake.enqueue("slow", attempt=2)
    await wait_until(lambda: runs == [2], what="attempt 2 to start")
    polls = len(fake.poll_params)
    fake.enqueue("slow", job_id="job-" + task_id.removeprefix("task-"), task_id=task_id, attempt=2)
    await wait_until(lambda: fake.queue.empty(), what="the second delivery to be handed out")
    # the slot is free again: the worker polls on rather than count the delivery as a run
    await wait_until(lambda: len(fake.poll_params) > polls + 1, what="the next poll")
    gate.set()
    await wait_until(lambda: task_id in fake.results, what="the result")
    assert runs == [2]
    assert [(p["task_id"], p["attempt"]) for p in fake.result_posts] == [(task_id, 2)]
    assert fake.declines == []
