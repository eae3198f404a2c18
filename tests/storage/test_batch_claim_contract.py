"""``claim_many``: several tasks in one claim, over every backend (one script call on one
Redis and on the embedded server, a claim after another on Cluster)."""

from __future__ import annotations

from typing import Any

from orchestrator.engine.model import Job, TaskStatus
from orchestrator.storage.queues import Claimed, Throttled
from orchestrator.storage.redis_store import RedisStore
from tests.storage import stored as shared
from tests.storage.stored import next_millisecond, payload_of

TYPE = "batch"
GPU = {"tags": ["gpu"]}


async def stored(store: RedisStore, job_id: str, *args: Any, **kwargs: Any) -> Job:
    job = await shared.stored(store, job_id, *args, task_type=TYPE, **kwargs)
    next_millisecond()  # ready in this order
    return job


async def test_a_batch_takes_the_best_entries_in_order_each_leased(store: RedisStore) -> None:
    low = await stored(store, "low", priority=0)
    first = await stored(store, "first", priority=5)
    second = await stored(store, "second", priority=5)
    top = await stored(store, "top", priority=9)

    found = await store.claim_many(TYPE, "w1", 30.0, 3)

    assert found == Claimed(3, [payload_of(j) for j in (top, first, second)])
    assert not found.emptied
    for job_id in ("top", "first", "second"):
        job = await store.load(job_id)
        assert job is not None and job.task is not None
        assert (job.task.status, job.task.worker) == (TaskStatus.LEASED, "w1")
    assert await store.in_flight([TYPE]) == {TYPE: 3}
    assert await store.claim_many(TYPE, "w1", 30.0, 3) == Claimed(3, [payload_of(low)])
    assert (await store.claim_many(TYPE, "w1", 30.0, 3)).emptied


async def test_a_batch_takes_from_the_requirement_queues_met(store: RedisStore) -> None:
    plain, gpu = await stored(store, "plain"), await stored(store, "gpu", GPU)
    routes = store.routes_met(TYPE, frozenset({"gpu"}), frozenset())

    assert (await store.claim_many(TYPE, "cpu", 30.0, 5)).payloads == [payload_of(plain)]
    assert (await store.claim_many(TYPE, "gpu", 30.0, 5, routes=routes)).payloads == [
        payload_of(gpu)
    ]


async def test_a_batch_stops_at_max_in_flight(store: RedisStore) -> None:
    jobs = [await stored(store, job_id) for job_id in "abcd"]

    found = await store.claim_many(TYPE, "w1", 30.0, 4, max_in_flight=3)

    assert found == Claimed(4, [payload_of(j) for j in jobs[:3]], Throttled("max_in_flight", 0))
    assert not found.emptied
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 1


async def test_a_batch_spends_one_token_a_task(store: RedisStore) -> None:
    jobs = [await stored(store, job_id) for job_id in "abc"]

    found = await store.claim_many(TYPE, "w1", 30.0, 3, max_per_second=2.0)

    assert found.payloads == [payload_of(j) for j in jobs[:2]]
    assert found.stop is not None and found.stop.reason == "max_per_second"
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 1


async def test_a_batch_goes_past_stale_entries(store: RedisStore) -> None:
    # more stale entries than one claim_lease.lua call gives up on (16), between live ones
    first = await stored(store, "first")
    ghosts = {f"ghost{i}|ghost{i}.1|1|9": 0 for i in range(20)}
    score = int(
        await store.redis.zscore(store.keys.ready(TYPE), first.task.ref if first.task else "")
    )
    await store.redis.zadd(store.keys.ready(TYPE), {g: score + 1 for g in ghosts})
    last = await stored(store, "last")

    found = await store.claim_many(TYPE, "w1", 30.0, 5)

    assert found == Claimed(5, [payload_of(first), payload_of(last)])
    assert found.emptied
    assert await store.in_flight([TYPE]) == {TYPE: 2}


async def test_a_batch_leaves_a_stale_entry_another_delivery_holds(store: RedisStore) -> None:
    # The ghost's lease entry may be a live delivery's: a batch that finds it stale must not
    # take it out of the leases, nor move its deadline.
    live = await stored(store, "live")
    ghost = "ghost|ghost.1|1|9"
    score = int(
        await store.redis.zscore(store.keys.ready(TYPE), live.task.ref if live.task else "")
    )
    await store.redis.zadd(store.keys.ready(TYPE), {ghost: score - 1})
    await store.redis.zadd(store.keys.leases(TYPE), {ghost: 12345})

    found = await store.claim_many(TYPE, "w1", 30.0, 3)

    assert found.payloads == [payload_of(live)]
    assert await store.redis.zscore(store.keys.leases(TYPE), ghost) == 12345
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
