"""GET /_worker/workers/{id}/tasks/next?max=N: several tasks in one long-poll."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from aiohttp import ClientResponse

from orchestrator.api.drain import DRAINING
from orchestrator.appkeys import DISPATCHER
from orchestrator.config import TaskLimit
from orchestrator.engine.model import TaskStatus
from orchestrator.storage.queues import Claimed
from tests.api.conftest import Api, MakeApi, assert_error, worker_headers
from tests.helpers import wait_for
from worker_sdk.protocol import TaskBatch


async def _poll(api: Api, worker_id: str, most: int | str, timeout: float = 1.0) -> ClientResponse:
    return await api.client.get(
        f"/_worker/workers/{worker_id}/tasks/next",
        params={"timeout": str(timeout), "max": str(most)},
        headers=worker_headers(),
    )


async def _batch(api: Api, worker_id: str, most: int, timeout: float = 1.0) -> list[Any]:
    resp = await _poll(api, worker_id, most, timeout)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert list(body) == ["tasks"]
    msgspec.convert(body, TaskBatch)  # the shape the SDK and the OpenAPI document share
    return list(body["tasks"])


async def _task_of(api: Api, job_id: str) -> tuple[TaskStatus, str | None]:
    job = await api.store.load(job_id)
    assert job is not None and job.task is not None
    return job.task.status, job.task.worker


async def _ready(api: Api, task_type: str = "greet") -> int:
    return int(await api.store.redis.zcard(api.store.keys.ready(task_type)))


@pytest.mark.parametrize("store_kind", ["redis", "embedded"])
async def test_queued_tasks_come_in_one_poll_each_leased(api: Api) -> None:
    jobs = [await api.create() for _ in range(5)]
    await api.register("batcher")

    tasks = await _batch(api, "batcher", 8)

    assert sorted(t["job_id"] for t in tasks) == sorted(jobs)
    # each exactly the single form's task object
    assert all(set(t) == {"job_id", "task_id", "task_type", "params", "attempt",
                          "max_attempts", "timeout_s"} for t in tasks)  # fmt: skip
    for t in tasks:
        assert await _task_of(api, t["job_id"]) == (TaskStatus.LEASED, "batcher")
    assert await _ready(api) == 0
    # ... and each one's result is taken
    for t in tasks:
        assert (await api.result(t, "batcher", data={"greeting": "hi"})).status == 200


async def test_max_is_honoured(api: Api) -> None:
    for _ in range(5):
        await api.create()
    await api.register("batcher")

    assert len(await _batch(api, "batcher", 3)) == 3
    assert len(await _batch(api, "batcher", 3)) == 2
    assert (await _poll(api, "batcher", 3, timeout=0.05)).status == 204


async def test_without_max_or_with_max_1_the_answer_is_one_task_object(api: Api) -> None:
    first, second = await api.create(), await api.create()
    await api.register("single")

    resp = await api.poll("single", timeout=1)
    assert resp.status == 200
    assert (await resp.json())["job_id"] == first
    resp = await _poll(api, "single", 1)
    assert resp.status == 200
    assert (await resp.json())["job_id"] == second
    assert (await _poll(api, "single", 1, timeout=0.05)).status == 204


@pytest.mark.parametrize("most", ["0", "65", "-1", "two", "1.5"])
async def test_a_bad_max_is_400(api: Api, most: str) -> None:
    await api.register("odd")
    err = await assert_error(await _poll(api, "odd", most), 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == "max"


async def test_a_parked_batch_poll_takes_the_first_task_then_what_is_ready(
    make_api: MakeApi,
) -> None:
    api = await make_api(poll_timeout_s=10.0)
    await api.register("parked", ["greet", "review"])
    poll = asyncio.create_task(_poll(api, "parked", 4, timeout=10))
    try:
        await wait_for(lambda: api.app[DISPATCHER].waiting == 1, what="the poll to park")
        job_id = await api.create()
        resp = await asyncio.wait_for(poll, 5)
        assert resp.status == 200
        assert [t["job_id"] for t in (await resp.json())["tasks"]] == [job_id]
    finally:
        poll.cancel()


@pytest.mark.parametrize("store_kind", ["redis", "embedded"])
async def test_max_in_flight_is_honoured_in_a_batch(make_api: MakeApi) -> None:
    api = await make_api(task_types={"greet": TaskLimit(max_in_flight=2)})
    for _ in range(5):
        await api.create()
    await api.register("batcher")

    tasks = await _batch(api, "batcher", 5)

    assert len(tasks) == 2
    assert await _ready(api) == 3
    assert (await _poll(api, "batcher", 5, timeout=0.05)).status == 204
    await api.result(tasks[0], "batcher", data={"greeting": "hi"})
    assert len(await _batch(api, "batcher", 5)) == 1


async def test_max_per_second_is_honoured_in_a_batch(make_api: MakeApi) -> None:
    # a bucket of 1 token, refilled each 10 s: one task now, whatever the batch asks
    api = await make_api(task_types={"greet": TaskLimit(max_per_second=0.1)})
    for _ in range(3):
        await api.create()
    await api.register("batcher")

    assert len(await _batch(api, "batcher", 3)) == 1
    assert await _ready(api) == 2


async def _hold_claims(api: Api) -> tuple[asyncio.Event, asyncio.Event, list[Claimed]]:
    """Claims wait for the returned ``release`` (``entered`` once one waits), so that the
    test can act while a poll is between its wake-up and its answer; what they leased is
    listed."""
    store = api.store
    real = store.claim_many
    entered, release = asyncio.Event(), asyncio.Event()
    claimed: list[Claimed] = []

    async def held(*args: Any, **kwargs: Any) -> Claimed:
        entered.set()
        await release.wait()
        claimed.append(await real(*args, **kwargs))
        return claimed[-1]

    store.claim_many = held  # type: ignore[method-assign]
    return entered, release, claimed


async def test_a_hung_up_poll_gives_its_whole_batch_back(make_api: MakeApi) -> None:
    # long leases: the tasks come back by the give-back, not by their leases running out
    api = await make_api(poll_timeout_s=10.0, lease_s=30.0)
    jobs = [await api.create() for _ in range(3)]
    await api.register("leaving")
    await api.register("other")
    entered, release, claimed = await _hold_claims(api)
    poll = asyncio.create_task(_poll(api, "leaving", 5, timeout=10))
    await asyncio.wait_for(entered.wait(), 5)

    poll.cancel()  # the worker hangs up while its claim runs
    await asyncio.gather(poll, return_exceptions=True)
    release.set()

    await wait_for(lambda: claimed, 5, "the claim")
    assert len(claimed[0].payloads) == 3  # the whole batch was leased to the gone poll ...
    await wait_for(lambda: _all_queued(api, jobs), 5, "all three tasks back")  # ... and back
    assert sorted(t["job_id"] for t in await _batch(api, "other", 5)) == sorted(jobs)


async def _all_queued(api: Api, jobs: list[str]) -> bool:
    tasks = [await _task_of(api, job_id) for job_id in jobs]
    return tasks == [(TaskStatus.QUEUED, None)] * len(jobs) and await _ready(api) == len(jobs)


async def test_a_worker_drained_while_it_waited_gives_its_whole_batch_back(
    make_api: MakeApi,
) -> None:
    # long leases: the tasks come back by the give-back, not by their leases running out
    api = await make_api(poll_timeout_s=10.0, lease_s=30.0)
    jobs = [await api.create() for _ in range(3)]
    await api.register("drained")
    await api.register("other")
    entered, release, claimed = await _hold_claims(api)
    poll = asyncio.create_task(_poll(api, "drained", 5, timeout=10))
    await asyncio.wait_for(entered.wait(), 5)

    api.app[DRAINING].add("drained")
    release.set()

    await assert_error(await asyncio.wait_for(poll, 5), 409, "WORKER_DRAINING")
    assert len(claimed[0].payloads) == 3
    assert await _all_queued(api, jobs)
    assert sorted(t["job_id"] for t in await _batch(api, "other", 5)) == sorted(jobs)
